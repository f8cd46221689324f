// REST: recommendation and monitoring messages, their review and delivery.
#include "rest/rest_support.hpp"

#include "common/rfc3339.hpp"
#include "orchestrators/message_delivery.hpp"
#include "plugins/plugin_set.hpp"

namespace moolai::host::RestApi {
namespace {

HttpResponse create_message(const Context& ctx, const HttpRequest& req, const Principal& who) {
    HttpResponse refusal;
    auto o = orchestrator_for(ctx, req, who, refusal);
    if (!o) return refusal;
    json body;
    if (!parse_body(req, body, refusal)) return refusal;
    body["orchestrator_id"] = o->id;
    body["source"] = "rest:" + who.username;
    // The end of its delivery is the host's business, not the messaging
    // plugin's (which drops fields it does not know): decided here, added to
    // what the plugin accepted.
    std::string reason;
    if (!ctx.delivery.set_expiry(body, now_unix_ms(), reason))
        return HttpResponse::error(400, "invalid_request", reason);
    const json expires_at = body["expires_at"];
    CallResult accepted = ctx.plugins.messaging().accept(body.dump());
    if (!accepted.ok()) return storage_error(accepted);
    json record = json::parse(accepted.output);
    record["expires_at"] = expires_at;
    CallResult stored = ctx.plugins.storage().msg_create(record.dump());
    if (!stored.ok()) return storage_error(stored);
    const json m = json::parse(stored.output);
    ctx.delivery.publish_change(m, "", "pending", who.username);
    return HttpResponse::json(
        201,
        json{{"success", true}, {"message_id", m["id"]}, {"orchestrator_id", o->id}, {"data", m}}
            .dump());
}

// Messages in the seed's envelope ({"success":true,"data":[...]}) plus totals.
HttpResponse list_messages(const Context& ctx, const HttpRequest& req, const Principal& who,
                           const std::string& orchestrator_id) {
    Query q;
    HttpResponse bad;
    size_t page = 0, page_size = 0;
    if (!read_page(req, 50, q, bad, page, page_size) ||
        !read_sort(req, {"created_at", "orchestrator_id", "message_type", "status", "delivery_state"},
                   q, bad))
        return bad;
    q.orchestrator_id =
        orchestrator_id.empty() ? query_value(req, "orchestrator_id") : orchestrator_id;
    q.status = query_value(req, "status");
    q.kind = query_value(req, "message_type");
    if (!q.status.empty() && q.status != "pending" && q.status != "accepted" &&
        q.status != "dismissed")
        return HttpResponse::error(400, "invalid_query",
                                   "\"status\" must be pending, accepted or dismissed");
    if (!q.kind.empty() && q.kind != "recommendation" && q.kind != "monitoring")
        return HttpResponse::error(400, "invalid_query",
                                   "\"message_type\" must be recommendation or monitoring");
    q.organization_id = query_value(req, "organization_id");
    if (!who.superadmin()) {
        if (!q.organization_id.empty() && q.organization_id != who.organization_id)
            return forbidden("an org_admin sees their own organization only");
        q.organization_id = who.organization_id;
    }
    CallResult r = ctx.plugins.storage().msg_list(q);
    if (!r.ok()) return storage_error(r);
    const json data = json::parse(r.output);
    // "sort"/"order": what storage applied; null = newest first (listing()).
    return ok(json{{"success", true},
                   {"data", data["items"]},
                   {"total", data["total"]},
                   {"page", page},
                   {"page_size", page_size},
                   {"sort", data.value("sort", json())},
                   {"order", data.value("order", json())}});
}

HttpResponse all_messages(const Context& ctx, const HttpRequest& req, const Principal& who) {
    return list_messages(ctx, req, who, "");
}

HttpResponse orchestrator_messages(const Context& ctx, const HttpRequest& req,
                                   const Principal& who) {
    HttpResponse refusal;
    auto o = orchestrator_for(ctx, req, who, refusal);
    if (!o) return refusal;
    return list_messages(ctx, req, who, o->id);
}

// The message `id` as `who` may see it: another organization's message is
// not found. False with `refusal` set (404, or the storage error) otherwise.
bool message_for(const Context& ctx, const std::string& id, const Principal& who, json& m,
                 HttpResponse& refusal) {
    CallResult got = ctx.plugins.storage().msg_get(id);
    if (got.status == MOOLAI_E_NOT_FOUND) {
        refusal = HttpResponse::error(404, "not_found", "no such message");
        return false;
    }
    if (!got.ok()) {
        refusal = storage_error(got);
        return false;
    }
    m = json::parse(got.output);
    auto o = ctx.fleet.find(m.value("orchestrator_id", ""));
    if (!who.superadmin() && (!o || o->organization_id != who.organization_id)) {
        refusal = HttpResponse::error(404, "not_found", "no such message");
        return false;
    }
    return true;
}

// pending -> accepted | dismissed, once; an accepted recommendation leaves at once.
HttpResponse set_message_status(const Context& ctx, const HttpRequest& req, const Principal& who) {
    const std::string id = req.params.at("id");
    json m;
    HttpResponse refusal;
    if (!message_for(ctx, id, who, m, refusal)) return refusal;
    json body;
    HttpResponse bad;
    if (!parse_body(req, body, bad)) return bad;
    const json status = body.value("status", json());
    if (status != "accepted" && status != "dismissed")
        return HttpResponse::error(400, "invalid_request",
                                   "\"status\" must be \"accepted\" or \"dismissed\"");
    const std::string delivery = m.value("delivery_state", "");
    if (delivery == "expired" || delivery == "cancelled")
        return HttpResponse::error(409, "conflict",
                                   "the message is " + delivery + ": it can no longer be reviewed");
    CallResult set = ctx.plugins.storage().msg_set_status(id, "pending", status.get<std::string>());
    if (set.status == MOOLAI_E_CONFLICT)
        return HttpResponse::error(
            409, "conflict",
            "the message is " + m.value("status", std::string("?")) + ", not pending");
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

// Ends the delivery of a message that has not ended yet (pending, queued or
// sent and not acknowledged): it is never sent again. Same visibility as
// the review: another organization's message is not found.
HttpResponse cancel_message(const Context& ctx, const HttpRequest& req, const Principal& who) {
    const std::string id = req.params.at("id");
    json m;
    HttpResponse refusal;
    if (!message_for(ctx, id, who, m, refusal)) return refusal;
    json out;
    const moolai_status st = ctx.delivery.cancel(id, who.username, out);
    if (st == MOOLAI_E_NOT_FOUND) return HttpResponse::error(404, "not_found", "no such message");
    if (st == MOOLAI_E_CONFLICT) {
        const std::string delivery = out.value("delivery_state", std::string("?"));
        const bool dismissed = out.value("status", "") == "dismissed" &&
                               delivery != "acknowledged" && delivery != "expired" &&
                               delivery != "cancelled";
        return HttpResponse::error(409, "conflict",
                                   "the message is " +
                                       (dismissed ? std::string("dismissed") : delivery) +
                                       ": only a message still in delivery can be cancelled");
    }
    if (st != MOOLAI_OK) {
        CallResult failed;
        failed.status = st;
        failed.error = "cannot cancel the message";
        return storage_error(failed);
    }
    return ok(json{
        {"success", true}, {"message", "Message cancelled"}, {"message_id", id}, {"data", out}});
}

}  // namespace

void install_message_routes(RestServer& server, const Context& ctx) {
    add_authed(server, ctx, "POST", "/api/v1/internal/orchestrators/:id/messages", &create_message);
    add_authed(server, ctx, "GET", "/api/v1/internal/orchestrators/:id/messages",
               &orchestrator_messages);
    add_authed(server, ctx, "GET", "/api/v1/internal/messages", &all_messages);
    add_authed(server, ctx, "PUT", "/api/v1/internal/messages/:id/status", &set_message_status);
    add_authed(server, ctx, "POST", "/api/v1/internal/messages/:id/cancel", &cancel_message);
}

}  // namespace moolai::host::RestApi
