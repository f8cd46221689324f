// REST: a superadmin changes a user's role (and organization) or resets
// their password (the dashboard's Users page):
//   PUT /api/v1/internal/users/{username}
//       {"role"?, "organization_id"?, "password"?}
// A new password, or a changed role or organization, ends the user's open
// sessions: storage deletes them in the same transaction as the change
// (user_update, ABI 1.3) and the answer says how many ("sessions_ended").
// One's own new password keeps the session it was set from, so the
// operator who changed it stays signed in here and everywhere else is
// signed out. A storage plugin built before 1.3 leaves sessions open: the
// answer then has "sessions_ended": null and a warning is logged. One's own
// role is not changed here, so the last superadmin cannot lock everyone
// out. Audited as user_updated, without the password.
#include "rest/rest_support.hpp"

#include "observability/log.hpp"
#include "plugins/plugin_set.hpp"

namespace moolai::host::RestApi {
namespace {

HttpResponse invalid(const std::string& why) {
    return HttpResponse::error(400, "invalid_request", why);
}

HttpResponse update_user(const Context& ctx, const HttpRequest& req, const Principal& who) {
    if (!who.superadmin()) return forbidden("only a superadmin edits users");
    const std::string name = req.params.at("username");
    json body;
    HttpResponse bad;
    if (!parse_body(req, body, bad)) return bad;
    for (const auto& [k, v] : body.items())
        if (k != "role" && k != "organization_id" && k != "password")
            return invalid("\"" + k +
                           "\" cannot be changed: give role, organization_id or password");
    if (body.empty()) return invalid("nothing to change: give role, organization_id or password");

    CallResult found = ctx.plugins.storage().user_get(name);
    if (found.status == MOOLAI_E_NOT_FOUND)
        return HttpResponse::error(404, "not_found", "no such user");
    if (!found.ok()) return storage_error(found);
    const json before = json::parse(found.output);

    json patch = json::object();
    json changed = json::object();
    // Checked whatever the role: a superadmin's organization is dropped,
    // but a malformed one is still a mistake to report.
    if (body.contains("organization_id") && !body["organization_id"].is_string() &&
        !body["organization_id"].is_null())
        return invalid("\"organization_id\" must be a string or null");
    if (body.contains("role") || body.contains("organization_id")) {
        if (name == who.username)
            return HttpResponse::error(409, "conflict", "you cannot change your own role");
        const json role = body.value("role", before.value("role", json()));
        if (role != "superadmin" && role != "org_admin")
            return invalid("\"role\" must be \"superadmin\" or \"org_admin\"");
        json org = body.contains("organization_id") ? body["organization_id"]
                                                    : before.value("organization_id", json());
        if (role == "superadmin") {
            org = nullptr;
        } else {
            if (!org.is_string() || org.get<std::string>().empty())
                return invalid("an org_admin needs an \"organization_id\"");
            CallResult o = ctx.plugins.storage().org_get(org.get<std::string>());
            if (o.status == MOOLAI_E_NOT_FOUND)
                return invalid("organization \"" + org.get<std::string>() + "\" does not exist");
            if (!o.ok()) return storage_error(o);
        }
        patch["role"] = role;
        patch["organization_id"] = org;
        changed["role"] = role;
        changed["organization_id"] = org;
    }
    if (body.contains("password")) {
        const json& pw = body["password"];
        if (!valid_password(pw)) return invalid(kPasswordRule);
        CallResult hashed = ctx.plugins.auth().hash_password(pw.get<std::string>());
        if (!hashed.ok()) return storage_error(hashed);
        patch["password_hash"] = hashed.output;
        changed["password_reset"] = true;
    }
    std::string keep;
    if (body.contains("password") && name == who.username)
        keep = ctx.auth.session_hash(req.authorization);
    if (!keep.empty()) patch["keep_session"] = keep;
    CallResult r = ctx.plugins.storage().user_update(name, patch.dump());
    if (!r.ok()) return storage_error(r);
    json data = json::parse(r.output);
    data.erase("password_hash");
    if (data.contains("sessions_ended")) {
        ctx.auth.forget_user(name, keep);
        changed["sessions_ended"] = data["sessions_ended"];
    } else {
        data["sessions_ended"] = nullptr;
        ctx.log.warn("user \"" + name +
                     "\" changed, but the storage plugin predates ABI 1.3 and cannot end their "
                     "open sessions");
    }
    const json old_org = before.value("organization_id", json());
    audit(ctx, who, "user_updated",
          data.value("organization_id", json()).is_string()
              ? data["organization_id"].get<std::string>()
              : (old_org.is_string() ? old_org.get<std::string>() : ""),
          "", {{"username", name}, {"changed", changed}});
    return ok(json{{"success", true}, {"data", data}});
}

}  // namespace

void install_user_edit_routes(RestServer& server, const Context& ctx) {
    add_authed(server, ctx, "PUT", "/api/v1/internal/users/:username", &update_user);
}

}  // namespace moolai::host::RestApi
