#pragma once
// WebSocket server (websocketpp + Boost.Asio, plain or TLS) behind a pimpl,
// so that only ws_server.cpp and ws_server_tls.cpp pay websocketpp's 6-10 s
// compile cost (one websocketpp config each, see ws_engine.hpp).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/net_log.hpp"

namespace moolai::host {

class TlsServerContext;  // net/tls.hpp

// Assigned when a connection opens; never reused within a process.
using ConnectionId = uint64_t;

struct WsOptions {
    std::string host = "0.0.0.0";
    uint16_t port = 8766;      // 0 = let the kernel pick a free port (see WsServer::port())
    std::string path = "/ws";  // more via add_path(); any other path is rejected with 404
    size_t max_message_bytes = 1 << 20;  // larger messages close the connection with 1009
    unsigned threads = 2;                // io threads running handlers
    int handshake_timeout_ms = 5000;     // silent or half-sent upgrade requests are dropped
    int close_timeout_ms = 2000;         // close handshake; stop() waits at most about this
    // When > 0, connections that sent nothing for this long get a ping. Must be
    // longer than pong_timeout_ms: each ping cancels the previous pong timer.
    int ping_interval_ms = 0;
    int pong_timeout_ms = 10000;
    // A send while this much is already queued for the reader is refused
    // (returns false) and, with close_slow_consumers, the connection is
    // closed with 1013 (try again later): a reader this far behind would only fall further
    // behind, and its backlog is memory. 0 = no limit.
    size_t max_send_buffer_bytes = 16u << 20;
    bool close_slow_consumers = true;

    // Connection hygiene. Caps are checked at the upgrade, before any
    // handler runs: beyond max_connections (all paths together) the upgrade
    // is refused with 503, beyond max_connections_per_address (one remote IP)
    // with 429, both with Retry-After and a JSON error naming the limit.
    // 0 = no cap.
    size_t max_connections = 0;
    size_t max_connections_per_address = 0;
    // A connection not admit()ted this long after it opened is closed with
    // 4408 (private use, like HTTP 408: a retry is welcome, unlike after
    // 1008) and admit_deadline_reason. 0 = no deadline.
    int admit_deadline_ms = 0;
    std::string admit_deadline_reason = "not admitted in time";
    // Admission: at most this many accepted sockets in their opening
    // handshake at once. Beyond it the accept loop pauses, so newer clients
    // wait in the kernel's listen backlog (deferred, not refused) until
    // handshakes finish. 0 = no limit.
    size_t max_pending_handshakes = 512;
    // A handshake counts against that limit for at most this long: a socket
    // that stays silent (a starved client, or one holding places on
    // purpose) cannot stall the accept loop until handshake_timeout_ms; it
    // keeps its own timeout to finish.
    int admission_grace_ms = 250;
    int listen_backlog = 4096;  // the kernel caps it at net.core.somaxconn
    NetLogger logger;           // optional; errors and warnings of this server
    // wss:// with this material; nullptr = plain ws://. The caller keeps it
    // and may reload() it while serving: new handshakes get the new
    // certificate, open connections keep theirs. The TLS handshake is bounded
    // by websocketpp's 5 s socket init timeout.
    std::shared_ptr<const TlsServerContext> tls;
    // Peers whose X-Forwarded-For is believed (exact IP addresses of a proxy
    // in front): see WsUpgrade::client.
    std::vector<std::string> trusted_proxies;
};

// What the client asked for in its upgrade request.
struct WsUpgrade {
    std::string path;           // request path without the query
    std::string query;          // raw query string after '?', "" when absent
    std::string authorization;  // Authorization header, "" when absent
    std::string remote;         // the peer: "ip:port" ("[ip]:port" for IPv6)
    // The client's address: the peer's, or behind a trusted proxy the one
    // its X-Forwarded-For names (WsOptions::trusted_proxies).
    std::string client;
    // TLS only: identities (CN, then DNS/URI/e-mail SANs) of the client
    // certificate, when one was sent and verified against the client CA.
    std::vector<std::string> client_cert_names;
};

class WsServer;
namespace ws_detail {
template <class Base>
struct WsEngine;
}

// One open connection, as its handlers see it. The object lives inside the
// server's connection (no allocation of its own); the reference a handler
// gets is valid during that call, handle() gives one that outlives it.
class WsConnection {
public:
    ConnectionId id() const noexcept { return id_; }
    // What the client asked for in its upgrade request.
    WsUpgrade upgrade() const;
    // Any thread. Sends a text frame; false when the connection is closing or
    // gone, or its send buffer is over max_send_buffer_bytes.
    bool send(std::string_view text);
    // Any thread. Starts the close handshake; no-op when already closing.
    void close(uint16_t code, std::string_view reason);
    // For frames sent later, from any thread (the dashboard's stream fans out
    // through these). Expires when the connection is gone; lock() it per send
    // rather than keeping it locked, which would keep the connection's memory.
    std::weak_ptr<WsConnection> handle();
    // Any thread. The connection did what it was let in for (an orchestrator
    // registered, a dashboard subscribed): admit_deadline_ms no longer applies.
    void admit() noexcept { admitted_.store(true, std::memory_order_relaxed); }
    bool admitted() const noexcept { return admitted_.load(std::memory_order_relaxed); }
    // TLS only: the verified client certificate's identities (see
    // WsUpgrade::client_cert_names); empty on a plain server.
    const std::vector<std::string>& client_cert_names() const noexcept {
        return client_cert_names_;
    }

    // The handlers' own state for this connection, kept until it is gone.
    // From this connection's handlers only (they never run concurrently).
    template <typename T>
    void set_context(std::shared_ptr<T> context) {
        context_ = std::move(context);
        context_type_ = &type_tag<T>;
    }
    // What set_context<T> kept; nullptr when nothing, or another type, was kept.
    template <typename T>
    T* context() const noexcept {
        return context_type_ == &type_tag<T> ? static_cast<T*>(context_.get()) : nullptr;
    }

protected:
    // Made and destroyed by the server only (its connections derive from this).
    WsConnection() = default;
    ~WsConnection() = default;

private:
    WsConnection(const WsConnection&) = delete;
    WsConnection& operator=(const WsConnection&) = delete;
    template <typename T>
    static inline const char type_tag = 0;  // its address names T
    friend class WsServer;
    template <class Base>
    friend struct ws_detail::WsEngine;

    ConnectionId id_ = 0;
    WsServer* server_ = nullptr;
    std::atomic<bool> admitted_{false};
    std::shared_ptr<void> context_;
    const void* context_type_ = nullptr;
    std::vector<std::string> client_cert_names_;  // set at validation, then read-only
};

// All handlers run on the server's io threads and get the connection they
// serve. Handlers for ONE connection never run concurrently (each connection
// is serialized on its own asio strand), and on_open happens before its
// on_message calls, on_close after them. Handlers for different connections
// do run in parallel, so shared state needs locks. Exceptions thrown by
// handlers are caught and logged; a throwing on_message or on_open closes its
// connection with 1011.
struct WsHandlers {
    // Return 0 to accept, or an HTTP status (401, 403, 404, ...) to reject the
    // upgrade with a JSON body {"success":false,"error":{"code","message"}}.
    // Runs before the connection exists. Optional (empty = accept).
    std::function<int(const WsUpgrade&)> on_validate;
    std::function<void(WsConnection&)> on_open;
    // Text and binary frames alike. The view is valid during the call only.
    std::function<void(WsConnection&, std::string_view)> on_message;
    // Exactly once for every opened connection, also when stop() forces it.
    // close_code: the peer's; ours if the peer never answered our close (e.g.
    // 1009 after an oversized message); 1006 if the connection just dropped.
    std::function<void(WsConnection&, uint16_t close_code)> on_close;
    // Optional; the default closes the connection with 1001 (going away).
    std::function<void(WsConnection&)> on_pong_timeout;
};

// What the server refused or cut since it started (for metrics).
struct WsStats {
    size_t connections = 0;            // open now
    uint64_t refused_capacity = 0;     // upgrades refused: max_connections
    uint64_t refused_per_address = 0;  // upgrades refused: max_connections_per_address
    uint64_t closed_admit_deadline = 0;
    uint64_t closed_slow_consumer = 0;
    uint64_t accept_pauses = 0;  // times the accept loop waited for handshakes to finish
    uint64_t accept_errors = 0;  // failed accepts (EMFILE, ...), each followed by a 100 ms pause
    // Opening handshakes that ended without an upgrade, refusals aside: no
    // complete upgrade request within handshake_timeout_ms, or another
    // failure (the peer left, a malformed request, a failed TLS handshake).
    uint64_t handshake_timeouts = 0;
    uint64_t handshake_errors = 0;
};

class WsServer {
public:
    // Throws std::invalid_argument for inconsistent options (e.g. a pong timeout
    // not shorter than the ping interval). Serves options.path with `handlers`.
    WsServer(WsOptions options, WsHandlers handlers);
    // Serves only what add_path() adds (options.path is not used): for
    // handlers that need the server for connections other than their own.
    explicit WsServer(WsOptions options);
    ~WsServer();  // stop()s
    WsServer(const WsServer&) = delete;
    WsServer& operator=(const WsServer&) = delete;

    // Before start() only: serves a request path with its own handlers.
    // Throws std::invalid_argument
    // for a path not starting with '/' or already served.
    void add_path(std::string path, WsHandlers handlers);

    // Binds, listens and starts the io threads. Throws std::runtime_error naming
    // host:port when it cannot listen. Call once.
    void start();
    // Stops accepting, closes every connection with 1001 (going away), waits for
    // the close handshakes (bounded by close_timeout_ms), joins the threads.
    // Idempotent; safe to call from any thread except a handler of this server.
    void stop();
    // The bound port (the real one when options.port was 0); 0 before start().
    uint16_t port() const;

    // Any thread: to a connection by id, for callers that hold no handle
    // (a recommendation for an orchestrator, a replaced connection). A
    // handler answers through its WsConnection instead. send() is false if
    // the connection is gone or its send buffer is over max_send_buffer_bytes;
    // close() is a no-op if it is gone.
    bool send(ConnectionId id, std::string_view text);
    void close(ConnectionId id, uint16_t code, std::string_view reason);
    // Any thread: runs `task` on the connection's strand, like a handler of
    // that connection (never alongside its other handlers), so work finished
    // elsewhere -- a storage call -- can update the handlers' context. False
    // when the connection is gone; a task whose connection closes before it
    // runs is dropped. Exceptions are logged.
    bool post(ConnectionId id, std::function<void(WsConnection&)> task);
    size_t connection_count() const;
    WsStats stats() const;

    // Opaque: public only for the two units that implement it.
    struct Impl;

private:
    friend class WsConnection;
    std::unique_ptr<Impl> impl_;
};

}  // namespace moolai::host
