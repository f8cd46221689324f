// Router: the REST server's route table -- patterns such as
// "/api/v1/x/:id/messages" to handlers. Plain logic, no HTTP library.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/http_message.hpp"

namespace moolai::host {

// %XX -> byte; malformed escapes are kept as they are.
std::string pct_decode(std::string_view s, bool plus_is_space);
// Raw (undecoded) non-empty path segments.
std::vector<std::string_view> split_path(std::string_view path);

struct Route {
    struct Segment {
        std::string text;  // literal, or the parameter name without ':'
        bool param = false;
    };
    std::string method;   // upper case
    std::string pattern;  // as added
    std::vector<Segment> segs;
    HttpHandler handler;
    bool inline_on_reactor = false;
};

class Router {
public:
    // The table is replaced whole on every add(), so routes can be added
    // while requests are served (health probes answer before the API is
    // installed); a match keeps the table its route lives in.
    using Table = std::shared_ptr<const std::vector<Route>>;

    struct Match {
        Table table;
        const Route* route = nullptr;  // null: no route for this method and path
        std::unordered_map<std::string, std::string> params;  // of `route`
        std::string allow;  // other methods on this path, "GET, POST"
    };

    // Any thread. Throws std::invalid_argument when pattern does not start with '/'.
    void add(std::string method, std::string pattern, HttpHandler handler, bool inline_on_reactor);
    // Any thread, lock-free. segs: the decoded path segments. Segments match
    // exactly; a literal segment beats a ":param" (leftmost difference decides).
    Match match(const std::string& method, const std::vector<std::string>& segs) const;
    // (method, pattern) in the order added.
    std::vector<std::pair<std::string, std::string>> routes() const;

private:
    std::mutex add_mutex_;  // serializes add(); readers go through the atomic table
    Table table_ = std::make_shared<const std::vector<Route>>();
};

}  // namespace moolai::host
