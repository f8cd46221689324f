#pragma once
// TlsFront: terminates TLS for the REST port (Boost.Asio + OpenSSL, behind a
// pimpl: std headers only here). Pistache 0.0.5 runs each TLS handshake on
// its one accept thread, blocking (docs/library-quirks.md P14): one client
// that connects and says nothing held every other REST client for 10 s.
// Here each handshake is asynchronous and bounded; a finished one is relayed
// as plaintext to the plain server on a loopback port, which learns the
// real client through client_of().

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "net/net_log.hpp"

namespace moolai::host {

class TlsServerContext;

struct TlsFrontOptions {
    std::string host = "0.0.0.0";
    uint16_t port = 0;                            // 0 = let the kernel pick (see port())
    uint16_t inner_port = 0;                      // the plain server on 127.0.0.1
    std::shared_ptr<const TlsServerContext> tls;  // the caller may reload() it
    int handshake_timeout_ms = 10000;             // a TLS handshake not done by then is dropped
    NetLogger logger;
};

class TlsFront {
public:
    explicit TlsFront(TlsFrontOptions options);
    ~TlsFront();  // stop()s
    TlsFront(const TlsFront&) = delete;
    TlsFront& operator=(const TlsFront&) = delete;

    // Binds, listens, starts its io thread. Throws std::runtime_error (the
    // system's reason) when it cannot listen.
    void start();
    // Stops accepting and closes every connection; joins the thread.
    void stop();
    uint16_t port() const;

    // The client behind a connection this front made to the inner server,
    // by that connection's local port; nullopt when it is not one of ours.
    struct Client {
        std::string host;
        uint16_t port = 0;
    };
    std::optional<Client> client_of(uint16_t local_port) const;

    uint64_t handshake_failures() const;  // timed out, or failed (bad client, plain HTTP)
    uint64_t accept_errors() const;       // EMFILE and the like, each followed by a 100 ms pause

    // Opaque: public only for its unit.
    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace moolai::host
