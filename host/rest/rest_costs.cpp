// REST: usage costs.
#include "rest/rest_support.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/rfc3339.hpp"
#include "plugins/plugin_set.hpp"

namespace moolai::host::RestApi {
namespace {

// Usage over [from, to) (default: the last 30 days), by organization,
// orchestrator, model and day, and by hour for ranges of 48 hours or less --
// or one of them with group_by.
HttpResponse costs(const Context& ctx, const HttpRequest& req, const Principal& who) {
    Query q;
    const int64_t now = now_unix_ms();
    q.to_ms = now;
    q.from_ms = now - int64_t{30} * 24 * 3600 * 1000;
    for (auto [name, target] :
         {std::pair<const char*, int64_t*>{"from", &q.from_ms}, {"to", &q.to_ms}}) {
        const std::string v = query_value(req, name);
        if (!v.empty() && !parse_rfc3339(v, *target))
            return HttpResponse::error(
                400, "invalid_query",
                std::string("\"") + name + "\" must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
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
    std::vector<std::pair<std::string, std::string>> groups = {{"organization", "by_organization"},
                                                               {"orchestrator", "by_orchestrator"},
                                                               {"model", "by_model"},
                                                               {"day", "by_day"},
                                                               {"hour", "by_hour"}};
    if (!only.empty() && std::none_of(groups.begin(), groups.end(),
                                      [&only](const auto& g) { return g.first == only; }))
        return HttpResponse::error(
            400, "invalid_query",
            "\"group_by\" must be organization, orchestrator, model, day or hour");
    // Hours only for short ranges (at most 48 of them), or when asked for.
    if (only != "hour" && q.to_ms - q.from_ms > int64_t{48} * 3600 * 1000) groups.pop_back();
    // Each group is its own storage call (its own transaction): a round of
    // reports stored between two of them would make the groups disagree
    // with each other. Every call also sums the total, so equal totals mean
    // one picture; read again (at most twice) until they agree.
    json data;
    for (int attempt = 0; attempt < 3; ++attempt) {
        data = {{"from", format_rfc3339(q.from_ms)}, {"to", format_rfc3339(q.to_ms)}};
        bool agree = true;
        for (const auto& [group, key] : groups) {
            if (!only.empty() && only != group) continue;
            q.kind = group;
            CallResult r = ctx.plugins.storage().usage_aggregate(q);
            // A storage plugin older than the "hour" kind: no hourly buckets.
            if (group == "hour" && r.status == MOOLAI_E_INVALID && only.empty()) continue;
            if (!r.ok()) return storage_error(r);
            json agg = json::parse(r.output);
            data[key] = agg["items"];
            if (data.contains("total") && data["total"] != agg["total"]) agree = false;
            data["total"] = agg["total"];
        }
        if (agree) break;
    }
    return ok(json{{"success", true}, {"data", data}});
}

}  // namespace

void install_cost_routes(RestServer& server, const Context& ctx) {
    add_authed(server, ctx, "GET", "/api/v1/controller/costs", &costs);
}

}  // namespace moolai::host::RestApi
