#pragma once
// RestServer: the HTTP server (a Pistache 0.0.5 endpoint with our own
// request handling) behind a pimpl. Routing is net/router.hpp, the dashboard's
// files net/static_files.hpp, the handlers run on a WorkQueue. Every 4xx/5xx
// it produces has a JSON body (net/http_error.hpp).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/http_error.hpp"
#include "net/http_message.hpp"
#include "net/net_log.hpp"

namespace moolai::host {

class TlsServerContext;  // net/tls.hpp

struct RestOptions {
    std::string host = "0.0.0.0";
    uint16_t port = 8765;          // 0 = let the kernel pick a free port (see RestServer::port())
    unsigned reactor_threads = 2;  // Pistache I/O threads
    unsigned worker_threads = 4;   // run non-inline handlers
    size_t max_request_bytes = 1 << 20;  // body limit (413); headers get 16 KiB on top
    size_t max_queued_requests = 4096;   // waiting for a worker; beyond: 503
    size_t max_response_bytes = 16u << 20;
    int header_timeout_s = 10;
    int body_timeout_s = 30;
    int keepalive_timeout_s = 30;
    std::string static_dir;  // "" = no static files
    NetLogger logger;        // optional; handler exceptions, Pistache warnings
    // https with this material; nullptr = plain http. The caller keeps it and
    // may reload() it while serving: new handshakes get the new certificate.
    std::shared_ptr<const TlsServerContext> tls;
    // Peers whose X-Forwarded-For is believed (exact IP addresses of a proxy
    // in front): for them HttpRequest::client is the last address in that
    // header, the one the proxy itself appended.
    std::vector<std::string> trusted_proxies;
    // Optional; before routing, on the reactor (keep it cheap): 0 = serve,
    // else answer 429 with a Retry-After of that many seconds.
    std::function<int64_t(const HttpRequest&)> admit;
    // Optional; after each routed request: its method, route pattern, status
    // and seconds from parsed request to response (queueing included).
    std::function<void(const std::string& method, const std::string& pattern, int status,
                       double seconds)>
        on_response;
};

class RestServer {
public:
    explicit RestServer(RestOptions options);
    ~RestServer();  // stop()s
    RestServer(const RestServer&) = delete;
    RestServer& operator=(const RestServer&) = delete;

    // Also while serving (the new route answers from the next request on). pattern:
    // "/api/v1/x/:id/messages"; segments match exactly, a literal segment beats a ":param"
    // (leftmost difference decides). Handlers run on the worker pool unless inline_on_reactor (for
    // trivial, non-blocking handlers such as health and metrics: a blocking inline handler stalls
    // every connection of its reactor).
    void add_route(std::string method, std::string pattern, HttpHandler handler,
                   bool inline_on_reactor = false);

    // While on, a request that matches no route gets 503 "starting" with
    // Retry-After instead of 404 or a static file: the server listens early
    // for health probes, before the API routes are added.
    void set_warming_up(bool on);

    // The routes added so far, as (method, pattern) in the order added.
    std::vector<std::pair<std::string, std::string>> routes() const;

    // Throws std::runtime_error naming host:port when it cannot listen. Call once.
    void start();
    // Answers queued requests with 503, waits for running handlers, then shuts
    // Pistache down and joins its threads. Idempotent; not from a handler.
    void stop();
    // The bound port (the real one when options.port was 0); 0 before start().
    uint16_t port() const;
    // Failed accepts (EMFILE, ENFILE) in this process, each followed by a
    // 100 ms pause (net/accept_pacing.hpp; the TLS front's own too).
    uint64_t accept_errors() const;
    // With TLS: handshakes that timed out or failed (0 without TLS).
    uint64_t tls_handshake_failures() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace moolai::host
