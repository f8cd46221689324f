#include "net/router.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <stdexcept>

namespace moolai::host {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Literal beats ":param" at the leftmost segment where the two differ.
bool more_specific(const Route& a, const Route& b) {
    for (size_t i = 0; i < a.segs.size(); ++i)
        if (a.segs[i].param != b.segs[i].param) return !a.segs[i].param;
    return false;
}

bool matches(const Route& r, const std::vector<std::string>& segs) {
    if (r.segs.size() != segs.size()) return false;
    for (size_t i = 0; i < segs.size(); ++i)
        if (!r.segs[i].param && r.segs[i].text != segs[i]) return false;
    return true;
}

}  // namespace

std::string pct_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%' && i + 2 < s.size()) {
            const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(plus_is_space && c == '+' ? ' ' : c);
    }
    return out;
}

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> segs;
    size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == '/') ++i;
        const size_t j = std::min(path.find('/', i), path.size());
        if (j > i) segs.push_back(path.substr(i, j - i));
        i = j;
    }
    return segs;
}

void Router::add(std::string method, std::string pattern, HttpHandler handler,
                 bool inline_on_reactor) {
    if (pattern.empty() || pattern[0] != '/')
        throw std::invalid_argument("route pattern must start with '/': " + pattern);
    Route r;
    for (std::string_view s : split_path(pattern)) {
        Route::Segment seg;
        seg.param = s[0] == ':';
        seg.text = std::string(seg.param ? s.substr(1) : s);
        r.segs.push_back(std::move(seg));
    }
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    r.method = std::move(method);
    r.pattern = std::move(pattern);
    r.handler = std::move(handler);
    r.inline_on_reactor = inline_on_reactor;
    std::lock_guard<std::mutex> lock(add_mutex_);
    auto next = std::make_shared<std::vector<Route>>(*std::atomic_load(&table_));
    next->push_back(std::move(r));
    std::atomic_store(&table_, Table(std::move(next)));
}

// The most specific pattern that matches the path decides, whatever the
// method (OpenAPI's rule: a concrete path is matched before a templated
// one): its routes serve the request or name the methods in Allow. So
// "/orchestrators/register" never falls through to "/orchestrators/:id".
Router::Match Router::match(const std::string& method, const std::vector<std::string>& segs) const {
    Match m;
    m.table = std::atomic_load(&table_);
    const Route* best = nullptr;
    for (const Route& r : *m.table)
        if (matches(r, segs) && (!best || more_specific(r, *best))) best = &r;
    if (!best) return m;
    for (const Route& r : *m.table) {
        if (!matches(r, segs) || more_specific(*best, r)) continue;  // a less specific shape
        if (r.method == method) {
            if (!m.route) m.route = &r;
        } else if (m.allow.find(r.method) == std::string::npos) {
            m.allow += (m.allow.empty() ? "" : ", ") + r.method;
        }
    }
    if (m.route)
        for (size_t i = 0; i < segs.size(); ++i)
            if (m.route->segs[i].param) m.params[m.route->segs[i].text] = segs[i];
    return m;
}

std::vector<std::pair<std::string, std::string>> Router::routes() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const Route& r : *std::atomic_load(&table_)) out.emplace_back(r.method, r.pattern);
    return out;
}

}  // namespace moolai::host
