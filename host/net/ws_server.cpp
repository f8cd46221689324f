// WsServer and WsConnection forward to a WsEngine (ws_engine.hpp); this unit
// instantiates the plain one, ws_server_tls.cpp the TLS one.
#include "net/ws_server.hpp"

#include "net/ws_engine.hpp"

namespace moolai::host {

std::unique_ptr<WsServer::Impl> make_plain_ws_engine(WsServer* self, WsOptions options) {
    return std::make_unique<ws_detail::WsEngine<websocketpp::config::asio>>(self,
                                                                            std::move(options));
}

WsServer::WsServer(WsOptions options, WsHandlers handlers) : WsServer(std::move(options)) {
    const std::string& path = impl_->options().path;
    if (path.empty() || path[0] != '/')
        throw std::invalid_argument("WsOptions.path must start with '/'");
    impl_->add_path(path, std::move(handlers));
}

WsServer::WsServer(WsOptions options)
    : impl_(options.tls ? make_tls_ws_engine(this, std::move(options))
                        : make_plain_ws_engine(this, std::move(options))) {}

WsServer::~WsServer() {
    stop();
}

void WsServer::start() {
    impl_->start();
}

void WsServer::stop() {
    impl_->stop();
}

void WsServer::add_path(std::string path, WsHandlers handlers) {
    impl_->add_path(std::move(path), std::move(handlers));
}

uint16_t WsServer::port() const {
    return impl_->port();
}

bool WsServer::send(ConnectionId id, std::string_view text) {
    return impl_->send(id, text);
}

void WsServer::close(ConnectionId id, uint16_t code, std::string_view reason) {
    impl_->close(id, code, reason);
}

bool WsServer::post(ConnectionId id, std::function<void(WsConnection&)> task) {
    return impl_->post(id, std::move(task));
}

size_t WsServer::connection_count() const {
    return impl_->connection_count();
}

WsStats WsServer::stats() const {
    return impl_->stats();
}

WsUpgrade WsConnection::upgrade() const {
    return server_->impl_->upgrade(*this);
}

bool WsConnection::send(std::string_view text) {
    return server_->impl_->send(*this, text);
}

void WsConnection::close(uint16_t code, std::string_view reason) {
    server_->impl_->close(*this, code, reason);
}

std::weak_ptr<WsConnection> WsConnection::handle() {
    return server_->impl_->handle(*this);
}

}  // namespace moolai::host
