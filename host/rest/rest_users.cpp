// REST: users (superadmins and org_admins) and the audit log of what they did.
#include "rest/rest_support.hpp"

#include <utility>

#include "common/rfc3339.hpp"
#include "observability/log.hpp"
#include "plugins/plugin_set.hpp"

namespace moolai::host::RestApi {
namespace {

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
        return HttpResponse::error(400, "invalid_request",
                                   "\"username\" must be a non-empty string");
    if (!valid_password(password))
        return HttpResponse::error(400, "invalid_request", kPasswordRule);
    if (role != "superadmin" && role != "org_admin")
        return HttpResponse::error(400, "invalid_request",
                                   "\"role\" must be \"superadmin\" or \"org_admin\"");
    if (role == "org_admin" && (!org.is_string() || org.get<std::string>().empty()))
        return HttpResponse::error(400, "invalid_request",
                                   "an org_admin needs an \"organization_id\"");
    if (role == "org_admin") {
        CallResult found = ctx.plugins.storage().org_get(org.get<std::string>());
        if (found.status == MOOLAI_E_NOT_FOUND)
            return HttpResponse::error(
                400, "invalid_request",
                "organization \"" + org.get<std::string>() + "\" does not exist");
        if (!found.ok()) return storage_error(found);
    }
    CallResult r = ctx.auth.create_user(username.get<std::string>(), password.get<std::string>(),
                                        role.get<std::string>(),
                                        role == "org_admin" ? org.get<std::string>() : "");
    if (!r.ok()) return storage_error(r);
    json data = json::parse(r.output);
    data.erase("password_hash");
    ctx.log.info("user \"" + username.get<std::string>() + "\" (" + role.get<std::string>() +
                 ") created by " + who.username);
    audit(ctx, who, "user_created", role == "org_admin" ? org.get<std::string>() : "", "",
          {{"username", username}, {"role", role}});
    return HttpResponse::json(201, json{{"success", true}, {"data", data}}.dump());
}

HttpResponse list_users(const Context& ctx, const HttpRequest& req, const Principal& who) {
    Query q;
    HttpResponse bad;
    size_t page = 0, page_size = 0;
    if (!read_page(req, 50, q, bad, page, page_size) ||
        !read_sort(req, {"username", "role", "organization_id", "created_at"}, q, bad))
        return bad;
    q.search = query_value(req, "search");
    q.status = query_value(req, "role");
    if (!q.status.empty() && q.status != "superadmin" && q.status != "org_admin")
        return HttpResponse::error(400, "invalid_query",
                                   "\"role\" must be superadmin or org_admin");
    q.organization_id = query_value(req, "organization_id");
    if (!who.superadmin()) {
        if (!q.organization_id.empty() && q.organization_id != who.organization_id)
            return forbidden("an org_admin sees their own organization only");
        q.organization_id = who.organization_id;
    }
    return listing(ctx.plugins.storage().user_list(q), page, page_size);
}

HttpResponse get_user(const Context& ctx, const HttpRequest& req, const Principal& who) {
    const std::string name = req.params.at("username");
    CallResult r = ctx.plugins.storage().user_get(name);
    if (r.ok()) {
        json data = json::parse(r.output);
        // An org_admin sees the users of their organization; others are not confirmed.
        if (who.superadmin() || data.value("organization_id", json()) == who.organization_id) {
            data.erase("password_hash");
            return ok(json{{"success", true}, {"data", data}});
        }
    } else if (r.status != MOOLAI_E_NOT_FOUND) {
        return storage_error(r);
    }
    return HttpResponse::error(404, "not_found", "no such user");
}

HttpResponse delete_user(const Context& ctx, const HttpRequest& req, const Principal& who) {
    if (!who.superadmin()) return forbidden("only a superadmin deletes users");
    const std::string name = req.params.at("username");
    if (name == who.username)
        return HttpResponse::error(409, "conflict", "you cannot delete your own account");
    CallResult found = ctx.plugins.storage().user_get(name);
    if (!found.ok()) return storage_error(found);
    CallResult r = ctx.plugins.storage().user_delete(name);
    if (!r.ok()) return storage_error(r);
    audit(ctx, who, "user_deleted",
          json::parse(found.output).value("organization_id", json()).is_string()
              ? json::parse(found.output)["organization_id"].get<std::string>()
              : "",
          "", {{"username", name}});
    return ok(json{{"success", true}, {"message", "User deleted"}, {"username", name}});
}

// The audit log, newest first; org_admins see their organization's rows.
HttpResponse list_audit(const Context& ctx, const HttpRequest& req, const Principal& who) {
    Query q;
    HttpResponse bad;
    size_t page = 0, page_size = 0;
    if (!read_page(req, 50, q, bad, page, page_size) ||
        !read_sort(req, {"time", "actor", "action", "organization_id", "orchestrator_id"}, q, bad))
        return bad;
    q.kind = query_value(req, "action");
    q.search = query_value(req, "actor");
    q.orchestrator_id = query_value(req, "orchestrator_id");
    q.organization_id = query_value(req, "organization_id");
    // A date range [from, to): the dashboard's audit filter.
    for (auto [name, target] :
         {std::pair<const char*, int64_t*>{"from", &q.from_ms}, {"to", &q.to_ms}}) {
        const std::string v = query_value(req, name);
        if (!v.empty() && !parse_rfc3339(v, *target))
            return HttpResponse::error(
                400, "invalid_query",
                std::string("\"") + name + "\" must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
    }
    if (q.from_ms != 0 && q.to_ms != 0 && q.from_ms >= q.to_ms)
        return HttpResponse::error(400, "invalid_query", "\"from\" must be before \"to\"");
    if (!who.superadmin()) {
        if (!q.organization_id.empty() && q.organization_id != who.organization_id)
            return forbidden("an org_admin sees their own organization only");
        q.organization_id = who.organization_id;
    }
    return listing(ctx.plugins.storage().audit_list(q), page, page_size);
}

// The audit log's hash chain, checked from its first row to the newest
// (superadmins: the chain spans every organization). 200 with "ok" false
// when a link is broken: the check itself worked.
HttpResponse verify_audit(const Context& ctx, const HttpRequest&, const Principal& who) {
    if (!who.superadmin()) return forbidden("only a superadmin checks the audit log's chain");
    const CallResult r = ctx.plugins.storage().audit_verify();
    if (!r.ok()) return storage_error(r);
    json out = json::parse(r.output, nullptr, false);
    if (!out.is_object())
        return HttpResponse::error(500, "internal", "the storage plugin's answer is not JSON");
    if (!out.value("ok", false) && out["first_broken"].is_object())
        ctx.log.error("audit chain broken at row " + out["first_broken"].value("id", json()).dump() +
                      ": " + out["first_broken"].value("reason", std::string()) +
                      " (checked by " + who.username + ")");
    return ok(out);
}

}  // namespace

void install_user_routes(RestServer& server, const Context& ctx) {
    add_authed(server, ctx, "POST", "/api/v1/internal/users", &create_user);
    add_authed(server, ctx, "GET", "/api/v1/internal/users", &list_users);
    add_authed(server, ctx, "GET", "/api/v1/internal/users/:username", &get_user);
    add_authed(server, ctx, "DELETE", "/api/v1/internal/users/:username", &delete_user);
    add_authed(server, ctx, "GET", "/api/v1/internal/audit", &list_audit);
    add_authed(server, ctx, "GET", "/api/v1/internal/audit/verify", &verify_audit);
}

}  // namespace moolai::host::RestApi
