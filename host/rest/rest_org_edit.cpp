// REST: a superadmin edits an organization (the dashboard's edit form):
//   PUT /api/v1/internal/organizations/{id}  {"name"?, "location"?}
// Only these two fields; the id, status and independence have their own
// ways. Audited; an org_admin is refused (403), an unknown id is 404.
#include "rest/rest_support.hpp"

#include "plugins/plugin_set.hpp"

namespace moolai::host::RestApi {
namespace {

HttpResponse update_organization(const Context& ctx, const HttpRequest& req, const Principal& who) {
    if (!who.superadmin()) return forbidden("only a superadmin edits organizations");
    const std::string id = req.params.at("id");
    json body;
    HttpResponse bad;
    if (!parse_body(req, body, bad)) return bad;
    json patch = json::object();
    for (const char* field : {"name", "location"}) {
        const auto it = body.find(field);
        if (it == body.end()) continue;
        if (!it->is_string())
            return HttpResponse::error(400, "invalid_request",
                                       std::string("\"") + field + "\" must be a string");
        patch[field] = *it;
    }
    if (patch.empty())
        return HttpResponse::error(400, "invalid_request",
                                   "nothing to change: give \"name\" and/or \"location\"");
    if (patch.contains("name") && patch["name"].get<std::string>().empty())
        return HttpResponse::error(400, "invalid_request", "\"name\" must not be empty");
    CallResult found = ctx.plugins.storage().org_get(id);
    if (found.status == MOOLAI_E_NOT_FOUND)
        return HttpResponse::error(404, "not_found", "no such organization");
    if (!found.ok()) return storage_error(found);
    CallResult r = ctx.plugins.storage().org_update(id, patch.dump());
    if (!r.ok()) return storage_error(r);
    const json before = json::parse(found.output);
    json old_values = json::object();
    for (const auto& [k, v] : patch.items()) old_values[k] = before.value(k, json());
    audit(ctx, who, "organization_updated", id, "", {{"changed", patch}}, old_values.dump(),
          patch.dump());
    return ok(json{{"success", true}, {"data", json::parse(r.output)}});
}

}  // namespace

void install_org_edit_routes(RestServer& server, const Context& ctx) {
    add_authed(server, ctx, "PUT", "/api/v1/internal/organizations/:id", &update_organization);
    add_authed(server, ctx, "PUT", "/api/v1/controller/organizations/:id", &update_organization);
}

}  // namespace moolai::host::RestApi
