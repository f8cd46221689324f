#pragma once
// A websocketpp socket policy for the TLS WebSocket server: TLS with OpenSSL
// straight on the TCP socket (ws_tls_io.hpp) instead of Asio's ssl::stream.
// Included by ws_server_tls.cpp only (it instantiates websocketpp).
//
// Why (docs/library-quirks.md, W19): Boost.Asio 1.74's ssl::stream keeps two
// zero-filled 17 KiB vectors and a 2 x 17 KiB BIO pair per connection for
// its whole life, 63 KiB more resident per idle connection than plain. Here a
// read or write hands its caller's buffer to SSL_read/SSL_write, which
// recv()/send() on the socket themselves; OpenSSL's record buffers exist only
// while a record is in flight (SSL_MODE_RELEASE_BUFFERS). When OpenSSL needs
// the socket readable or writable the operation waits with async_wait and
// tries again.
//
// The policy is websocketpp's tls_socket (websocketpp/transport/asio/security/
// tls.hpp) with the stream replaced: same handlers (tls_init_handler returns
// an asio::ssl::context, whose SSL_CTX each connection's SSL comes from), same
// error translation; at close it sends its close_notify and does not wait
// for the peer's (docs/library-quirks.md, W16). Server side only.
//
// Threads: every step of an operation runs through its handler's invocation
// hook, i.e. in the connection's strand, like the operation's completion, so
// a read, a write and a shutdown of one connection never touch its SSL at
// the same time. The server still runs one io thread (W18): more were not
// tried under load with this policy.

#include <websocketpp/common/asio.hpp>
#include <websocketpp/common/asio_ssl.hpp>  // asio::ssl::context, the handler's type
#include <websocketpp/common/connection_hdl.hpp>
#include <websocketpp/common/functional.hpp>
#include <websocketpp/common/memory.hpp>
#include <websocketpp/config/asio.hpp>
#include <websocketpp/transport/asio/security/base.hpp>
#include <websocketpp/uri.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

#include "net/ws_tls_io.hpp"

namespace moolai::host::ws_tls {

namespace asio = boost::asio;
using boost::system::error_code;

class Stream;

// One operation (handshake, read, write or shutdown) on a Stream: tries its
// Step; on Want::read/write waits for the socket and tries again; then calls
// the handler. Like Asio's own composed operations it never calls the
// handler from inside the initiating function (a zero-byte receive defers
// it), and it forwards the handler's allocation, continuation and invocation
// hooks, so websocketpp's per-connection handler memory and strand apply to
// every step.
template <class Step, class Handler>
struct IoOp {
    Stream* stream;
    Step step;
    Handler handler;
    int start = 0;
    Want want = Want::nothing;
    error_code ec;
    std::size_t done = 0;

    IoOp(Stream* s, Step st, Handler h) : stream(s), step(std::move(st)), handler(std::move(h)) {}

    void operator()(error_code wait_ec = {}, std::size_t = 0, int first = 0);
};

template <class Step, class Handler>
inline asio::asio_handler_allocate_is_deprecated asio_handler_allocate(std::size_t size,
                                                                       IoOp<Step, Handler>* op) {
    return boost_asio_handler_alloc_helpers::allocate(size, op->handler);
}

template <class Step, class Handler>
inline asio::asio_handler_deallocate_is_deprecated asio_handler_deallocate(
    void* pointer, std::size_t size, IoOp<Step, Handler>* op) {
    boost_asio_handler_alloc_helpers::deallocate(pointer, size, op->handler);
}

template <class Step, class Handler>
inline bool asio_handler_is_continuation(IoOp<Step, Handler>* op) {
    return op->start == 0 ? true : boost_asio_handler_cont_helpers::is_continuation(op->handler);
}

template <class Function, class Step, class Handler>
inline asio::asio_handler_invoke_is_deprecated asio_handler_invoke(Function& f,
                                                                   IoOp<Step, Handler>* op) {
    boost_asio_handler_invoke_helpers::invoke(f, op->handler);
}

template <class Function, class Step, class Handler>
inline asio::asio_handler_invoke_is_deprecated asio_handler_invoke(const Function& f,
                                                                   IoOp<Step, Handler>* op) {
    boost_asio_handler_invoke_helpers::invoke(f, op->handler);
}

struct HandshakeStep {
    Want operator()(void* ssl, error_code& ec, std::size_t&) const { return handshake(ssl, ec); }
    template <class H>
    static void finish(H& h, const error_code& ec, std::size_t) {
        h(ec);
    }
};

struct ShutdownStep {
    Want operator()(void* ssl, error_code& ec, std::size_t&) const { return shutdown(ssl, ec); }
    template <class H>
    static void finish(H& h, const error_code& ec, std::size_t) {
        h(ec);
    }
};

// Into the first non-empty buffer (websocketpp passes one).
struct ReadStep {
    void* data = nullptr;
    std::size_t size = 0;

    template <class Buffers>
    explicit ReadStep(const Buffers& buffers) {
        for (auto it = asio::buffer_sequence_begin(buffers);
             it != asio::buffer_sequence_end(buffers); ++it) {
            const asio::mutable_buffer b(*it);
            if (b.size() == 0) continue;
            data = b.data();
            size = b.size();
            break;
        }
    }
    Want operator()(void* ssl, error_code& ec, std::size_t& done) const {
        return read(ssl, data, size, done, ec);
    }
    template <class H>
    static void finish(H& h, const error_code& ec, std::size_t done) {
        h(ec, done);
    }
};

// websocketpp writes a frame as two buffers, header and payload: small ones
// are gathered into one record (Asio's ssl::stream made a record of each).
// The parts are fixed when the operation starts, so a retry after
// Want::write gathers the same bytes, as OpenSSL requires.
struct WriteStep {
    static constexpr std::size_t kGather = 4096;  // on the stack, per attempt
    static constexpr std::size_t kMaxParts = 4;
    std::array<asio::const_buffer, kMaxParts> parts{};
    std::size_t count = 0;
    std::size_t total = 0;

    template <class Buffers>
    explicit WriteStep(const Buffers& buffers) {
        for (auto it = asio::buffer_sequence_begin(buffers);
             it != asio::buffer_sequence_end(buffers) && count < kMaxParts; ++it) {
            const asio::const_buffer b(*it);
            if (b.size() == 0) continue;
            if (count == 0 && b.size() >= kGather) {  // large: straight from the caller
                parts[count++] = b;
                total = b.size();
                break;
            }
            const std::size_t take = std::min(b.size(), kGather - total);
            parts[count++] = asio::const_buffer(b.data(), take);
            total += take;
            if (total == kGather) break;
        }
    }
    Want operator()(void* ssl, error_code& ec, std::size_t& done) const {
        if (count <= 1) return write(ssl, count == 1 ? parts[0].data() : nullptr, total, done, ec);
        char gathered[kGather];
        std::size_t at = 0;
        for (std::size_t i = 0; i < count; ++i) {
            std::memcpy(gathered + at, parts[i].data(), parts[i].size());
            at += parts[i].size();
        }
        return write(ssl, gathered, total, done, ec);
    }
    template <class H>
    static void finish(H& h, const error_code& ec, std::size_t done) {
        h(ec, done);
    }
};

// The TLS stream websocketpp reads and writes (an Asio AsyncReadStream and
// AsyncWriteStream): a TCP socket and, from the handshake on, its SSL.
class Stream {
public:
    using executor_type = asio::ip::tcp::socket::executor_type;
    using next_layer_type = asio::ip::tcp::socket;
    using lowest_layer_type = asio::ip::tcp::socket;

    explicit Stream(asio::io_service& io) : socket_(io) {}
    ~Stream() { free_ssl(ssl_); }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    executor_type get_executor() noexcept { return socket_.get_executor(); }
    next_layer_type& next_layer() noexcept { return socket_; }
    lowest_layer_type& lowest_layer() noexcept { return socket_; }
    // The SSL*, null until the handshake starts.
    void* native_handle() const noexcept { return ssl_; }

    // Makes the SSL for the accepted socket.
    void begin(asio::ssl::context& ctx, error_code& ec) {
        socket_.non_blocking(true, ec);
        if (!ec && ssl_ == nullptr)
            ssl_ = new_server_ssl(ctx.native_handle(), socket_.native_handle(), ec);
    }

    template <class Handler>
    void async_handshake(Handler&& h) {
        launch(HandshakeStep{}, std::forward<Handler>(h));
    }
    template <class Buffers, class Handler>
    void async_read_some(const Buffers& buffers, Handler&& h) {
        launch(ReadStep(buffers), std::forward<Handler>(h));
    }
    template <class Buffers, class Handler>
    void async_write_some(const Buffers& buffers, Handler&& h) {
        launch(WriteStep(buffers), std::forward<Handler>(h));
    }
    template <class Handler>
    void async_shutdown(Handler&& h) {
        launch(ShutdownStep{}, std::forward<Handler>(h));
    }

private:
    template <class Step, class Handler>
    void launch(Step step, Handler&& h) {
        IoOp<Step, std::decay_t<Handler>>(this, std::move(step), std::forward<Handler>(h))({}, 0,
                                                                                           1);
    }

    template <class Step, class Handler>
    friend struct IoOp;

    asio::ip::tcp::socket socket_;
    void* ssl_ = nullptr;
};

template <class Step, class Handler>
void IoOp<Step, Handler>::operator()(error_code wait_ec, std::size_t, int first) {
    start = first;
    if (!first) {
        if (want == Want::nothing) {  // the deferred completion
            Step::finish(handler, ec, done);
            return;
        }
        if (wait_ec) {  // cancelled (websocketpp's timers) or the socket closed
            Step::finish(handler, wait_ec, 0);
            return;
        }
    }
    want = step(stream->ssl_, ec, done);
    asio::ip::tcp::socket& socket = stream->socket_;
    switch (want) {
        case Want::read:
            socket.async_wait(asio::socket_base::wait_read, std::move(*this));
            return;
        case Want::write:
            socket.async_wait(asio::socket_base::wait_write, std::move(*this));
            return;
        case Want::nothing:
            break;
    }
    if (first) {
        socket.async_receive(asio::mutable_buffer(), std::move(*this));  // completes at once
        return;
    }
    Step::finish(handler, ec, done);
}

namespace wsa = websocketpp::transport::asio;
namespace wsl = websocketpp::lib;

typedef wsl::function<void(websocketpp::connection_hdl, Stream&)> socket_init_handler;
typedef wsl::function<wsl::shared_ptr<asio::ssl::context>(websocketpp::connection_hdl)>
    tls_init_handler;

// The connection component (websocketpp's tls_socket::connection, with our
// Stream).
class connection : public wsl::enable_shared_from_this<connection> {
public:
    typedef connection type;
    typedef wsl::shared_ptr<type> ptr;
    typedef Stream socket_type;
    typedef wsl::shared_ptr<socket_type> socket_ptr;
    typedef asio::io_service* io_service_ptr;
    typedef wsl::shared_ptr<asio::io_service::strand> strand_ptr;
    typedef wsl::shared_ptr<asio::ssl::context> context_ptr;

    ptr get_shared() { return shared_from_this(); }
    bool is_secure() const { return true; }
    socket_type::lowest_layer_type& get_raw_socket() { return m_socket->lowest_layer(); }
    socket_type::next_layer_type& get_next_layer() { return m_socket->next_layer(); }
    socket_type& get_socket() { return *m_socket; }

    void set_socket_init_handler(socket_init_handler h) { m_socket_init_handler = std::move(h); }
    void set_tls_init_handler(tls_init_handler h) { m_tls_init_handler = std::move(h); }

    std::string get_remote_endpoint(wsl::error_code& ec) const {
        std::stringstream s;
        error_code aec;
        const asio::ip::tcp::endpoint ep = m_socket->lowest_layer().remote_endpoint(aec);
        if (aec) {
            ec = wsa::error::make_error_code(wsa::error::pass_through);
            s << "Error getting remote endpoint: " << aec << " (" << aec.message() << ")";
        } else {
            ec = wsl::error_code();
            s << ep;
        }
        return s.str();
    }

protected:
    wsl::error_code init_asio(io_service_ptr service, strand_ptr strand, bool is_server) {
        if (!is_server)  // a server-side policy: clients keep websocketpp's
            return wsa::socket::make_error_code(wsa::socket::error::invalid_tls_context);
        if (!m_tls_init_handler)
            return wsa::socket::make_error_code(wsa::socket::error::missing_tls_init_handler);
        m_context = m_tls_init_handler(m_hdl);
        if (!m_context)
            return wsa::socket::make_error_code(wsa::socket::error::invalid_tls_context);
        m_socket = wsl::make_shared<socket_type>(*service);
        if (m_socket_init_handler) m_socket_init_handler(m_hdl, get_socket());
        m_strand = std::move(strand);
        return wsl::error_code();
    }

    void set_uri(websocketpp::uri_ptr) {}

    void pre_init(wsa::socket::init_handler callback) { callback(wsl::error_code()); }

    // The TLS handshake, bounded by websocketpp's post-init timer.
    void post_init(wsa::socket::init_handler callback) {
        m_ec = wsa::socket::make_error_code(wsa::socket::error::tls_handshake_timeout);
        error_code ec;
        m_socket->begin(*m_context, ec);
        if (ec) {
            m_ec = wsa::socket::make_error_code(wsa::socket::error::tls_handshake_failed);
            callback(m_ec);
            return;
        }
        auto done = wsl::bind(&type::handle_init, get_shared(), callback, wsl::placeholders::_1);
        if (m_strand) {
            m_socket->async_handshake(m_strand->wrap(done));
        } else {
            m_socket->async_handshake(done);
        }
    }

    void set_handle(websocketpp::connection_hdl hdl) { m_hdl = std::move(hdl); }

    void handle_init(wsa::socket::init_handler callback, const error_code& ec) {
        m_ec = ec ? wsa::socket::make_error_code(wsa::socket::error::tls_handshake_failed)
                  : wsl::error_code();
        callback(m_ec);
    }

    wsl::error_code get_ec() const { return m_ec; }

    error_code cancel_socket() {
        error_code ec;
        get_raw_socket().cancel(ec);
        return ec;
    }

    void async_shutdown(wsa::socket::shutdown_handler callback) {
        if (m_strand) {
            m_socket->async_shutdown(m_strand->wrap(callback));
        } else {
            m_socket->async_shutdown(callback);
        }
    }

public:
    template <typename ErrorCodeType>
    static wsl::error_code translate_ec(ErrorCodeType ec) {
        namespace wst = websocketpp::transport;
        if (ec.category() == asio::error::get_ssl_category())
            return wst::error::make_error_code(wst::error::tls_error);
        return wst::error::make_error_code(wst::error::pass_through);
    }
    static wsl::error_code translate_ec(wsl::error_code ec) { return ec; }

private:
    strand_ptr m_strand;
    context_ptr m_context;
    socket_ptr m_socket;
    wsl::error_code m_ec;
    websocketpp::connection_hdl m_hdl;
    socket_init_handler m_socket_init_handler;
    tls_init_handler m_tls_init_handler;
};

// The endpoint component (websocketpp's tls_socket::endpoint).
class endpoint {
public:
    typedef endpoint type;
    typedef connection socket_con_type;
    typedef socket_con_type::ptr socket_con_ptr;

    bool is_secure() const { return true; }
    void set_socket_init_handler(socket_init_handler h) { m_socket_init_handler = std::move(h); }
    void set_tls_init_handler(tls_init_handler h) { m_tls_init_handler = std::move(h); }

protected:
    wsl::error_code init(socket_con_ptr scon) {
        scon->set_socket_init_handler(m_socket_init_handler);
        scon->set_tls_init_handler(m_tls_init_handler);
        return wsl::error_code();
    }

private:
    socket_init_handler m_socket_init_handler;
    tls_init_handler m_tls_init_handler;
};

// websocketpp::config::asio_tls with this socket policy.
struct ServerConfig : websocketpp::config::asio_tls {
    typedef ServerConfig type;
    struct transport_config : websocketpp::config::asio_tls::transport_config {
        typedef ws_tls::endpoint socket_type;
    };
    typedef websocketpp::transport::asio::endpoint<transport_config> transport_type;
};

}  // namespace moolai::host::ws_tls

namespace boost::asio {

template <class Step, class Handler, class Allocator>
struct associated_allocator<moolai::host::ws_tls::IoOp<Step, Handler>, Allocator> {
    typedef typename associated_allocator<Handler, Allocator>::type type;
    static type get(const moolai::host::ws_tls::IoOp<Step, Handler>& op,
                    const Allocator& a = Allocator()) noexcept {
        return associated_allocator<Handler, Allocator>::get(op.handler, a);
    }
};

template <class Step, class Handler, class Executor>
struct associated_executor<moolai::host::ws_tls::IoOp<Step, Handler>, Executor> {
    typedef typename associated_executor<Handler, Executor>::type type;
    static type get(const moolai::host::ws_tls::IoOp<Step, Handler>& op,
                    const Executor& ex = Executor()) noexcept {
        return associated_executor<Handler, Executor>::get(op.handler, ex);
    }
};

}  // namespace boost::asio
