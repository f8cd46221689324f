#include "orchestrators/message_delivery.hpp"

#include "common/abi_str.hpp"

#include <chrono>

#include "common/rfc3339.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"

namespace moolai::host {
using nlohmann::json;

void MessageDelivery::publish_change(const json& m, std::string old_state, std::string new_state,
                                     std::string actor) {
    if (!publish_) return;
    const std::string orchestrator_id = m.value("orchestrator_id", "");
    std::string organization_id;
    if (auto o = fleet_.find(orchestrator_id)) organization_id = o->organization_id;
    Event e =
        Event::about(MOOLAI_EVENT_MESSAGE_CHANGED, std::move(organization_id), orchestrator_id,
                     std::move(old_state), std::move(new_state), std::move(actor));
    e.subject_id = m.value("id", "");
    publish_(std::move(e));
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
    if (message.value("delivery_state", "") == "acknowledged") return message;
    const std::string orchestrator_id = message.value("orchestrator_id", "");
    std::shared_ptr<Orchestrator> o = fleet_.find(orchestrator_id);
    const std::string text = message.dump();
    moolai_route_request r{};
    r.struct_size = sizeof r;
    r.is_independent = o && o->independent.load() ? 1 : 0;
    r.message_json = abi_str(text);
    r.is_connected = o && o->connection.load() != 0 ? 1 : 0;
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
    Query q;
    q.orchestrator_id = orchestrator_id;
    q.status = "accepted";
    q.limit = 1000;
    CallResult listed = plugins_.storage().msg_list(q);
    if (!listed.ok()) {
        log_.warn("cannot list messages to redeliver to " + orchestrator_id + ": " + listed.error);
        return;
    }
    const json page = json::parse(listed.output);
    // Oldest first: they were accepted in that order.
    const json& items = page["items"];
    for (auto it = items.rbegin(); it != items.rend(); ++it) {
        if (it->value("delivery_state", "") != "acknowledged") deliver(*it);
    }
}

void MessageDelivery::start() {
    queue_.start(1, [this](std::string& id) { redeliver_queued(id); });
}

void MessageDelivery::stop() {
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
    if (before == "acknowledged") return MOOLAI_OK;  // a repeated ack changes nothing
    CallResult updated = plugins_.storage().msg_update_delivery(
        message_id,
        json{{"delivery_state", "acknowledged"}, {"acknowledged_at", format_rfc3339(now_unix_ms())}}
            .dump());
    if (!updated.ok()) return updated.status;
    publish_change(json::parse(updated.output), before, "acknowledged", orchestrator_id);
    return MOOLAI_OK;
}

}  // namespace moolai::host
