#include "orchestrators/message_delivery.hpp"

#include "common/abi_str.hpp"

#include <chrono>

#include "common/rfc3339.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"

namespace moolai::host {
using nlohmann::json;

namespace {
// The delivery states after which nothing is sent and nothing changes.
bool ended(const std::string& state) {
    return state == "acknowledged" || state == "expired" || state == "cancelled";
}

// expires_at of a stored record has passed (absent or unreadable: never).
bool past_expiry(const json& m, int64_t now_ms) {
    const auto it = m.find("expires_at");
    int64_t at = 0;
    return it != m.end() && it->is_string() && parse_rfc3339(it->get<std::string>(), at) &&
           at <= now_ms;
}

constexpr int64_t kMaxTtlSec = 31536000;  // a year, as the config's bound
}  // namespace

void MessageDelivery::publish_change(const json& m, std::string old_state, std::string new_state,
                                     std::string actor) {
    const std::string orchestrator_id = m.value("orchestrator_id", "");
    std::string organization_id;
    if (auto o = fleet_.find(orchestrator_id)) organization_id = o->organization_id;
    // Every change is on the record, not only on the live stream: an operator
    // asking later why a message never arrived finds when it expired or who
    // cancelled it.
    audit_change(m, organization_id, old_state, new_state, actor);
    if (!publish_) return;
    Event e =
        Event::about(MOOLAI_EVENT_MESSAGE_CHANGED, std::move(organization_id), orchestrator_id,
                     std::move(old_state), std::move(new_state), std::move(actor));
    e.subject_id = m.value("id", "");
    publish_(std::move(e));
}

void MessageDelivery::audit_change(const json& m, const std::string& organization_id,
                                   const std::string& old_state, const std::string& new_state,
                                   const std::string& actor) {
    json row = {{"actor", actor.empty() ? std::string("system") : actor},
                {"action", "message_changed"},
                {"organization_id", organization_id},
                {"orchestrator_id", m.value("orchestrator_id", "")},
                {"detail", {{"message_id", m.value("id", "")}}}};
    if (!old_state.empty()) row["old_value"] = old_state;
    if (!new_state.empty()) row["new_value"] = new_state;
    CallResult r = plugins_.storage().audit_append(row.dump());
    if (!r.ok()) log_.warn("audit of message " + m.value("id", "") + " failed: " + r.error);
}

bool MessageDelivery::set_expiry(json& body, int64_t now_ms, std::string& reason) const {
    const auto ttl = body.find("ttl_sec");
    const auto at = body.find("expires_at");
    const bool has_ttl = ttl != body.end() && !ttl->is_null();
    const bool has_at = at != body.end() && !at->is_null();
    if (has_ttl && has_at) {
        reason = "give \"ttl_sec\" or \"expires_at\", not both";
        return false;
    }
    int64_t expires_ms = 0;
    if (has_at) {
        if (!at->is_string() || !parse_rfc3339(at->get<std::string>(), expires_ms)) {
            reason = "\"expires_at\" must be an RFC 3339 time such as 2026-12-01T10:00:00Z";
            return false;
        }
        if (expires_ms <= now_ms) {
            reason = "\"expires_at\" must be in the future";
            return false;
        }
    } else {
        int64_t seconds = options_.default_ttl_sec;
        if (has_ttl) {
            if (!ttl->is_number_integer() || ttl->get<int64_t>() < 1 ||
                ttl->get<int64_t>() > kMaxTtlSec) {
                reason = "\"ttl_sec\" must be an integer from 1 to " + std::to_string(kMaxTtlSec);
                return false;
            }
            seconds = ttl->get<int64_t>();
        }
        // Rounded up to the second the wire shows, so it never ends early.
        expires_ms = (now_ms + seconds * 1000 + 999) / 1000 * 1000;
    }
    body.erase("ttl_sec");
    body["expires_at"] = format_rfc3339(expires_ms);
    return true;
}

json MessageDelivery::deliver(const json& snapshot) {
    const auto started = std::chrono::steady_clock::now();
    json out = deliver_now(snapshot);
    if (latency_ != nullptr)
        latency_->observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return out;
}

json MessageDelivery::deliver_now(const json& snapshot) {
    const std::string id = snapshot.value("id", "");
    std::lock_guard<std::mutex> lock(stripe(id));
    // The caller's copy may be stale (an ack may have landed since it was read).
    CallResult current = plugins_.storage().msg_get(id);
    const json message = current.ok() ? json::parse(current.output) : snapshot;
    if (ended(message.value("delivery_state", ""))) return message;
    // Overdue but not swept yet: it ends here rather than going out late.
    if (past_expiry(message, now_unix_ms())) {
        json out;
        return end_delivery(message, "expired", "system", out) == MOOLAI_OK ? out : message;
    }
    const std::string orchestrator_id = message.value("orchestrator_id", "");
    std::shared_ptr<Orchestrator> o = fleet_.find(orchestrator_id);
    const std::string text = message.dump();
    moolai_route_request r{};
    r.struct_size = sizeof r;
    r.is_independent = o && o->independent.load() ? 1 : 0;
    r.message_json = abi_str(text);
    // Connected here or to another host on the same store (send_ forwards).
    r.is_connected = o && (o->connection.load() != 0 || o->remote_holder.load() != 0) ? 1 : 0;
    uint32_t decision = MOOLAI_ROUTE_SKIP;
    CallResult routed = plugins_.messaging().route(r, decision);
    if (!routed.ok()) {
        log_.warn("messaging plugin failed to route message " + id + ": " + routed.error);
        return message;
    }
    if (decision == MOOLAI_ROUTE_SKIP) return message;

    const std::string before = message.value("delivery_state", "none");
    json patch = json::object();
    if (decision == MOOLAI_ROUTE_FORWARD) {
        CallResult frame = plugins_.messaging().render(text);
        if (frame.ok() && send_(orchestrator_id, frame.output) == MOOLAI_OK) {
            patch = {{"delivery_state", "sent"},
                     {"delivery_attempts", message.value("delivery_attempts", 0) + 1},
                     {"delivered_at", format_rfc3339(now_unix_ms())}};
        } else if (!frame.ok()) {
            log_.warn("messaging plugin failed to render message " + id + ": " + frame.error);
        }
    }
    if (patch.empty() && before == "none") patch = {{"delivery_state", "queued"}};
    if (patch.empty()) return message;
    CallResult updated = plugins_.storage().msg_update_delivery(id, patch.dump());
    if (!updated.ok()) {
        log_.warn("cannot record delivery of message " + id + ": " + updated.error);
        return message;
    }
    json after = json::parse(updated.output);
    if (after.value("delivery_state", "") != before)
        publish_change(after, before, after.value("delivery_state", ""), "system");
    return after;
}

void MessageDelivery::redeliver(const std::string& orchestrator_id) {
    // Storage selects the accepted messages whose delivery has not ended and
    // whose expiry has not passed ("undelivered"), however many acknowledged
    // ones came after them: a page of the newest accepted messages could be
    // all acknowledged and hide an older one that never arrived.
    Query q;
    q.orchestrator_id = orchestrator_id;
    q.status = "undelivered";
    q.limit = options_.page_size;
    std::vector<json> pending;
    for (;;) {
        CallResult listed = plugins_.storage().msg_list(q);
        if (!listed.ok()) {
            log_.warn("cannot list messages to redeliver to " + orchestrator_id + ": " +
                      listed.error);
            break;  // what was read still goes; the rest at the next occasion
        }
        json page = json::parse(listed.output);
        json& items = page["items"];
        for (json& m : items) pending.push_back(std::move(m));
        if (items.size() < q.limit) break;
        q.offset += q.limit;
    }
    // Oldest first: they were accepted in that order (listings are newest first).
    for (auto it = pending.rbegin(); it != pending.rend(); ++it) deliver(*it);
}

moolai_status MessageDelivery::end_delivery(const json& message, const char* state,
                                            const std::string& actor, json& out) {
    const std::string id = message.value("id", "");
    const std::string before = message.value("delivery_state", "none");
    CallResult updated = plugins_.storage().msg_update_delivery(
        id, json{{"delivery_state", state}, {"ended_at", format_rfc3339(now_unix_ms())}}.dump());
    if (!updated.ok()) {
        if (updated.status != MOOLAI_E_CONFLICT)
            log_.warn(std::string("cannot record message ") + id + " as " + state + ": " +
                      updated.error);
        return updated.status;
    }
    out = json::parse(updated.output);
    publish_change(out, before, state, actor);
    return MOOLAI_OK;
}

moolai_status MessageDelivery::cancel(const std::string& message_id, const std::string& actor,
                                      json& out) {
    std::lock_guard<std::mutex> lock(stripe(message_id));
    CallResult got = plugins_.storage().msg_get(message_id);
    if (!got.ok()) return got.status;
    out = json::parse(got.output);
    if (ended(out.value("delivery_state", "")) || out.value("status", "") == "dismissed")
        return MOOLAI_E_CONFLICT;
    const json message = out;
    const moolai_status st = end_delivery(message, "cancelled", actor, out);
    if (st == MOOLAI_E_CONFLICT) {  // ended meanwhile (another host): say how
        CallResult again = plugins_.storage().msg_get(message_id);
        if (again.ok()) out = json::parse(again.output);
    }
    return st;
}

size_t MessageDelivery::expire_overdue() {
    Query q;
    q.status = "overdue";
    q.limit = options_.page_size;
    CallResult listed = plugins_.storage().msg_list(q);
    if (!listed.ok()) {
        // Once per outage, not once a round.
        if (!sweep_failing_.exchange(true))
            log_.warn("message expiry sweep cannot read storage: " + listed.error);
        return 0;
    }
    if (sweep_failing_.exchange(false)) log_.info("message expiry sweep reads storage again");
    size_t expired = 0;
    const json page = json::parse(listed.output);
    for (const json& candidate : page["items"]) {
        const std::string id = candidate.value("id", "");
        std::lock_guard<std::mutex> lock(stripe(id));
        // Read again under the stripe: an ack or a cancel may have landed.
        CallResult got = plugins_.storage().msg_get(id);
        if (!got.ok()) continue;
        const json m = json::parse(got.output);
        if (ended(m.value("delivery_state", "")) || m.value("status", "") == "dismissed" ||
            !past_expiry(m, now_unix_ms()))
            continue;
        json out;
        if (end_delivery(m, "expired", "system", out) == MOOLAI_OK) ++expired;
    }
    return expired;
}

void MessageDelivery::start() {
    queue_.start(1, [this](std::string& id) { redeliver_queued(id); });
    sweeping_ = true;
    sweeper_ = std::make_unique<PeriodicTask>(options_.sweep_interval, [this] {
        if (!sweeping_) return;  // PeriodicTask's last round at stop: not wanted here
        try {
            // Rounds of one page until nothing is due, so a backlog (after a
            // restart) drains at once rather than a page a second.
            while (sweeping_ && expire_overdue() == options_.page_size) {
            }
        } catch (const std::exception& e) {
            log_.warn(std::string("message expiry sweep failed: ") + e.what());
        }
    });
    sweeper_->start();
}

void MessageDelivery::stop() {
    sweeping_ = false;
    if (sweeper_) sweeper_->stop();
    queue_.stop(WorkQueue<std::string>::AtStop::hand_back);
    std::lock_guard<std::mutex> lock(queued_mutex_);
    queued_.clear();
}

void MessageDelivery::redeliver_soon(const std::string& orchestrator_id) {
    {
        std::lock_guard<std::mutex> lock(queued_mutex_);
        if (!queued_.insert(orchestrator_id).second) return;
    }
    if (queue_.push(std::string(orchestrator_id)) == WorkQueue<std::string>::Pushed::refused) {
        std::lock_guard<std::mutex> lock(queued_mutex_);
        queued_.erase(orchestrator_id);  // stopping: it goes at its next registration
    }
}

void MessageDelivery::redeliver_queued(const std::string& orchestrator_id) {
    {
        // A registration from now on queues it again; this redeliver() reads
        // storage after that point, so nothing accepted before is missed.
        std::lock_guard<std::mutex> lock(queued_mutex_);
        queued_.erase(orchestrator_id);
    }
    try {
        redeliver(orchestrator_id);
    } catch (const std::exception& e) {
        log_.warn("redelivery to " + orchestrator_id + " failed: " + e.what());
    }
}

moolai_status MessageDelivery::acknowledge(const std::string& orchestrator_id,
                                           const std::string& message_id) {
    std::lock_guard<std::mutex> lock(stripe(message_id));
    CallResult got = plugins_.storage().msg_get(message_id);
    if (!got.ok()) return got.status;
    const json m = json::parse(got.output);
    if (m.value("orchestrator_id", "") != orchestrator_id) return MOOLAI_E_NOT_FOUND;
    const std::string before = m.value("delivery_state", "none");
    // A repeated ack changes nothing; nor does a late one for a message that
    // expired or was cancelled meanwhile: its end is already on the record.
    if (ended(before)) return MOOLAI_OK;
    CallResult updated = plugins_.storage().msg_update_delivery(
        message_id,
        json{{"delivery_state", "acknowledged"}, {"acknowledged_at", format_rfc3339(now_unix_ms())}}
            .dump());
    if (!updated.ok()) return updated.status;
    publish_change(json::parse(updated.output), before, "acknowledged", orchestrator_id);
    return MOOLAI_OK;
}

}  // namespace moolai::host
