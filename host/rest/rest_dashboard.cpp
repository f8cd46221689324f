// REST: what the dashboard polls to stay fresh and truthful, from memory:
//   GET /api/v1/controller/orchestrators/last-seen?ids=a,b,...  the rows on
//       a page: status, independence, connection and last heartbeat, from
//       the same in-memory entry the heartbeat path writes. The one
//       exception: the last heartbeat of an orchestrator held by another
//       host is read from storage (that host's batch, at most 1 s old);
//       memory here hears of it only through status events.
//   GET /api/v1/controller/status-history?hours=&organization_id=  the
//       rolling active/inactive/independent counts (fleet/status_history),
//       and for a superadmin the controller's heartbeat ack latency
// Both are tenant-scoped: an org_admin sees their organization only.
#include "rest/rest_support.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "common/rfc3339.hpp"
#include "fleet/status_history.hpp"
#include "plugins/plugin_set.hpp"

namespace moolai::host::RestApi {
namespace {

constexpr size_t kMaxIds = 1000;

json status_json(const Orchestrator& o) {
    const int64_t seen = o.last_seen_ms.load();
    const bool independent = o.independent.load();
    return {{"orchestrator_id", o.id},
            {"organization_id", o.organization_id},
            {"status", independent                             ? "independent"
                       : o.status.load() == MOOLAI_ORCH_ACTIVE ? "active"
                                                               : "inactive"},
            {"is_independent", independent},
            {"connected", o.connection.load() != 0 || o.remote_holder.load() != 0},
            {"last_seen", seen != 0 ? json(format_rfc3339(seen)) : json(nullptr)}};
}

HttpResponse last_seen(const Context& ctx, const HttpRequest& req, const Principal& who) {
    const std::string ids = query_value(req, "ids");
    json items = json::array();
    size_t asked = 0;
    bool storage_answers = true;
    for (size_t start = 0; start <= ids.size();) {
        size_t comma = ids.find(',', start);
        if (comma == std::string::npos) comma = ids.size();
        const std::string id = ids.substr(start, comma - start);
        start = comma + 1;
        if (id.empty()) continue;
        if (++asked > kMaxIds)
            return HttpResponse::error(400, "invalid_query",
                                       "at most 1000 ids in \"ids\" (comma-separated)");
        auto o = ctx.fleet.find(id);
        // Unknown and other tenants' ids are left out alike.
        if (!o || (!who.superadmin() && o->organization_id != who.organization_id)) continue;
        json item = status_json(*o);
        if (storage_answers && o->connection.load() == 0 && o->remote_holder.load() != 0) {
            // One failed read is enough: the rest come from memory, so an
            // outage costs one storage retry window, not one per row.
            const CallResult r = ctx.plugins.storage().orch_get(id);
            const json row = r.ok() ? json::parse(r.output, nullptr, false) : json();
            if (!r.ok() && r.status != MOOLAI_E_NOT_FOUND) storage_answers = false;
            if (row.is_object() && row.contains("last_seen") && row["last_seen"].is_string())
                item["last_seen"] = row["last_seen"];
        }
        items.push_back(std::move(item));
    }
    return ok(json{{"success", true},
                   {"data",
                    {{"items", std::move(items)},
                     {"server_time", format_rfc3339(now_unix_ms())},
                     {"heartbeat_ttl_sec", ctx.fleet.ttl_ms() / 1000.0}}}});
}

json point_json(const StatusPoint& p, bool with_ack) {
    json out = {{"time", format_rfc3339(p.time_ms)},
                {"active", p.counts.active},
                {"inactive", p.counts.inactive},
                {"independent", p.counts.independent}};
    if (with_ack) {
        const auto ms = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
        out["ack_ms"] = ms(p.ack.mean_ms);
        out["ack_p99_ms"] = ms(p.ack.p99_ms);
    }
    return out;
}

HttpResponse status_history(const Context& ctx, const HttpRequest& req, const Principal& who) {
    if (ctx.status_history == nullptr)
        return HttpResponse::error(404, "not_found", "no status history is kept");
    double hours = 6;
    if (const std::string h = query_value(req, "hours"); !h.empty()) {
        char* end = nullptr;
        hours = std::strtod(h.c_str(), &end);
        if (end == nullptr || *end != '\0' || !(hours > 0 && hours <= 24))
            return HttpResponse::error(400, "invalid_query", "\"hours\" must be in (0, 24]");
    }
    std::string org = query_value(req, "organization_id");
    if (!who.superadmin()) {
        if (!org.empty() && org != who.organization_id)
            return forbidden("an org_admin sees their own organization only");
        org = who.organization_id;
    }
    // Ack latency is the whole controller's, whichever organization is
    // counted: a fleet-wide number, like the metrics, so a superadmin's only.
    const bool with_ack = who.superadmin();
    const int64_t now = now_unix_ms();
    json items = json::array();
    for (const StatusPoint& p :
         ctx.status_history->series(org, now - static_cast<int64_t>(hours * 3600000.0)))
        items.push_back(point_json(p, with_ack));
    // The last point is "now", so the chart ends where the counts on the page are.
    items.push_back(point_json({now, ctx.status_history->now(org),
                                with_ack ? ctx.status_history->ack_now() : AckLatency{}},
                               with_ack));
    return ok(json{{"success", true},
                   {"data",
                    {{"interval_sec", ctx.status_history->interval().count() / 1000.0},
                     {"organization_id", org.empty() ? json(nullptr) : json(org)},
                     {"items", std::move(items)}}}});
}

}  // namespace

void install_dashboard_routes(RestServer& server, const Context& ctx) {
    add_authed(server, ctx, "GET", "/api/v1/controller/orchestrators/last-seen", &last_seen);
    add_authed(server, ctx, "GET", "/api/v1/controller/status-history", &status_history);
}

}  // namespace moolai::host::RestApi
