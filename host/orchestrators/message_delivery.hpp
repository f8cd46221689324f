// MessageDelivery: takes an accepted recommendation to its orchestrator and
// tracks it -- queued, sent, acknowledged -- in storage. The messaging
// plugin decides whether a message goes now (route) and what the frame
// says (render). Delivery is at-least-once: everything accepted and not
// acknowledged is sent again when the orchestrator registers or leaves
// independence.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/work_queue.hpp"
#include "events/event.hpp"
#include "fleet/fleet_state.hpp"
#include "plugins/plugin_set.hpp"

namespace moolai::host {

class Log;

class Histogram;

class MessageDelivery {
public:
    using Send =
        std::function<moolai_status(std::string_view orchestrator_id, std::string_view frame)>;

    MessageDelivery(const PluginSet& plugins, FleetState& fleet, Log& log, Send send,
                    std::function<void(Event&&)> publish)
        : plugins_(plugins),
          fleet_(fleet),
          log_(log),
          send_(std::move(send)),
          publish_(std::move(publish)) {}
    ~MessageDelivery() { stop(); }
    MessageDelivery(const MessageDelivery&) = delete;
    MessageDelivery& operator=(const MessageDelivery&) = delete;

    // The thread behind redeliver_soon(). stop() finishes the orchestrator in
    // hand and drops the rest: what they would have sent stays in storage and
    // goes at their next registration.
    void start();
    void stop();

    // Tries one stored message now; returns its record after the attempt.
    nlohmann::json deliver(const nlohmann::json& message);
    // Optional, before start(): each deliver() is timed into it.
    void set_latency_histogram(Histogram* h) { latency_ = h; }
    // Everything of this orchestrator accepted and not yet acknowledged.
    void redeliver(const std::string& orchestrator_id);
    // redeliver() on the delivery thread, for callers on a WebSocket io
    // thread (registration): the storage read must not hold up the frames of
    // the other connections that thread serves -- a fleet reconnecting after
    // a restart registers thousands at once. An orchestrator already waiting
    // is not queued twice.
    void redeliver_soon(const std::string& orchestrator_id);
    // The orchestrator confirmed `message_id`. MOOLAI_E_NOT_FOUND when the
    // message is unknown or another orchestrator's.
    moolai_status acknowledge(const std::string& orchestrator_id, const std::string& message_id);

    void publish_change(const nlohmann::json& message, std::string old_state, std::string new_state,
                        std::string actor);

private:
    nlohmann::json deliver_now(const nlohmann::json& message);
    Histogram* latency_ = nullptr;
    const PluginSet& plugins_;
    FleetState& fleet_;
    Log& log_;
    Send send_;
    std::function<void(Event&&)> publish_;
    // Delivery and acknowledgement of one message are serialized: the ack can
    // arrive (on a WebSocket thread) before deliver() has recorded "sent", and
    // must not be overwritten by it. Striped by message id.
    std::array<std::mutex, 64> stripes_;

    void redeliver_queued(const std::string& orchestrator_id);
    // Orchestrators waiting in queue_, so none waits twice.
    std::mutex queued_mutex_;
    std::unordered_set<std::string> queued_;
    WorkQueue<std::string> queue_{SIZE_MAX, WorkQueue<std::string>::WhenFull::refuse};
    std::mutex& stripe(const std::string& message_id) {
        return stripes_[std::hash<std::string>{}(message_id) % stripes_.size()];
    }
};

}  // namespace moolai::host
