#pragma once
// WebSocket server (websocketpp + Boost.Asio, non-TLS) behind a pimpl, so that
// only ws_server.cpp pays websocketpp's 6-10 s compile cost.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "net/net_log.hpp"

namespace moolai::host {

// Assigned when a connection opens; never reused within a process.
using ConnectionId = uint64_t;

struct WsOptions {
    std::string host = "0.0.0.0";
    uint16_t port = 8766;  // 0 = let the kernel pick a free port (see WsServer::port())
    std::string path = "/ws";  // more via add_path(); any other path is rejected with 404
    size_t max_message_bytes = 1 << 20;  // larger messages close the connection with 1009
    unsigned threads = 2;                // io threads running handlers
    int handshake_timeout_ms = 5000;     // silent or half-sent upgrade requests are dropped
    int close_timeout_ms = 2000;         // close handshake; stop() waits at most about this
    // When > 0, connections that sent nothing for this long get a ping. Must be
    // longer than pong_timeout_ms: each ping cancels the previous pong timer.
    int ping_interval_ms = 0;
    int pong_timeout_ms = 10000;
    // send() refuses (returns false) while this much is already queued for a
    // slow reader; 0 = no limit.
    size_t max_send_buffer_bytes = 16u << 20;
    NetLogger logger;  // optional; errors and warnings of this server
};

// What the client asked for in its upgrade request.
struct WsUpgrade {
    std::string path;           // request path without the query
    std::string query;          // raw query string after '?', "" when absent
    std::string authorization;  // Authorization header, "" when absent
    std::string remote;         // "ip:port" ("[ip]:port" for IPv6)
};

// All handlers run on the server's io threads. Handlers for ONE connection never
// run concurrently (each connection is serialized on its own asio strand), and
// on_open happens before its on_message calls, on_close after them. Handlers for
// different connections do run in parallel, so shared state needs locks.
// Exceptions thrown by handlers are caught and logged; a throwing on_message or
// on_open closes its connection with 1011.
struct WsHandlers {
    // Return 0 to accept, or an HTTP status (401, 403, 404, ...) to reject the
    // upgrade with a JSON body {"success":false,"error":{"code","message"}}.
    // Runs before the connection has an id. Optional (empty = accept).
    std::function<int(const WsUpgrade&)> on_validate;
    std::function<void(ConnectionId, const WsUpgrade&)> on_open;
    // Text and binary frames alike. The view is valid during the call only.
    std::function<void(ConnectionId, std::string_view)> on_message;
    // Exactly once for every opened connection, also when stop() forces it.
    // close_code: the peer's; ours if the peer never answered our close (e.g.
    // 1009 after an oversized message); 1006 if the connection just dropped.
    std::function<void(ConnectionId, uint16_t close_code)> on_close;
    // Optional; the default closes the connection with 1001 (going away).
    std::function<void(ConnectionId)> on_pong_timeout;
};

class WsServer {
public:
    // Throws std::invalid_argument for inconsistent options (e.g. a pong timeout
    // not shorter than the ping interval).
    WsServer(WsOptions options, WsHandlers handlers);
    ~WsServer();  // stop()s
    WsServer(const WsServer&) = delete;
    WsServer& operator=(const WsServer&) = delete;

    // Before start() only: serves another request path with its own handlers
    // (options.path is served by the constructor's). Throws std::invalid_argument
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

    // Any thread. Sends a text frame; false if the connection is gone or its
    // send buffer is over max_send_buffer_bytes.
    bool send(ConnectionId id, std::string_view text);
    // Any thread. Starts the close handshake; no-op if the connection is gone.
    void close(ConnectionId id, uint16_t code, std::string_view reason);

    // From on_open or on_message of connection `id` only: keeps `context`
    // with the connection until the connection is gone, so its handlers find
    // their state without a lookup. Returns false (and keeps nothing) when
    // called from anywhere else.
    bool set_context(ConnectionId id, std::shared_ptr<void> context);
    // From on_open or on_message of connection `id` only: what set_context
    // kept; nullptr otherwise.
    void* context(ConnectionId id) const;
    size_t connection_count() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace moolai::host
