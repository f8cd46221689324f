// The TLS WsEngine (websocketpp's asio_tls config with our socket policy,
// ws_tls_socket.hpp): a unit of its own so that it compiles beside the plain
// one (ws_server.cpp).
#include "net/ws_tls_socket.hpp"

#include "net/ws_engine.hpp"

namespace moolai::host {

std::unique_ptr<WsServer::Impl> make_tls_ws_engine(WsServer* self, WsOptions options) {
    return std::make_unique<ws_detail::WsEngine<ws_tls::ServerConfig>>(self, std::move(options));
}

}  // namespace moolai::host
