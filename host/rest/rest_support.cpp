#include "rest/rest_support.hpp"

#include <cctype>
#include <cstdlib>
#include <tuple>

#include "common/rfc3339.hpp"
#include "observability/log.hpp"
#include "plugins/plugin_set.hpp"
#include "plugins/storage_state.hpp"

namespace moolai::host::RestApi {

HttpResponse ok(const json& body) {
    return HttpResponse::json(200, body.dump());
}

int http_status_of(moolai_status s) {
    switch (s) {
        case MOOLAI_E_INVALID:
            return 400;
        case MOOLAI_E_NOT_FOUND:
            return 404;
        case MOOLAI_E_CONFLICT:
            return 409;
        case MOOLAI_E_DENIED:
            return 403;
        case MOOLAI_E_UNAVAILABLE:
            return 503;
        case MOOLAI_E_UNSUPPORTED:
            return 501;
        default:
            return 500;
    }
}

HttpResponse forbidden(const std::string& why) {
    return HttpResponse::error(403, "forbidden", why);
}

HttpResponse storage_unavailable() {
    HttpResponse r = HttpResponse::error(
        503, "storage_unavailable",
        "storage is unreachable; what is held in memory is still served, changes are not. "
        "Retry later.");
    r.headers.emplace_back("Retry-After", std::to_string(StorageState::kRetryAfterSec));
    return r;
}

std::string public_error_text(const std::string& text) {
    std::string lower(text);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // libpq ("connection to server at \"db\" (10.0.0.5), port 5432 failed"),
    // conninfo ("host=db port=5432") and URIs ("postgresql://u@db:5432/x").
    // Whole-ish words, so "unsupported" or "report" are not taken for a port.
    static const char* const kConnectionWords[] = {
        " port ", " port=",    "port=",         "host=",  "hostaddr", " host ",
        "://",    "server at", "connection to", "socket", "address"};
    for (const char* w : kConnectionWords)
        if (lower.find(w) != std::string::npos) return "the storage plugin failed";
    return text;
}

bool valid_password(const json& password) {
    if (!password.is_string()) return false;
    const std::string& s = password.get_ref<const std::string&>();
    size_t chars = 0;
    for (unsigned char c : s) {
        if (c == 0) return false;
        chars += (c & 0xC0) != 0x80;  // continuation bytes are not characters
    }
    return chars >= 8;
}

HttpResponse storage_error(const CallResult& r) {
    if (r.status == MOOLAI_E_UNAVAILABLE) return storage_unavailable();
    return HttpResponse::error(http_status_of(r.status), status_name(r.status),
                               public_error_text(r.error));
}

bool parse_body(const HttpRequest& req, json& out, HttpResponse& bad) {
    out = json::parse(req.body, nullptr, false);
    if (out.is_discarded() || !out.is_object()) {
        bad = HttpResponse::error(400, "invalid_json", "the body must be a JSON object");
        return false;
    }
    return true;
}

std::shared_ptr<Orchestrator> orchestrator_for(const Context& ctx, const HttpRequest& req,
                                               const Principal& who, HttpResponse& refusal) {
    const auto id = req.params.find("id");
    std::shared_ptr<Orchestrator> o = id == req.params.end() ? nullptr : ctx.fleet.find(id->second);
    if (!o || (!who.superadmin() && o->organization_id != who.organization_id)) {
        refusal = HttpResponse::error(404, "not_found", "no such orchestrator");
        return nullptr;
    }
    return o;
}

void overlay_live(const FleetState& fleet, json& item) {
    if (auto o = fleet.find(item.value("orchestrator_id", ""))) {
        const int64_t seen = o->last_seen_ms.load();
        // Held by another host: its batched writes in storage are fresher
        // than what this host heard.
        const bool held_elsewhere = o->connection.load() == 0 && o->remote_holder.load() != 0;
        item["is_independent"] = o->independent.load();
        item["status"] = o->status.load() == MOOLAI_ORCH_ACTIVE ? "active" : "inactive";
        if (seen != 0 && !held_elsewhere) item["last_seen"] = format_rfc3339(seen);
        item["connected"] = o->connection.load() != 0 || held_elsewhere;
    }
    if (item.value("is_independent", false)) item["status"] = "independent";
}

void audit(const Context& ctx, const Principal& who, const char* action,
           const std::string& organization_id, const std::string& orchestrator_id, json detail,
           const std::string& old_value, const std::string& new_value) {
    json row = {{"actor", who.username},
                {"action", action},
                {"organization_id", organization_id},
                {"orchestrator_id", orchestrator_id},
                {"detail", std::move(detail)}};
    if (!old_value.empty()) row["old_value"] = old_value;
    if (!new_value.empty()) row["new_value"] = new_value;
    CallResult r = ctx.plugins.storage().audit_append(row.dump());
    if (!r.ok()) ctx.log.error(std::string("audit append failed (") + action + "): " + r.error);
}

// The query parameter `name` as an integer 1..max; `out` unchanged when absent.
static bool read_count(const HttpRequest& req, const char* name, size_t max, size_t& out,
                       HttpResponse& bad) {
    auto it = req.query.find(name);
    if (it == req.query.end()) return true;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(it->second.c_str(), &end, 10);
    if (it->second.empty() || it->second[0] == '-' || *end != '\0' || v < 1 || v > max) {
        bad = HttpResponse::error(
            400, "invalid_query",
            std::string("\"") + name + "\" must be an integer from 1 to " + std::to_string(max));
        return false;
    }
    out = static_cast<size_t>(v);
    return true;
}

bool read_page(const HttpRequest& req, size_t default_size, Query& q, HttpResponse& bad,
               size_t& page, size_t& page_size) {
    page = 1;
    page_size = default_size;
    if (!read_count(req, "page", 10000000, page, bad) ||
        !read_count(req, "page_size", 1000, page_size, bad))
        return false;
    q.offset = (page - 1) * page_size;
    q.limit = page_size;
    return true;
}

bool read_limit(const HttpRequest& req, size_t max, size_t& limit, HttpResponse& bad) {
    return read_count(req, "limit", max, limit, bad);
}

std::string query_value(const HttpRequest& req, const char* name) {
    auto it = req.query.find(name);
    return it == req.query.end() ? std::string() : it->second;
}

bool read_sort(const HttpRequest& req, std::initializer_list<const char*> fields, Query& q,
               HttpResponse& bad) {
    std::string names;
    for (const char* f : fields) names += std::string(names.empty() ? "" : ", ") + f;
    auto it = req.query.find("sort");
    if (it != req.query.end()) {
        bool known = false;
        for (const char* f : fields) known = known || it->second == f;
        if (!known) {
            bad = HttpResponse::error(400, "invalid_query", "\"sort\" must be one of " + names);
            return false;
        }
        q.sort = it->second;
    }
    auto order = req.query.find("order");
    if (order != req.query.end()) {
        if (order->second != "asc" && order->second != "desc") {
            bad = HttpResponse::error(400, "invalid_query", "\"order\" must be asc or desc");
            return false;
        }
        q.descending = !q.sort.empty() && order->second == "desc";
    }
    return true;
}

HttpResponse listing(const CallResult& r, size_t page, size_t page_size,
                     const std::function<void(json&)>& adjust) {
    if (!r.ok()) return storage_error(r);
    json data = json::parse(r.output);
    if (adjust)
        for (json& item : data["items"]) adjust(item);
    data["page"] = page;
    data["page_size"] = page_size;
    if (!data.contains("sort")) data["sort"] = nullptr;  // the default order
    if (!data.contains("order")) data["order"] = nullptr;
    return ok(json{{"success", true}, {"data", data}});
}

namespace {
// Query parameters whose documented values are never empty (enums, dates,
// numbers): present but empty is a mistake, refused rather than read as
// absent. Free-text filters (search, actor, ids) may be empty.
constexpr const char* kNeverEmpty[] = {"status", "message_type", "role",  "level", "group_by",
                                       "from",   "to",           "hours", "limit", "page",
                                       "page_size", "sort", "order"};
}  // namespace

void add_authed(RestServer& server, const Context& ctx, const char* method, const char* pattern,
                AuthedHandler handler) {
    server.add_route(method, pattern,
                     authed(ctx, [&ctx, handler](const HttpRequest& req, const Principal& who) {
                         for (const char* name : kNeverEmpty) {
                             const auto it = req.query.find(name);
                             if (it != req.query.end() && it->second.empty())
                                 return HttpResponse::error(
                                     400, "invalid_query",
                                     std::string("\"") + name +
                                         "\" is empty: give a value or leave it out");
                         }
                         return handler(ctx, req, who);
                     }));
}

}  // namespace moolai::host::RestApi
