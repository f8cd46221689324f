#include "app/rest_api.hpp"

#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <tuple>
#include <utility>
#include <vector>

#include "app/rfc3339.hpp"
#include "app/login_throttle.hpp"
#include "app/message_delivery.hpp"
#include "app/session_auth.hpp"
#include "app/ws_protocol.hpp"
#include "events/event_bus.hpp"
#include "fleet/fleet_state.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "plugins/plugin_set.hpp"

namespace moolai::host::RestApi {
using nlohmann::json;

namespace {

HttpResponse ok(const json& body) { return HttpResponse::json(200, body.dump()); }

int http_status_of(moolai_status s) {
    switch (s) {
        case MOOLAI_E_INVALID: return 400;
        case MOOLAI_E_NOT_FOUND: return 404;
        case MOOLAI_E_CONFLICT: return 409;
        case MOOLAI_E_DENIED: return 403;
        case MOOLAI_E_UNAVAILABLE: return 503;
        case MOOLAI_E_UNSUPPORTED: return 501;
        default: return 500;
    }
}

// Wraps a handler that needs a logged-in user.
template <class Fn>
HttpHandler authed(const Context& ctx, Fn fn) {
    return [&ctx, fn](const HttpRequest& req) -> HttpResponse {
        std::optional<Principal> who = ctx.auth.authenticate(req.authorization);
        if (!who) {
            HttpResponse r = HttpResponse::error(401, "unauthorized",
                                                 "a valid \"Authorization: Bearer <token>\" "
                                                 "header is required");
            r.headers.emplace_back("WWW-Authenticate", "Bearer");
            return r;
        }
        return fn(req, *who);
    };
}

HttpResponse health(const Context& ctx) {
    const bool db_up = ctx.plugins.storage().ping().ok();
    return ok(json{{"status", "up"},
                   {"database", db_up ? "up" : "down"},
                   {"timestamp", format_rfc3339(now_unix_ms())}});
}

HttpResponse list_plugins(const Context& ctx) {
    json items = json::array();
    for (const auto& p : ctx.plugins.plugins()) {
        json caps = json::array();
        const std::string names = capability_names(p->capabilities());
        for (size_t start = 0; start < names.size();) {
            const size_t end = names.find(',', start);
            caps.push_back(names.substr(start, end == std::string::npos ? end : end - start));
            start = end == std::string::npos ? names.size() : end + 1;
        }
        items.push_back({{"name", p->name()},
                         {"version", p->version()},
                         {"description", p->description()},
                         {"abi_version", p->abi_version()},
                         {"abi_minor_required", p->abi_minor_required()},
                         {"capabilities", caps},
                         {"threading", p->concurrent() ? "concurrent" : "serialized"},
                         {"path", p->path()}});
    }
    return ok(json{{"success", true},
                   {"data", {{"items", items}, {"total", items.size()}}},
                   {"host_abi_version", std::to_string(MOOLAI_ABI_MAJOR) + "." +
                                            std::to_string(MOOLAI_ABI_MINOR)}});
}

HttpResponse login(const Context& ctx, const HttpRequest& req) {
    const json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
        return HttpResponse::error(400, "invalid_json", "the body must be a JSON object");
    const auto user = body.find("username");
    const auto pass = body.find("password");
    if (user == body.end() || !user->is_string() || user->get<std::string>().empty() ||
        pass == body.end() || !pass->is_string())
        return HttpResponse::error(400, "invalid_request",
                                   "\"username\" and \"password\" must be strings");
    const std::string username = user->get<std::string>();
    if (const int64_t wait = ctx.throttle.retry_after_sec(username, now_unix_ms())) {
        HttpResponse r = HttpResponse::error(
            429, "too_many_attempts",
            "too many failed logins for this user; try again in " + std::to_string(wait) + " s");
        r.headers.emplace_back("Retry-After", std::to_string(wait));
        return r;
    }
    LoginResult r = ctx.auth.login(username, pass->get<std::string>());
    if (r.status == MOOLAI_E_DENIED) {
        ctx.throttle.record_failure(username, now_unix_ms());
        ctx.log.warn("failed login for \"" + username + "\" from " + req.remote);
        return HttpResponse::error(401, "invalid_credentials", "invalid username or password");
    }
    if (r.status == MOOLAI_OK) ctx.throttle.reset(username);
    if (r.status != MOOLAI_OK)
        return HttpResponse::error(http_status_of(r.status), "login_failed", r.error);
    ctx.log.info("login of \"" + r.principal.username + "\" from " + req.remote);
    json org = r.principal.organization_id.empty() ? json(nullptr)
                                                   : json(r.principal.organization_id);
    return ok(json{{"success", true},
                   {"message", "Login successful"},
                   {"user",
                    {{"username", r.principal.username},
                     {"role", r.principal.role},
                     {"organization_id", org},
                     {"token", r.token},
                     {"expires_at", format_rfc3339(r.expires_at_ms)}}}});
}

HttpResponse forbidden(const std::string& why) {
    return HttpResponse::error(403, "forbidden", why);
}

HttpResponse storage_error(const CallResult& r) {
    return HttpResponse::error(http_status_of(r.status), status_name(r.status), r.error);
}

// The body as a JSON object, or an error response in `bad`.
bool parse_body(const HttpRequest& req, json& out, HttpResponse& bad) {
    out = json::parse(req.body, nullptr, false);
    if (out.is_discarded() || !out.is_object()) {
        bad = HttpResponse::error(400, "invalid_json", "the body must be a JSON object");
        return false;
    }
    return true;
}

HttpResponse create_organization(const Context& ctx, const HttpRequest& req, const Principal& who) {
    if (!who.superadmin()) return forbidden("only a superadmin creates organizations");
    json body;
    HttpResponse bad;
    if (!parse_body(req, body, bad)) return bad;
    json rec = {{"organization_id", body.value("organization_id", json())},
                {"name", body.value("name", json())}};
    if (body.contains("location")) rec["location"] = body["location"];
    CallResult r = ctx.plugins.storage().org_create(rec.dump());
    if (!r.ok()) return storage_error(r);
    return HttpResponse::json(201, json{{"success", true}, {"data", json::parse(r.output)}}.dump());
}

// Creates an orchestrator and issues its credential, shown this once.
HttpResponse create_orchestrator(const Context& ctx, const HttpRequest& req, const Principal& who) {
    json body;
    HttpResponse bad;
    if (!parse_body(req, body, bad)) return bad;
    const json org = body.value("organization_id", json());
    if (!who.superadmin() && (!org.is_string() || org != who.organization_id))
        return forbidden("an org_admin creates orchestrators of their own organization only");
    CallResult tok = ctx.plugins.auth().new_token();
    if (!tok.ok()) return storage_error(tok);
    const json t = json::parse(tok.output);
    json rec = {{"orchestrator_id", body.value("orchestrator_id", json())},
                {"organization_id", org},
                {"name", body.value("name", body.value("orchestrator_id", json()))},
                {"credential_hash", t["token_hash"]}};
    CallResult r = ctx.plugins.storage().orch_create(rec.dump());
    if (!r.ok()) return storage_error(r);
    json data = json::parse(r.output);
    ctx.fleet.add(data["orchestrator_id"].get<std::string>(),
                  data["organization_id"].get<std::string>(), t["token_hash"].get<std::string>());
    data["token"] = t["token"];
    ctx.log.info("orchestrator \"" + data["orchestrator_id"].get<std::string>() +
                 "\" created by " + who.username);
    return HttpResponse::json(201, json{{"success", true}, {"data", data}}.dump());
}

// The orchestrator named by the path, if the caller may act on it; else
// the 404/403 to answer. An org_admin outside the orchestrator's
// organization gets 404 on purpose: other tenants' ids are not confirmed.
std::shared_ptr<Orchestrator> orchestrator_for(const Context& ctx, const HttpRequest& req,
                                               const Principal& who, HttpResponse& refusal) {
    const auto id = req.params.find("id");
    std::shared_ptr<Orchestrator> o =
        id == req.params.end() ? nullptr : ctx.fleet.find(id->second);
    if (!o || (!who.superadmin() && o->organization_id != who.organization_id)) {
        refusal = HttpResponse::error(404, "not_found", "no such orchestrator");
        return nullptr;
    }
    return o;
}

HttpResponse get_independence(const Context& ctx, const HttpRequest& req, const Principal& who) {
    HttpResponse refusal;
    auto o = orchestrator_for(ctx, req, who, refusal);
    if (!o) return refusal;
    return ok(json{{"success", true},
                   {"orchestrator_id", o->id},
                   {"is_independent", o->independent.load()}});
}

// Storage first (authoritative), then memory, then the orchestrator is told
// at once, then the audit log and the event stream.
HttpResponse put_independence(const Context& ctx, const HttpRequest& req, const Principal& who) {
    HttpResponse refusal;
    auto o = orchestrator_for(ctx, req, who, refusal);
    if (!o) return refusal;
    json body;
    if (!parse_body(req, body, refusal)) return refusal;
    const auto flag = body.find("is_independent");
    if (flag == body.end() || !flag->is_boolean())
        return HttpResponse::error(400, "invalid_request", "\"is_independent\" must be a boolean");
    const bool wanted = flag->get<bool>();

    moolai_toggle_request t{};
    t.struct_size = sizeof t;
    t.is_independent_now = o->independent.load() ? 1 : 0;
    t.orchestrator_id = moolai_str{o->id.data(), o->id.size()};
    t.organization_id = moolai_str{o->organization_id.data(), o->organization_id.size()};
    t.actor = moolai_str{who.username.data(), who.username.size()};
    t.is_independent_requested = wanted ? 1 : 0;
    CallResult allowed = ctx.plugins.independence().on_toggle(t);
    if (allowed.status == MOOLAI_E_DENIED) return forbidden(allowed.error);
    if (!allowed.ok()) return storage_error(allowed);

    CallResult stored = ctx.plugins.storage().orch_set_independence(o->id, wanted);
    if (!stored.ok()) return storage_error(stored);
    const bool old = json::parse(stored.output).value("old", false);
    o->independent.store(wanted);

    const std::string frame =
        wanted ? json{{"type", "stop_monitoring"}, {"orchestrator_id", o->id},
                      {"reason", "independence_enabled"}}
                     .dump()
               : json{{"type", "config_update"}, {"orchestrator_id", o->id},
                      {"config", {{"is_independent", false}, {"monitoring_enabled", true}}}}
                     .dump();
    const bool pushed = ctx.ws.send_to(o->id, frame) == MOOLAI_OK;

    const std::string old_text = old ? "true" : "false", new_text = wanted ? "true" : "false";
    CallResult audited = ctx.plugins.storage().audit_append(
        json{{"actor", who.username}, {"action", "independence_toggled"},
             {"organization_id", o->organization_id}, {"orchestrator_id", o->id},
             {"old_value", old_text}, {"new_value", new_text},
             {"detail", {{"pushed", pushed}}}}
            .dump());
    if (!audited.ok()) ctx.log.error("audit append failed: " + audited.error);
    Event e;
    e.kind = MOOLAI_EVENT_INDEPENDENCE_CHANGED;
    e.time_ms = now_unix_ms();
    e.source = "host";
    e.organization_id = o->organization_id;
    e.orchestrator_id = o->id;
    e.old_value = old_text;
    e.new_value = new_text;
    e.actor = who.username;
    ctx.events.publish(std::move(e));
    if (!wanted) ctx.delivery.redeliver(o->id);  // held messages go out now
    ctx.log.info("independence of \"" + o->id + "\" " + old_text + " -> " + new_text + " by " +
                 who.username + (pushed ? " (pushed)" : " (not connected)"));
    return ok(json{{"success", true},
                   {"message", "Independence mode updated"},
                   {"orchestrator_id", o->id},
                   {"is_independent", wanted}});
}

// page / page_size from the query string (1-based page; page_size 1..1000).
bool read_page(const HttpRequest& req, size_t default_size, Query& q, HttpResponse& bad,
               size_t& page, size_t& page_size) {
    page = 1;
    page_size = default_size;
    for (auto [name, target, max] : {std::tuple<const char*, size_t*, size_t>{"page", &page, 10000000},
                                     {"page_size", &page_size, 1000}}) {
        auto it = req.query.find(name);
        if (it == req.query.end()) continue;
        char* end = nullptr;
        const unsigned long long v = std::strtoull(it->second.c_str(), &end, 10);
        if (it->second.empty() || *end != '\0' || v < 1 || v > max) {
            bad = HttpResponse::error(400, "invalid_query", std::string("\"") + name +
                                      "\" must be an integer from 1 to " + std::to_string(max));
            return false;
        }
        *target = static_cast<size_t>(v);
    }
    q.offset = (page - 1) * page_size;
    q.limit = page_size;
    return true;
}

std::string query_value(const HttpRequest& req, const char* name) {
    auto it = req.query.find(name);
    return it == req.query.end() ? std::string() : it->second;
}

// A listing in the seed's envelope: {"success":true,"data":{items,total,page,page_size}}.
HttpResponse listing(const CallResult& r, size_t page, size_t page_size,
                     const std::function<void(json&)>& adjust = {}) {
    if (!r.ok()) return storage_error(r);
    json data = json::parse(r.output);
    if (adjust)
        for (json& item : data["items"]) adjust(item);
    data["page"] = page;
    data["page_size"] = page_size;
    return ok(json{{"success", true}, {"data", data}});
}

HttpResponse list_orchestrators(const Context& ctx, const HttpRequest& req, const Principal& who) {
    Query q;
    HttpResponse bad;
    size_t page = 0, page_size = 0;
    if (!read_page(req, 50, q, bad, page, page_size)) return bad;
    q.status = query_value(req, "status");
    if (!q.status.empty() && q.status != "active" && q.status != "inactive" &&
        q.status != "independent")
        return HttpResponse::error(400, "invalid_query",
                                   "\"status\" must be active, inactive or independent");
    q.search = query_value(req, "search");
    q.organization_id = query_value(req, "organization_id");
    if (!who.superadmin()) {
        if (!q.organization_id.empty() && q.organization_id != who.organization_id)
            return forbidden("an org_admin sees their own organization only");
        q.organization_id = who.organization_id;
    }
    // Memory is fresher than the last batch: overlay it, and say
    // "independent" where the flag is set, as the seed's listing did.
    return listing(ctx.plugins.storage().orch_list(q), page, page_size, [&](json& item) {
        if (auto o = ctx.fleet.find(item.value("orchestrator_id", ""))) {
            const int64_t seen = o->last_seen_ms.load();
            item["is_independent"] = o->independent.load();
            item["status"] = o->status.load() == MOOLAI_ORCH_ACTIVE ? "active" : "inactive";
            if (seen != 0) item["last_seen"] = format_rfc3339(seen);
            item["connected"] = o->connection.load() != 0;
        }
        if (item.value("is_independent", false)) item["status"] = "independent";
    });
}

HttpResponse list_organizations(const Context& ctx, const HttpRequest& req, const Principal& who) {
    Query q;
    HttpResponse bad;
    size_t page = 0, page_size = 0;
    if (!read_page(req, 10, q, bad, page, page_size)) return bad;
    q.search = query_value(req, "search");
    if (!who.superadmin()) {
        CallResult one = ctx.plugins.storage().org_get(who.organization_id);
        json items = one.ok() ? json::array({json::parse(one.output)}) : json::array();
        return ok(json{{"success", true},
                       {"data", {{"items", items}, {"total", items.size()}, {"page", 1},
                                 {"page_size", page_size}}}});
    }
    return listing(ctx.plugins.storage().org_list(q), page, page_size);
}

HttpResponse overview(const Context& ctx, const Principal& who) {
    size_t active = 0, inactive = 0, independent = 0;
    for (const auto& o : ctx.fleet.all()) {
        if (!who.superadmin() && o->organization_id != who.organization_id) continue;
        if (o->independent.load()) ++independent;
        else if (o->status.load() == MOOLAI_ORCH_ACTIVE) ++active;
        else ++inactive;
    }
    Query one;
    one.limit = 1;
    if (!who.superadmin()) one.organization_id = who.organization_id;
    CallResult orgs = ctx.plugins.storage().org_list(one);
    CallResult users = ctx.plugins.storage().user_list(one);
    if (!orgs.ok()) return storage_error(orgs);
    if (!users.ok()) return storage_error(users);
    const size_t total_orgs =
        who.superadmin() ? json::parse(orgs.output).value("total", size_t{0}) : size_t{1};
    return ok(json{{"success", true},
                   {"data",
                    {{"total_organizations", total_orgs},
                     {"active_orchestrators", active},
                     {"total_users", json::parse(users.output).value("total", size_t{0})},
                     {"total_orchestrators", active + inactive + independent},
                     {"inactive_orchestrators", inactive},
                     {"independent_orchestrators", independent}}}});
}

HttpResponse create_message(const Context& ctx, const HttpRequest& req, const Principal& who) {
    HttpResponse refusal;
    auto o = orchestrator_for(ctx, req, who, refusal);
    if (!o) return refusal;
    json body;
    if (!parse_body(req, body, refusal)) return refusal;
    body["orchestrator_id"] = o->id;
    body["source"] = "rest:" + who.username;
    CallResult accepted = ctx.plugins.messaging().accept(body.dump());
    if (!accepted.ok()) return storage_error(accepted);
    CallResult stored = ctx.plugins.storage().msg_create(accepted.output);
    if (!stored.ok()) return storage_error(stored);
    const json m = json::parse(stored.output);
    ctx.delivery.publish_change(m, "", "pending", who.username);
    return HttpResponse::json(201, json{{"success", true},
                                        {"message_id", m["id"]},
                                        {"orchestrator_id", o->id},
                                        {"data", m}}
                                       .dump());
}

// Messages in the seed's envelope ({"success":true,"data":[...]}) plus totals.
HttpResponse list_messages(const Context& ctx, const HttpRequest& req, const Principal& who,
                           const std::string& orchestrator_id) {
    Query q;
    HttpResponse bad;
    size_t page = 0, page_size = 0;
    if (!read_page(req, 50, q, bad, page, page_size)) return bad;
    q.orchestrator_id = orchestrator_id.empty() ? query_value(req, "orchestrator_id") : orchestrator_id;
    q.status = query_value(req, "status");
    q.kind = query_value(req, "message_type");
    q.organization_id = query_value(req, "organization_id");
    if (!who.superadmin()) {
        if (!q.organization_id.empty() && q.organization_id != who.organization_id)
            return forbidden("an org_admin sees their own organization only");
        q.organization_id = who.organization_id;
    }
    CallResult r = ctx.plugins.storage().msg_list(q);
    if (!r.ok()) return storage_error(r);
    const json data = json::parse(r.output);
    return ok(json{{"success", true},
                   {"data", data["items"]},
                   {"total", data["total"]},
                   {"page", page},
                   {"page_size", page_size}});
}

HttpResponse orchestrator_messages(const Context& ctx, const HttpRequest& req, const Principal& who) {
    HttpResponse refusal;
    auto o = orchestrator_for(ctx, req, who, refusal);
    if (!o) return refusal;
    return list_messages(ctx, req, who, o->id);
}

// pending -> accepted | dismissed, once; an accepted recommendation leaves at once.
HttpResponse set_message_status(const Context& ctx, const HttpRequest& req, const Principal& who) {
    const std::string id = req.params.at("id");
    CallResult got = ctx.plugins.storage().msg_get(id);
    if (got.status == MOOLAI_E_NOT_FOUND)
        return HttpResponse::error(404, "not_found", "no such message");
    if (!got.ok()) return storage_error(got);
    const json m = json::parse(got.output);
    auto o = ctx.fleet.find(m.value("orchestrator_id", ""));
    if (!who.superadmin() && (!o || o->organization_id != who.organization_id))
        return HttpResponse::error(404, "not_found", "no such message");
    json body;
    HttpResponse bad;
    if (!parse_body(req, body, bad)) return bad;
    const json status = body.value("status", json());
    if (status != "accepted" && status != "dismissed")
        return HttpResponse::error(400, "invalid_request",
                                   "\"status\" must be \"accepted\" or \"dismissed\"");
    CallResult set = ctx.plugins.storage().msg_set_status(id, "pending", status.get<std::string>());
    if (set.status == MOOLAI_E_CONFLICT)
        return HttpResponse::error(409, "conflict",
                                   "the message is " + m.value("status", std::string("?")) +
                                       ", not pending");
    if (!set.ok()) return storage_error(set);
    json updated = json::parse(set.output);
    ctx.delivery.publish_change(updated, "pending", status.get<std::string>(), who.username);
    if (status == "accepted") updated = ctx.delivery.deliver(updated);
    return ok(json{{"success", true},
                   {"message", "Message status updated"},
                   {"message_id", id},
                   {"status", status},
                   {"data", updated}});
}

// Usage over [from, to) (default: the last 30 days), by organization,
// orchestrator, model and day -- or one of them with group_by.
HttpResponse costs(const Context& ctx, const HttpRequest& req, const Principal& who) {
    Query q;
    const int64_t now = now_unix_ms();
    q.to_ms = now;
    q.from_ms = now - int64_t{30} * 24 * 3600 * 1000;
    for (auto [name, target] : {std::pair<const char*, int64_t*>{"from", &q.from_ms},
                                {"to", &q.to_ms}}) {
        const std::string v = query_value(req, name);
        if (!v.empty() && !parse_rfc3339(v, *target))
            return HttpResponse::error(400, "invalid_query",
                                       std::string("\"") + name +
                                           "\" must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
    }
    if (q.from_ms >= q.to_ms)
        return HttpResponse::error(400, "invalid_query", "\"from\" must be before \"to\"");
    q.organization_id = query_value(req, "organization_id");
    q.orchestrator_id = query_value(req, "orchestrator_id");
    if (!who.superadmin()) {
        if (!q.organization_id.empty() && q.organization_id != who.organization_id)
            return forbidden("an org_admin sees their own organization only");
        q.organization_id = who.organization_id;
    }
    q.limit = 1000;
    const std::string only = query_value(req, "group_by");
    const std::vector<std::pair<std::string, std::string>> groups = {
        {"organization", "by_organization"}, {"orchestrator", "by_orchestrator"},
        {"model", "by_model"}, {"day", "by_day"}};
    json data = {{"from", format_rfc3339(q.from_ms)}, {"to", format_rfc3339(q.to_ms)}};
    bool known = only.empty();
    for (const auto& [group, key] : groups) {
        if (!only.empty() && only != group) continue;
        known = true;
        q.kind = group;
        CallResult r = ctx.plugins.storage().usage_aggregate(q);
        if (!r.ok()) return storage_error(r);
        json agg = json::parse(r.output);
        data[key] = agg["items"];
        data["total"] = agg["total"];
    }
    if (!known)
        return HttpResponse::error(400, "invalid_query",
                                   "\"group_by\" must be organization, orchestrator, model or day");
    return ok(json{{"success", true}, {"data", data}});
}

// Superadmins create users; an org_admin belongs to one existing organization.
HttpResponse create_user(const Context& ctx, const HttpRequest& req, const Principal& who) {
    if (!who.superadmin()) return forbidden("only a superadmin creates users");
    json body;
    HttpResponse bad;
    if (!parse_body(req, body, bad)) return bad;
    const json username = body.value("username", json());
    const json password = body.value("password", json());
    const json role = body.value("role", json());
    const json org = body.value("organization_id", json());
    if (!username.is_string() || username.get<std::string>().empty())
        return HttpResponse::error(400, "invalid_request", "\"username\" must be a non-empty string");
    if (!password.is_string() || password.get<std::string>().size() < 8)
        return HttpResponse::error(400, "invalid_request",
                                   "\"password\" must be a string of at least 8 characters");
    if (role != "superadmin" && role != "org_admin")
        return HttpResponse::error(400, "invalid_request",
                                   "\"role\" must be \"superadmin\" or \"org_admin\"");
    if (role == "org_admin" && (!org.is_string() || org.get<std::string>().empty()))
        return HttpResponse::error(400, "invalid_request",
                                   "an org_admin needs an \"organization_id\"");
    if (role == "org_admin" && !ctx.plugins.storage().org_get(org.get<std::string>()).ok())
        return HttpResponse::error(400, "invalid_request",
                                   "organization \"" + org.get<std::string>() + "\" does not exist");
    CallResult r = ctx.auth.create_user(username.get<std::string>(), password.get<std::string>(),
                                        role.get<std::string>(),
                                        role == "org_admin" ? org.get<std::string>() : "");
    if (!r.ok()) return storage_error(r);
    json data = json::parse(r.output);
    data.erase("password_hash");
    ctx.log.info("user \"" + username.get<std::string>() + "\" (" + role.get<std::string>() +
                 ") created by " + who.username);
    return HttpResponse::json(201, json{{"success", true}, {"data", data}}.dump());
}

HttpResponse list_users(const Context& ctx, const HttpRequest& req, const Principal& who) {
    Query q;
    HttpResponse bad;
    size_t page = 0, page_size = 0;
    if (!read_page(req, 50, q, bad, page, page_size)) return bad;
    q.search = query_value(req, "search");
    q.status = query_value(req, "role");
    q.organization_id = who.superadmin() ? query_value(req, "organization_id") : who.organization_id;
    return listing(ctx.plugins.storage().user_list(q), page, page_size);
}

HttpResponse delete_user(const Context& ctx, const HttpRequest& req, const Principal& who) {
    if (!who.superadmin()) return forbidden("only a superadmin deletes users");
    const std::string name = req.params.at("username");
    if (name == who.username)
        return HttpResponse::error(409, "conflict", "you cannot delete your own account");
    CallResult r = ctx.plugins.storage().user_delete(name);
    if (!r.ok()) return storage_error(r);
    return ok(json{{"success", true}, {"message", "User deleted"}, {"username", name}});
}

}  // namespace

void install(RestServer& server, const Context& ctx) {
    const Context* c = &ctx;
    server.add_route("GET", "/api/v1/controller/health",
                     [c](const HttpRequest&) { return health(*c); });
    server.add_route("GET", "/metrics", authed(ctx, [c](const HttpRequest&, const Principal&) {
                         HttpResponse r;
                         r.content_type = "text/plain; version=0.0.4";
                         r.body = c->metrics.render_prometheus();
                         return r;
                     }));
    server.add_route("POST", "/api/v1/internal/auth/login",
                     [c](const HttpRequest& req) { return login(*c, req); });
    server.add_route("POST", "/api/v1/internal/auth/logout",
                     authed(ctx, [c](const HttpRequest& req, const Principal&) {
                         c->auth.logout(req.authorization);
                         return ok(json{{"success", true}, {"message", "Logged out"}});
                     }));
    server.add_route("POST", "/api/v1/internal/organizations",
                     authed(ctx, [c](const HttpRequest& req, const Principal& who) {
                         return create_organization(*c, req, who);
                     }));
    server.add_route("POST", "/api/v1/internal/orchestrators",
                     authed(ctx, [c](const HttpRequest& req, const Principal& who) {
                         return create_orchestrator(*c, req, who);
                     }));
    server.add_route("GET", "/api/v1/internal/orchestrators/:id/independence",
                     authed(ctx, [c](const HttpRequest& req, const Principal& who) {
                         return get_independence(*c, req, who);
                     }));
    server.add_route("PUT", "/api/v1/internal/orchestrators/:id/independence",
                     authed(ctx, [c](const HttpRequest& req, const Principal& who) {
                         return put_independence(*c, req, who);
                     }));
    server.add_route("GET", "/api/v1/controller/orchestrators",
                     authed(ctx, [c](const HttpRequest& req, const Principal& who) {
                         return list_orchestrators(*c, req, who);
                     }));
    server.add_route("GET", "/api/v1/controller/organizations",
                     authed(ctx, [c](const HttpRequest& req, const Principal& who) {
                         return list_organizations(*c, req, who);
                     }));
    server.add_route("GET", "/api/v1/controller/overview",
                     authed(ctx, [c](const HttpRequest&, const Principal& who) {
                         return overview(*c, who);
                     }));
    server.add_route("POST", "/api/v1/internal/orchestrators/:id/messages",
                     authed(ctx, [c](const HttpRequest& req, const Principal& who) {
                         return create_message(*c, req, who);
                     }));
    server.add_route("GET", "/api/v1/internal/orchestrators/:id/messages",
                     authed(ctx, [c](const HttpRequest& req, const Principal& who) {
                         return orchestrator_messages(*c, req, who);
                     }));
    server.add_route("GET", "/api/v1/internal/messages",
                     authed(ctx, [c](const HttpRequest& req, const Principal& who) {
                         return list_messages(*c, req, who, "");
                     }));
    server.add_route("PUT", "/api/v1/internal/messages/:id/status",
                     authed(ctx, [c](const HttpRequest& req, const Principal& who) {
                         return set_message_status(*c, req, who);
                     }));
    server.add_route("GET", "/api/v1/controller/costs",
                     authed(ctx, [c](const HttpRequest& req, const Principal& who) {
                         return costs(*c, req, who);
                     }));
    server.add_route("POST", "/api/v1/internal/users",
                     authed(ctx, [c](const HttpRequest& req, const Principal& who) {
                         return create_user(*c, req, who);
                     }));
    server.add_route("GET", "/api/v1/internal/users",
                     authed(ctx, [c](const HttpRequest& req, const Principal& who) {
                         return list_users(*c, req, who);
                     }));
    server.add_route("DELETE", "/api/v1/internal/users/:username",
                     authed(ctx, [c](const HttpRequest& req, const Principal& who) {
                         return delete_user(*c, req, who);
                     }));
    server.add_route("GET", "/api/v1/internal/plugins",
                     authed(ctx, [c](const HttpRequest&, const Principal&) {
                         return list_plugins(*c);
                     }));
}

}  // namespace moolai::host::RestApi
