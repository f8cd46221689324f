// REST: the fleet as it lives -- listings with live status, the overview,
// independence, the live view and ephemeral frames.
#include "rest/rest_support.hpp"

#include "common/abi_str.hpp"

#include <algorithm>
#include <map>

#include "common/rfc3339.hpp"
#include "events/event_bus.hpp"
#include "observability/log.hpp"
#include "orchestrators/message_delivery.hpp"
#include "orchestrators/ws_protocol.hpp"
#include "plugins/plugin_set.hpp"

namespace moolai::host::RestApi {
namespace {

HttpResponse get_independence(const Context& ctx, const HttpRequest& req, const Principal& who) {
    HttpResponse refusal;
    auto o = orchestrator_for(ctx, req, who, refusal);
    if (!o) return refusal;
    return ok(json{
        {"success", true}, {"orchestrator_id", o->id}, {"is_independent", o->independent.load()}});
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
    t.orchestrator_id = abi_str(o->id);
    t.organization_id = abi_str(o->organization_id);
    t.actor = abi_str(who.username);
    t.is_independent_requested = wanted ? 1 : 0;
    CallResult allowed = ctx.plugins.independence().on_toggle(t);
    if (allowed.status == MOOLAI_E_DENIED) return forbidden(allowed.error);
    if (!allowed.ok()) return storage_error(allowed);

    CallResult stored = ctx.plugins.storage().orch_set_independence(o->id, wanted);
    if (!stored.ok()) return storage_error(stored);
    const bool old = json::parse(stored.output).value("old", false);
    o->independent.store(wanted);

    const std::string frame =
        wanted ? json{{"type", "stop_monitoring"},
                      {"orchestrator_id", o->id},
                      {"reason", "independence_enabled"}}
                     .dump()
               : json{{"type", "config_update"},
                      {"orchestrator_id", o->id},
                      {"config", {{"is_independent", false}, {"monitoring_enabled", true}}}}
                     .dump();
    const bool pushed = ctx.ws.send_to(o->id, frame) == MOOLAI_OK;

    const std::string old_text = old ? "true" : "false", new_text = wanted ? "true" : "false";
    audit(ctx, who, "independence_toggled", o->organization_id, o->id, {{"pushed", pushed}},
          old_text, new_text);
    ctx.events.publish(Event::about(MOOLAI_EVENT_INDEPENDENCE_CHANGED, o->organization_id, o->id,
                                    old_text, new_text, who.username));
    // A connected orchestrator that leaves independence is alive now: its
    // next heartbeat may be an interval away, and until then every page
    // would read "inactive" next to "connected".
    if (!wanted && pushed && ctx.fleet.record_heartbeat(o, now_unix_ms()))
        ctx.events.publish(Event::about(MOOLAI_EVENT_STATUS_CHANGED, o->organization_id, o->id,
                                        "inactive", "active", "system"));
    if (!wanted) ctx.delivery.redeliver(o->id);  // held messages go out now
    ctx.log.info("independence of \"" + o->id + "\" " + old_text + " -> " + new_text + " by " +
                     who.username + (pushed ? " (pushed)" : " (not connected)"),
                 {{"orchestrator_id", o->id},
                  {"organization_id", o->organization_id},
                  {"username", who.username},
                  {"request_id", req.request_id}});
    return ok(json{{"success", true},
                   {"message", "Independence mode updated"},
                   {"orchestrator_id", o->id},
                   {"is_independent", wanted}});
}

HttpResponse list_orchestrators(const Context& ctx, const HttpRequest& req, const Principal& who) {
    Query q;
    HttpResponse bad;
    size_t page = 0, page_size = 0;
    if (!read_page(req, 50, q, bad, page, page_size) ||
        !read_sort(req,
                   {"orchestrator_id", "name", "organization_id", "status", "last_seen",
                    "created_at"},
                   q, bad))
        return bad;
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
    return listing(ctx.plugins.storage().orch_list(q), page, page_size,
                   [&](json& item) { overlay_live(ctx.fleet, item); });
}

HttpResponse list_organizations(const Context& ctx, const HttpRequest& req, const Principal& who) {
    Query q;
    HttpResponse bad;
    size_t page = 0, page_size = 0;
    if (!read_page(req, 10, q, bad, page, page_size) ||
        !read_sort(req, {"organization_id", "name", "location", "created_at"}, q, bad))
        return bad;
    q.search = query_value(req, "search");
    if (!who.superadmin()) {
        CallResult one = ctx.plugins.storage().org_get(who.organization_id);
        json items = one.ok() ? json::array({json::parse(one.output)}) : json::array();
        // One row is in every order.
        const json sort = q.sort.empty() ? json() : json(q.sort);
        const json order = q.sort.empty() ? json() : json(q.descending ? "desc" : "asc");
        return ok(json{{"success", true},
                       {"data",
                        {{"items", items},
                         {"total", items.size()},
                         {"page", 1},
                         {"page_size", page_size},
                         {"sort", sort},
                         {"order", order}}}});
    }
    return listing(ctx.plugins.storage().org_list(q), page, page_size);
}

HttpResponse overview(const Context& ctx, const HttpRequest&, const Principal& who) {
    struct Counts {
        size_t active = 0, inactive = 0, independent = 0;
    };
    std::map<std::string, Counts> by_org;  // sorted by organization id
    Counts all;
    for (const auto& o : ctx.fleet.all()) {
        if (!who.superadmin() && o->organization_id != who.organization_id) continue;
        Counts& c = by_org[o->organization_id];
        size_t Counts::*bucket = o->independent.load()                    ? &Counts::independent
                                 : o->status.load() == MOOLAI_ORCH_ACTIVE ? &Counts::active
                                                                          : &Counts::inactive;
        ++(c.*bucket);
        ++(all.*bucket);
    }
    Query orgs_query;
    orgs_query.limit = 1000;
    if (!who.superadmin()) orgs_query.organization_id = who.organization_id;
    CallResult orgs = who.superadmin() ? ctx.plugins.storage().org_list(orgs_query)
                                       : ctx.plugins.storage().org_get(who.organization_id);
    Query one;
    one.limit = 1;
    if (!who.superadmin()) one.organization_id = who.organization_id;
    CallResult users = ctx.plugins.storage().user_list(one);
    // Storage unreachable: the dashboard's first page still shows the live
    // counts, marked degraded, with what only storage knows left out.
    const bool degraded =
        orgs.status == MOOLAI_E_UNAVAILABLE || users.status == MOOLAI_E_UNAVAILABLE;
    if (!degraded && !orgs.ok()) return storage_error(orgs);
    if (!degraded && !users.ok()) return storage_error(users);
    const json orgs_json = degraded ? json::object() : json::parse(orgs.output);
    // Organizations without orchestrators are listed too, with zeros.
    std::map<std::string, std::string> names;
    if (!degraded) {
        for (const json& org : who.superadmin() ? orgs_json["items"] : json::array({orgs_json})) {
            const std::string id = org.value("organization_id", "");
            names[id] = org.value("name", id);
            by_org.emplace(id, Counts{});
        }
    }
    json per_org = json::array();
    for (const auto& [id, c] : by_org) {
        auto name = names.find(id);
        per_org.push_back({{"organization_id", id},
                           {"name", name != names.end() ? name->second : id},
                           {"active", c.active},
                           {"inactive", c.inactive},
                           {"independent", c.independent},
                           {"total", c.active + c.inactive + c.independent}});
    }
    const size_t total_orgs = !who.superadmin() ? size_t{1}
                              : degraded        ? by_org.size()
                                                : orgs_json.value("total", size_t{0});
    json data = {
        {"total_organizations", total_orgs},
        {"active_orchestrators", all.active},
        {"total_users",
         degraded ? json(nullptr) : json(json::parse(users.output).value("total", size_t{0}))},
        {"total_orchestrators", all.active + all.inactive + all.independent},
        {"inactive_orchestrators", all.inactive},
        {"independent_orchestrators", all.independent},
        {"by_organization", per_org}};
    if (degraded) data["degraded"] = true;
    return ok(json{{"success", true}, {"data", std::move(data)}});
}

// Connected right now, from memory (the seed's live view).
HttpResponse live_orchestrators(const Context& ctx, const HttpRequest&, const Principal& who) {
    json items = json::array();
    for (const auto& o : ctx.fleet.all()) {
        if (o->connection.load() == 0) continue;
        if (!who.superadmin() && o->organization_id != who.organization_id) continue;
        const int64_t seen = o->last_seen_ms.load();
        items.push_back({{"orchestrator_id", o->id},
                         {"organization_id", o->organization_id},
                         {"status", o->independent.load()                    ? "independent"
                                    : o->status.load() == MOOLAI_ORCH_ACTIVE ? "active"
                                                                             : "inactive"},
                         {"is_independent", o->independent.load()},
                         {"last_seen", seen != 0 ? json(format_rfc3339(seen)) : json(nullptr)}});
    }
    std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
        return a["orchestrator_id"] < b["orchestrator_id"];
    });
    return ok(json{{"success", true}, {"data", {{"items", items}, {"total", items.size()}}}});
}

// An ephemeral frame to a connected orchestrator; nothing is stored.
HttpResponse send_frame(const Context& ctx, const HttpRequest& req, const Principal& who) {
    HttpResponse refusal;
    auto o = orchestrator_for(ctx, req, who, refusal);
    if (!o) return refusal;
    json body;
    if (!parse_body(req, body, refusal)) return refusal;
    if (!body.contains("type") || !body["type"].is_string())
        return HttpResponse::error(400, "invalid_request", "the frame needs a string \"type\"");
    // Independence has its own endpoint, which asks the policy plugin, stores
    // the flag and audits: a frame here must not change it behind that.
    const json config = body.value("config", json());
    if (body["type"] == "stop_monitoring" ||
        (body["type"] == "config_update" && config.is_object() &&
         (config.contains("is_independent") || config.contains("monitoring_enabled"))))
        return HttpResponse::error(400, "reserved_type",
                                   "independence is changed with PUT "
                                   "/api/v1/internal/orchestrators/{id}/independence");
    body["orchestrator_id"] = o->id;
    if (ctx.ws.send_to(o->id, body.dump()) != MOOLAI_OK)
        return HttpResponse::error(409, "not_connected", "the orchestrator is not connected");
    audit(ctx, who, "frame_sent", o->organization_id, o->id, {{"type", body["type"]}});
    return ok(json{{"success", true}, {"message", "Frame sent"}, {"orchestrator_id", o->id}});
}

}  // namespace

void install_fleet_routes(RestServer& server, const Context& ctx) {
    add_authed(server, ctx, "GET", "/api/v1/internal/orchestrators/:id/independence",
               &get_independence);
    add_authed(server, ctx, "PUT", "/api/v1/internal/orchestrators/:id/independence",
               &put_independence);
    add_authed(server, ctx, "GET", "/api/v1/controller/orchestrators", &list_orchestrators);
    add_authed(server, ctx, "GET", "/api/v1/controller/organizations", &list_organizations);
    add_authed(server, ctx, "GET", "/api/v1/controller/overview", &overview);
    add_authed(server, ctx, "GET", "/api/v1/controller/orchestrators/live", &live_orchestrators);
    add_authed(server, ctx, "POST", "/api/v1/internal/orchestrators/:id/send", &send_frame);
}

}  // namespace moolai::host::RestApi
