// A request as the REST server hands it to a route's handler, and the
// response the handler returns. Plain data: no HTTP library behind it.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace moolai::host {

struct HttpRequest {
    std::string method;     // "GET", "POST", ...
    std::string path;       // percent-decoded
    std::string raw_query;  // without '?', undecoded; rebuilt from Pistache's map: order
                            // and repeated keys are lost (first value wins)
    std::unordered_map<std::string, std::string> query;   // decoded, '+' = space
    std::unordered_map<std::string, std::string> params;  // from ":name" pattern segments, decoded
    std::vector<std::pair<std::string, std::string>> headers;  // as received
    std::string authorization;  // Authorization header, "" when absent
    std::string body;
    std::string remote;  // the peer: "ip:port" ("[ip]:port" for IPv6)
    // The client's address: the peer's, or behind a trusted proxy the one it
    // names (RestOptions::trusted_proxies). What per-source limits count by.
    std::string client;
    // The client's X-Request-Id when it is 1-64 of [A-Za-z0-9._-] (a proxy's
    // id is kept), else 16 random hex digits; sent back as X-Request-Id on
    // routed requests, for logs to name.
    std::string request_id;

    // Case-insensitive header lookup; "" when absent.
    std::string header(std::string_view name) const;
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers

    static HttpResponse json(int status, std::string body);
    // Body: http_error_body(code, message).
    static HttpResponse error(int status, std::string_view code, std::string_view message);
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Request ids: a client's is kept when usable (1-64 of [A-Za-z0-9._-]),
// else a fresh one is made -- unique enough to find one request in the
// logs, not a secret.
bool usable_request_id(std::string_view id);
std::string new_request_id();

}  // namespace moolai::host
