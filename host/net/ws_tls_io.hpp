#pragma once
// The OpenSSL half of the TLS WebSocket transport (ws_tls_socket.hpp), with
// no OpenSSL or Asio types here: one connection's SSL works directly on its
// non-blocking socket (no BIO pair, no staging buffers), and each step says
// what it waits for. With SSL_MODE_RELEASE_BUFFERS OpenSSL holds its record
// buffers only while a record is being read or written, so an idle
// connection costs its SSL state and nothing more (docs/library-quirks.md, W19).

#include <boost/system/error_code.hpp>

#include <cstddef>

namespace moolai::host::ws_tls {

// What a step needs before it can go on; `nothing` = finished, `ec` says how.
enum class Want { nothing, read, write };

// A server-side SSL from `ssl_ctx` (an SSL_CTX*) on the connected socket
// `fd`, which must be non-blocking. Returns an SSL*, or null with `ec` set.
void* new_server_ssl(void* ssl_ctx, int fd, boost::system::error_code& ec);
void free_ssl(void* ssl) noexcept;

// Each runs as far as the socket allows. `ssl` null: an error
// (bad_descriptor), except shutdown, which has nothing to do then.
Want handshake(void* ssl, boost::system::error_code& ec);
// At most `size` bytes; `done` = bytes read. The peer's close_notify is
// eof; the TCP stream ending without it is ssl::error::stream_truncated.
Want read(void* ssl, void* data, std::size_t size, std::size_t& done,
          boost::system::error_code& ec);
// At most one record; `done` = bytes taken. A retry after Want::write must
// pass the same bytes (the pointer may change).
Want write(void* ssl, const void* data, std::size_t size, std::size_t& done,
           boost::system::error_code& ec);
// Sends close_notify and does not wait for the peer's (Asio's ssl::stream
// does wait; docs/library-quirks.md W16).
Want shutdown(void* ssl, boost::system::error_code& ec);

}  // namespace moolai::host::ws_tls
