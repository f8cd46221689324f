// The OpenSSL half of the TLS WebSocket transport (see ws_tls_io.hpp).
#include "net/ws_tls_io.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

#include <cerrno>
#include <cstdint>

namespace moolai::host::ws_tls {

namespace {

using boost::system::error_code;

int fd_of(BIO* b) {
    return static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(b)));
}

// A socket BIO of our own: send() with MSG_NOSIGNAL (OpenSSL's socket BIO
// uses write(), which raises SIGPIPE on a reset peer), and no close of the
// descriptor, which Asio's socket owns.
int bio_write(BIO* b, const char* data, int len) {
    BIO_clear_retry_flags(b);
    const ssize_t n = ::send(fd_of(b), data, static_cast<size_t>(len), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_write(b);
    return -1;
}

int bio_read(BIO* b, char* out, int len) {
    BIO_clear_retry_flags(b);
    const ssize_t n = ::recv(fd_of(b), out, static_cast<size_t>(len), 0);
    if (n >= 0) return static_cast<int>(n);  // 0: the peer closed its side
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_read(b);
    return -1;
}

int bio_puts(BIO* b, const char* s) {
    size_t n = 0;
    while (s[n] != '\0') ++n;
    return bio_write(b, s, static_cast<int>(n));
}

long bio_ctrl(BIO*, int cmd, long, void*) {
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // unbuffered; nothing else applies
}

int bio_create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
}

int bio_destroy(BIO*) {
    return 1;
}

BIO_METHOD* socket_method() {
    static BIO_METHOD* const method = [] {
        BIO_METHOD* m =
            BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "moolai websocket socket");
        if (m != nullptr) {
            BIO_meth_set_write(m, bio_write);
            BIO_meth_set_read(m, bio_read);
            BIO_meth_set_puts(m, bio_puts);
            BIO_meth_set_ctrl(m, bio_ctrl);
            BIO_meth_set_create(m, bio_create);
            BIO_meth_set_destroy(m, bio_destroy);
        }
        return m;
    }();
    return method;
}

// The outcome of an SSL_* call that returned `r` (<= 0).
Want want_of(SSL* ssl, int r, error_code& ec) {
    const int err = SSL_get_error(ssl, r);
    switch (err) {
        case SSL_ERROR_WANT_READ:
            ERR_clear_error();
            return Want::read;
        case SSL_ERROR_WANT_WRITE:
            ERR_clear_error();
            return Want::write;
        case SSL_ERROR_ZERO_RETURN:  // the peer's close_notify
            ec = boost::asio::error::eof;
            break;
        case SSL_ERROR_SYSCALL: {
            const int e = errno;
            ec = e != 0 ? error_code(e, boost::system::system_category())
                        : error_code(boost::asio::ssl::error::stream_truncated);
            break;
        }
        default: {
            const unsigned long code = ERR_peek_last_error();
            if (ERR_GET_LIB(code) == ERR_LIB_SSL &&
                ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
                ec = boost::asio::ssl::error::stream_truncated;  // TCP closed, no close_notify
            } else {
                ec = error_code(static_cast<int>(code), boost::asio::error::get_ssl_category());
            }
            break;
        }
    }
    ERR_clear_error();
    return Want::nothing;
}

}  // namespace

void* new_server_ssl(void* ssl_ctx, int fd, error_code& ec) {
    ERR_clear_error();
    BIO_METHOD* method = socket_method();
    SSL* ssl = method != nullptr ? SSL_new(static_cast<SSL_CTX*>(ssl_ctx)) : nullptr;
    BIO* bio = ssl != nullptr ? BIO_new(method) : nullptr;
    if (bio == nullptr) {
        SSL_free(ssl);
        ec = error_code(static_cast<int>(ERR_get_error()), boost::asio::error::get_ssl_category());
        ERR_clear_error();
        if (!ec) ec = boost::asio::error::no_memory;
        return nullptr;
    }
    BIO_set_data(bio, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd)));
    SSL_set_bio(ssl, bio, bio);
    // Partial writes: one record per write, retried with the same bytes from
    // wherever the caller keeps them. Released buffers: the point of all this.
    SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                          SSL_MODE_RELEASE_BUFFERS);
    // Read as much as the socket holds (up to a record buffer) in one
    // recv(), instead of a header and a body per record.
    SSL_set_read_ahead(ssl, 1);
    SSL_set_accept_state(ssl);
    ec = {};
    return ssl;
}

void free_ssl(void* ssl) noexcept {
    SSL_free(static_cast<SSL*>(ssl));
}

Want handshake(void* p, error_code& ec) {
    ec = {};
    if (p == nullptr) {
        ec = boost::asio::error::bad_descriptor;
        return Want::nothing;
    }
    SSL* ssl = static_cast<SSL*>(p);
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl);
    return r == 1 ? Want::nothing : want_of(ssl, r, ec);
}

Want read(void* p, void* data, std::size_t size, std::size_t& done, error_code& ec) {
    ec = {};
    done = 0;
    if (p == nullptr) {
        ec = boost::asio::error::bad_descriptor;
        return Want::nothing;
    }
    if (size == 0) return Want::nothing;
    SSL* ssl = static_cast<SSL*>(p);
    ERR_clear_error();
    const int r = SSL_read_ex(ssl, data, size, &done);
    return r == 1 ? Want::nothing : want_of(ssl, r, ec);
}

Want write(void* p, const void* data, std::size_t size, std::size_t& done, error_code& ec) {
    ec = {};
    done = 0;
    if (p == nullptr) {
        ec = boost::asio::error::bad_descriptor;
        return Want::nothing;
    }
    if (size == 0) return Want::nothing;
    SSL* ssl = static_cast<SSL*>(p);
    ERR_clear_error();
    const int r = SSL_write_ex(ssl, data, size, &done);
    return r == 1 ? Want::nothing : want_of(ssl, r, ec);
}

Want shutdown(void* p, error_code& ec) {
    ec = {};
    if (p == nullptr) return Want::nothing;
    SSL* ssl = static_cast<SSL*>(p);
    ERR_clear_error();
    // Our close_notify, and done: no wait for the peer's (RFC 8446 6.1 lets
    // the closer go; nginx does the same). Waiting held the socket, and the
    // connection's on_close, up to websocketpp's 5 s shutdown timer whenever
    // a peer left without one (our client library does). The closing
    // handshake has ended by now, so nothing the peer still needs is lost.
    const int r = SSL_shutdown(ssl);
    return r >= 0 ? Want::nothing : want_of(ssl, r, ec);
}

}  // namespace moolai::host::ws_tls
