// REST: what exists -- organizations and orchestrators created, read and
// removed, orchestrator credentials issued and rotated, and the seed's
// older spellings of the same (orchestrator-instances, internal register).
#include "cluster/cluster_link.hpp"
#include "rest/rest_support.hpp"

#include "observability/log.hpp"
#include "orchestrators/ws_protocol.hpp"
#include "plugins/plugin_set.hpp"

namespace moolai::host::RestApi {
namespace {

HttpResponse not_found(const char* what) {
    return HttpResponse::error(404, "not_found", std::string("no such ") + what);
}

HttpResponse created(const json& data) {
    return HttpResponse::json(201, json{{"success", true}, {"data", data}}.dump());
}

// org_create's record from a request body.
json organization_record(const json& body, const json& id) {
    json rec = {{"organization_id", id}, {"name", body.value("name", id)}};
    if (body.contains("location")) rec["location"] = body["location"];
    return rec;
}

HttpResponse create_organization(const Context& ctx, const HttpRequest& req, const Principal& who) {
    if (!who.superadmin()) return forbidden("only a superadmin creates organizations");
    json body;
    HttpResponse bad;
    if (!parse_body(req, body, bad)) return bad;
    const json id = body.value("organization_id", json());
    CallResult r = ctx.plugins.storage().org_create(organization_record(body, id).dump());
    if (!r.ok()) return storage_error(r);
    const json data = json::parse(r.output);
    audit(ctx, who, "organization_created", data.value("organization_id", ""), "");
    return created(data);
}

HttpResponse get_organization(const Context& ctx, const HttpRequest& req, const Principal& who) {
    const std::string id = req.params.at("id");
    if (!who.superadmin() && id != who.organization_id) return not_found("organization");
    CallResult r = ctx.plugins.storage().org_get(id);
    if (r.status == MOOLAI_E_NOT_FOUND) return not_found("organization");
    if (!r.ok()) return storage_error(r);
    return ok(json{{"success", true}, {"data", json::parse(r.output)}});
}

// Refused while it has orchestrators or users: removing an organization
// must not silently take a fleet or accounts with it.
HttpResponse delete_organization(const Context& ctx, const HttpRequest& req, const Principal& who) {
    if (!who.superadmin()) return forbidden("only a superadmin deletes organizations");
    const std::string id = req.params.at("id");
    CallResult found = ctx.plugins.storage().org_get(id);
    if (found.status == MOOLAI_E_NOT_FOUND) return not_found("organization");
    if (!found.ok()) return storage_error(found);
    Query q;
    q.limit = 1;
    q.organization_id = id;
    CallResult orchs = ctx.plugins.storage().orch_list(q);
    CallResult users = ctx.plugins.storage().user_list(q);
    if (!orchs.ok()) return storage_error(orchs);
    if (!users.ok()) return storage_error(users);
    const size_t n_orch = json::parse(orchs.output).value("total", size_t{0});
    const size_t n_users = json::parse(users.output).value("total", size_t{0});
    if (n_orch != 0 || n_users != 0)
        return HttpResponse::error(409, "conflict",
                                   "organization \"" + id + "\" still has " +
                                       std::to_string(n_orch) + " orchestrator(s) and " +
                                       std::to_string(n_users) +
                                       " user(s); deregister and delete them first");
    CallResult r = ctx.plugins.storage().org_delete(id);
    if (!r.ok()) return storage_error(r);
    audit(ctx, who, "organization_deleted", id, "");
    ctx.log.info("organization \"" + id + "\" deleted by " + who.username);
    return ok(
        json{{"success", true}, {"message", "Organization deleted"}, {"organization_id", id}});
}

// A fresh orchestrator credential: {"token", "token_hash"}.
bool new_credential(const Context& ctx, json& out, HttpResponse& bad) {
    CallResult tok = ctx.plugins.auth().new_token();
    if (!tok.ok()) {
        bad = storage_error(tok);
        return false;
    }
    out = json::parse(tok.output);
    return true;
}

// Stores a new orchestrator from `body`, adds it to the fleet (inactive) and
// answers 201 with its credential, shown this once.
HttpResponse create_orchestrator_from(const Context& ctx, const Principal& who, json body,
                                      const char* action) {
    const json org = body.value("organization_id", json());
    if (!org.is_string() || org.get<std::string>().empty())
        return HttpResponse::error(400, "invalid_request",
                                   "\"organization_id\" must be a non-empty string");
    if (!who.superadmin() && org != who.organization_id)
        return forbidden("an org_admin creates orchestrators of their own organization only");
    if (!body.contains("orchestrator_id")) {
        // The seed's placeholder instances may come without an id.
        CallResult tok = ctx.plugins.auth().new_token();
        if (!tok.ok()) return storage_error(tok);
        const std::string random = json::parse(tok.output)["token_hash"].get<std::string>();
        body["orchestrator_id"] = "orch-" + random.substr(0, 12);
    }
    json credential;
    HttpResponse bad;
    if (!new_credential(ctx, credential, bad)) return bad;
    json rec = {{"orchestrator_id", body["orchestrator_id"]},
                {"organization_id", org},
                {"name", body.value("name", body["orchestrator_id"])},
                {"credential_hash", credential["token_hash"]}};
    if (body.contains("metadata")) rec["metadata"] = body["metadata"];
    CallResult r = ctx.plugins.storage().orch_create(rec.dump());
    if (!r.ok()) return storage_error(r);
    json data = json::parse(r.output);
    const std::string id = data["orchestrator_id"].get<std::string>();
    ctx.fleet.add(id, data["organization_id"].get<std::string>(),
                  credential["token_hash"].get<std::string>());
    if (ctx.cluster)
        ctx.cluster->announce_created(id, data["organization_id"].get<std::string>(),
                                      credential["token_hash"].get<std::string>());
    overlay_live(ctx.fleet, data);
    data["token"] = credential["token"];
    audit(ctx, who, action, data["organization_id"].get<std::string>(), id);
    ctx.log.info("orchestrator \"" + id + "\" created by " + who.username,
                 {{"orchestrator_id", id},
                  {"organization_id", data["organization_id"].get<std::string>()},
                  {"username", who.username}});
    return created(data);
}

HttpResponse create_orchestrator(const Context& ctx, const HttpRequest& req, const Principal& who) {
    json body;
    HttpResponse bad;
    if (!parse_body(req, body, bad)) return bad;
    return create_orchestrator_from(ctx, who, std::move(body), "orchestrator_created");
}

// The seed's admin-side register: the organization is created when missing.
HttpResponse register_orchestrator(const Context& ctx, const HttpRequest& req,
                                   const Principal& who) {
    json body;
    HttpResponse bad;
    if (!parse_body(req, body, bad)) return bad;
    const json org = body.value("organization_id", json());
    if (!org.is_string() || org.get<std::string>().empty())
        return HttpResponse::error(400, "invalid_request",
                                   "\"organization_id\" must be a non-empty string");
    CallResult existing = ctx.plugins.storage().org_get(org.get<std::string>());
    if (!existing.ok() && existing.status != MOOLAI_E_NOT_FOUND) return storage_error(existing);
    if (existing.status == MOOLAI_E_NOT_FOUND) {
        if (!who.superadmin()) return forbidden("only a superadmin creates organizations");
        // "name" is the orchestrator's; the organization's is "organization_name".
        json rec = {{"organization_id", org}, {"name", body.value("organization_name", org)}};
        if (body.contains("location")) rec["location"] = body["location"];
        CallResult made = ctx.plugins.storage().org_create(rec.dump());
        if (!made.ok() && made.status != MOOLAI_E_CONFLICT) return storage_error(made);
        if (made.ok()) audit(ctx, who, "organization_created", org.get<std::string>(), "");
    }
    body.erase("location");
    return create_orchestrator_from(ctx, who, std::move(body), "orchestrator_registered");
}

// One orchestrator: the stored row with its live state.
HttpResponse get_orchestrator(const Context& ctx, const HttpRequest& req, const Principal& who) {
    HttpResponse refusal;
    auto o = orchestrator_for(ctx, req, who, refusal);
    if (!o) return refusal;
    CallResult r = ctx.plugins.storage().orch_get(o->id);
    if (r.status == MOOLAI_E_NOT_FOUND) return not_found("orchestrator");
    if (!r.ok()) return storage_error(r);
    json data = json::parse(r.output);
    data.erase("credential_hash");
    overlay_live(ctx.fleet, data);
    return ok(json{{"success", true}, {"data", data}});
}

// Removes the orchestrator with its messages; its connection is closed.
HttpResponse deregister(const Context& ctx, const HttpRequest& req, const Principal& who) {
    HttpResponse refusal;
    auto o = orchestrator_for(ctx, req, who, refusal);
    if (!o) return refusal;
    CallResult r = ctx.plugins.storage().orch_delete(o->id);
    if (!r.ok() && r.status != MOOLAI_E_NOT_FOUND) return storage_error(r);
    ctx.ws.disconnect(o->id, "deregistered");
    ctx.fleet.remove(o->id);
    if (ctx.cluster) ctx.cluster->announce_deleted(o->id);
    audit(ctx, who, "orchestrator_deregistered", o->organization_id, o->id);
    ctx.log.info("orchestrator \"" + o->id + "\" deregistered by " + who.username);
    return ok(json{
        {"success", true}, {"message", "Orchestrator deregistered"}, {"orchestrator_id", o->id}});
}

// A new credential; the old one stops working at once and a connection
// made with it is closed (1008), so a leaked credential is cut off.
HttpResponse rotate_credential(const Context& ctx, const HttpRequest& req, const Principal& who) {
    HttpResponse refusal;
    auto o = orchestrator_for(ctx, req, who, refusal);
    if (!o) return refusal;
    json credential;
    if (!new_credential(ctx, credential, refusal)) return refusal;
    const std::string hash = credential["token_hash"].get<std::string>();
    CallResult r = ctx.plugins.storage().orch_set_credential(o->id, hash);
    if (!r.ok()) return storage_error(r);
    o->set_credential_hash(hash);
    ctx.ws.disconnect(o->id, "credential rotated", 1008);
    if (ctx.cluster) ctx.cluster->announce_credential(o->id, hash);
    audit(ctx, who, "credential_rotated", o->organization_id, o->id);
    ctx.log.info("credential of orchestrator \"" + o->id + "\" rotated by " + who.username);
    return ok(json{{"success", true},
                   {"data", {{"orchestrator_id", o->id}, {"token", credential["token"]}}}});
}

}  // namespace

void install_registry_routes(RestServer& server, const Context& ctx) {
    for (const char* base : {"/api/v1/internal/organizations", "/api/v1/controller/organizations"})
        add_authed(server, ctx, "POST", base, &create_organization);
    add_authed(server, ctx, "GET", "/api/v1/controller/organizations/:id", &get_organization);
    add_authed(server, ctx, "GET", "/api/v1/internal/organizations/:id", &get_organization);
    add_authed(server, ctx, "DELETE", "/api/v1/internal/organizations/:id", &delete_organization);

    add_authed(server, ctx, "POST", "/api/v1/internal/orchestrators", &create_orchestrator);
    add_authed(server, ctx, "POST", "/api/v1/controller/orchestrator-instances",
               &create_orchestrator);
    add_authed(server, ctx, "POST", "/api/v1/internal/orchestrators/register",
               &register_orchestrator);
    add_authed(server, ctx, "GET", "/api/v1/controller/orchestrators/:id", &get_orchestrator);
    add_authed(server, ctx, "GET", "/api/v1/internal/orchestrators/:id", &get_orchestrator);
    add_authed(server, ctx, "DELETE", "/api/v1/internal/orchestrators/:id", &deregister);
    add_authed(server, ctx, "DELETE", "/api/v1/internal/orchestrators/:id/deregister", &deregister);
    add_authed(server, ctx, "DELETE", "/api/v1/controller/orchestrator-instances/:id", &deregister);
    add_authed(server, ctx, "POST", "/api/v1/internal/orchestrators/:id/credentials",
               &rotate_credential);
}

}  // namespace moolai::host::RestApi
