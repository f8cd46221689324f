#include "net/tls_front.hpp"

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>

#include "net/tls.hpp"

namespace moolai::host {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// How long a connection whose server side ended waits for the client's
// close_notify after sending ours (the client has its answer already).
constexpr std::chrono::milliseconds kShutdownGrace{1000};
constexpr std::chrono::milliseconds kAcceptBackoff{100};  // after EMFILE and the like

}  // namespace

struct TlsFront::Impl {
    explicit Impl(TlsFrontOptions o) : opt(std::move(o)) {}

    TlsFrontOptions opt;
    // Declared before the io_context: relays forget their client here when
    // the io_context destroys them.
    mutable std::mutex clients_m;
    std::unordered_map<uint16_t, Client> clients;
    std::atomic<uint64_t> failures{0}, accept_errors{0};
    std::atomic<uint16_t> bound{0};
    asio::ssl::context ctx{asio::ssl::context::tls_server};
    std::unique_ptr<asio::io_context> io = std::make_unique<asio::io_context>(1);
    std::optional<tcp::acceptor> acceptor;
    std::optional<asio::steady_timer> backoff;
    std::thread thread;
    bool started = false;

    void log(int level, const std::string& line) const {
        if (opt.logger) opt.logger(level, line);
    }
    void remember(uint16_t port, Client c) {
        std::lock_guard<std::mutex> lk(clients_m);
        clients[port] = std::move(c);
    }
    void forget(uint16_t port) {
        std::lock_guard<std::mutex> lk(clients_m);
        clients.erase(port);
    }
    void accept();
};

namespace {

// One client: its TLS handshake (bounded), then bytes both ways between it
// and one plain connection to the inner server. Lives as long as a handler
// holds it; everything runs on the front's one io thread.
struct Relay : std::enable_shared_from_this<Relay> {
    using Impl = TlsFront::Impl;

    Relay(Impl& front, tcp::socket s)
        : f(front), client(std::move(s), front.ctx), inner(*front.io), timer(*front.io) {}
    ~Relay() {
        if (mapped != 0) f.forget(mapped);
    }

    void start() {
        error_code ec;
        const tcp::endpoint from = client.next_layer().remote_endpoint(ec);
        if (ec) return;  // already gone
        peer = TlsFront::Client{from.address().to_string(), from.port()};
        auto self = shared_from_this();
        timer.expires_after(std::chrono::milliseconds(f.opt.handshake_timeout_ms));
        timer.async_wait([self](const error_code& e) {
            if (e || self->handshaken) return;
            self->timed_out = true;
            self->f.failures.fetch_add(1, std::memory_order_relaxed);
            self->close();
        });
        client.async_handshake(asio::ssl::stream_base::server, [self](const error_code& e) {
            if (e) {
                if (!self->timed_out) self->f.failures.fetch_add(1, std::memory_order_relaxed);
                self->close();
                return;
            }
            self->handshaken = true;
            self->timer.cancel();
            self->connect_inner();
        });
    }

private:
    void connect_inner() {
        auto self = shared_from_this();
        inner.async_connect(
            tcp::endpoint(asio::ip::address_v4::loopback(), f.opt.inner_port),
            [self](const error_code& e) {
                if (e) {
                    self->f.log(kNetWarn,
                                "https: cannot reach the REST server on loopback: " + e.message());
                    self->close();
                    return;
                }
                error_code ec;
                inner_no_delay(self->inner);
                const uint16_t local = self->inner.local_endpoint(ec).port();
                if (ec) return self->close();
                // Known before the first byte reaches the inner server.
                self->mapped = local;
                self->f.remember(local, self->peer);
                self->client_to_inner();
                self->inner_to_client();
            });
    }

    static void inner_no_delay(tcp::socket& s) {
        error_code ignored;
        s.set_option(tcp::no_delay(true), ignored);
    }

    void client_to_inner() {
        auto self = shared_from_this();
        reading_client = true;
        client.async_read_some(asio::buffer(up), [self](const error_code& e, size_t n) {
            self->reading_client = false;
            if (self->server_done) return self->shutdown_client();
            if (e) {  // the client is done (close_notify, EOF) or gone
                error_code ignored;
                self->inner.shutdown(tcp::socket::shutdown_send, ignored);
                return;
            }
            self->writing_inner = true;
            asio::async_write(self->inner, asio::buffer(self->up, n),
                              [self](const error_code& w, size_t) {
                                  self->writing_inner = false;
                                  if (w) return self->close();
                                  if (self->server_done) return self->shutdown_client();
                                  self->client_to_inner();
                              });
        });
    }

    void inner_to_client() {
        auto self = shared_from_this();
        inner.async_read_some(asio::buffer(down), [self](const error_code& e, size_t n) {
            if (e) {  // the server closed (keep-alive over, or Connection: close)
                self->server_done = true;
                if (self->reading_client) {
                    // Its handler sends close_notify: one read at a time on
                    // a TLS stream.
                    error_code ignored;
                    self->client.next_layer().cancel(ignored);
                } else if (!self->writing_inner) {
                    self->shutdown_client();
                }
                return;
            }
            asio::async_write(self->client, asio::buffer(self->down, n),
                              [self](const error_code& w, size_t) {
                                  if (w) return self->close();
                                  self->inner_to_client();
                              });
        });
    }

    // Sends close_notify; the client has its answers, so a client that does
    // not answer with its own is closed after a grace.
    void shutdown_client() {
        if (shutting || closed) return;
        shutting = true;
        auto self = shared_from_this();
        timer.expires_after(kShutdownGrace);
        timer.async_wait([self](const error_code& e) {
            if (!e) self->close();
        });
        client.async_shutdown([self](const error_code&) { self->close(); });
    }

    void close() {
        if (closed) return;
        closed = true;
        error_code ignored;
        timer.cancel();
        client.next_layer().close(ignored);
        inner.close(ignored);
    }

    Impl& f;
    asio::ssl::stream<tcp::socket> client;
    tcp::socket inner;
    asio::steady_timer timer;  // the handshake's deadline, then the shutdown's
    std::array<char, 16384> up{}, down{};
    TlsFront::Client peer;
    uint16_t mapped = 0;  // our local port towards the inner server; 0 = none yet
    bool handshaken = false, timed_out = false;
    bool reading_client = false, writing_inner = false;
    bool server_done = false, shutting = false, closed = false;
};

}  // namespace

void TlsFront::Impl::accept() {
    acceptor->async_accept([this](const error_code& e, tcp::socket s) {
        if (!acceptor || !acceptor->is_open() || e == asio::error::operation_aborted) return;
        if (e) {  // EMFILE and the like: pause instead of spinning
            accept_errors.fetch_add(1, std::memory_order_relaxed);
            backoff->expires_after(kAcceptBackoff);
            backoff->async_wait([this](const error_code& w) {
                if (!w) accept();
            });
            return;
        }
        error_code ignored;
        s.set_option(tcp::no_delay(true), ignored);
        std::make_shared<Relay>(*this, std::move(s))->start();
        accept();
    });
}

TlsFront::TlsFront(TlsFrontOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
    if (!impl_->opt.tls) throw std::invalid_argument("TlsFront: no TLS material");
    impl_->opt.tls->configure(impl_->ctx.native_handle());
}

TlsFront::~TlsFront() {
    stop();
}

void TlsFront::start() {
    Impl& m = *impl_;
    try {
        const tcp::endpoint at(asio::ip::make_address(m.opt.host), m.opt.port);
        m.acceptor.emplace(*m.io);
        m.acceptor->open(at.protocol());
        m.acceptor->set_option(tcp::acceptor::reuse_address(true));
        m.acceptor->bind(at);
        m.acceptor->listen(512);
        m.bound = m.acceptor->local_endpoint().port();
    } catch (const std::exception& e) {
        m.acceptor.reset();
        throw std::runtime_error(e.what());  // the caller names host:port
    }
    m.backoff.emplace(*m.io);
    m.accept();
    m.started = true;
    m.thread = std::thread([&m] {
        try {
            m.io->run();
        } catch (const std::exception& e) {
            m.log(kNetError, std::string("https front stopped: ") + e.what());
        }
    });
}

void TlsFront::stop() {
    Impl& m = *impl_;
    if (!m.started) return;
    m.started = false;
    m.io->stop();
    if (m.thread.joinable()) m.thread.join();
    m.acceptor.reset();
    m.backoff.reset();
    m.io.reset();  // destroys the relays still waiting, closing their sockets
}

uint16_t TlsFront::port() const {
    return impl_->bound.load();
}

std::optional<TlsFront::Client> TlsFront::client_of(uint16_t local_port) const {
    std::lock_guard<std::mutex> lk(impl_->clients_m);
    const auto it = impl_->clients.find(local_port);
    if (it == impl_->clients.end()) return std::nullopt;
    return it->second;
}

uint64_t TlsFront::handshake_failures() const {
    return impl_->failures.load();
}

uint64_t TlsFront::accept_errors() const {
    return impl_->accept_errors.load();
}

}  // namespace moolai::host
