// MessageDelivery: takes an accepted recommendation to its orchestrator and
// tracks it -- queued, sent, acknowledged -- in storage. The messaging
// plugin decides whether a message goes now (route) and what the frame
// says (render). Delivery is at-least-once: everything accepted and not
// acknowledged is sent again when the orchestrator registers or leaves
// independence.
//
// Delivery has an end: acknowledged, expired (not acknowledged by its
// expires_at; a sweep on its own thread finds them) or cancelled (by an
// operator). An ended message is never sent again. Every change of state is
// published as an event and written to the audit log.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/work_queue.hpp"
#include "events/event.hpp"
#include "fleet/fleet_state.hpp"
#include "fleet/periodic_task.hpp"
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

    struct Options {
        // Given to a message created without its own expiry.
        int64_t default_ttl_sec = 604800;
        // How often overdue messages are looked for.
        std::chrono::milliseconds sweep_interval{1000};
        // Messages read per storage call when listing undelivered ones.
        uint64_t page_size = 1000;
    };
    // Before start().
    void set_options(const Options& options) {
        options_ = options;
        // A page of 0 would be storage's default (50): paging would never see
        // a short page. Storage gives at most 1000 whatever is asked.
        options_.page_size = std::clamp<uint64_t>(options_.page_size, 1, 1000);
    }

    // The thread behind redeliver_soon() and the expiry sweep. stop()
    // finishes the orchestrator in hand and drops the rest: what they would
    // have sent stays in storage and goes at their next registration.
    void start();
    void stop();

    // Sets "expires_at" of a message about to be created from its optional
    // "ttl_sec" (removed) or "expires_at", else the default TTL. False with
    // `reason` when they are malformed, both given, or not in the future.
    bool set_expiry(nlohmann::json& body, int64_t now_ms, std::string& reason) const;
    // The message ends as cancelled by `actor`. MOOLAI_E_CONFLICT when its
    // delivery has already ended (`out` is then the stored record), or it
    // was dismissed; MOOLAI_E_NOT_FOUND; storage errors as they come.
    moolai_status cancel(const std::string& message_id, const std::string& actor,
                         nlohmann::json& out);
    // One round of the sweep: overdue messages turn expired. Returns how many.
    size_t expire_overdue();

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
    // Under the message's stripe: `message` (just read) turns expired or
    // cancelled. Returns the stored record, or the error.
    moolai_status end_delivery(const nlohmann::json& message, const char* state,
                               const std::string& actor, nlohmann::json& out);
    void audit_change(const nlohmann::json& message, const std::string& organization_id,
                      const std::string& old_state, const std::string& new_state,
                      const std::string& actor);
    Options options_;
    std::atomic<bool> sweeping_{false};
    std::atomic<bool> sweep_failing_{false};
    std::unique_ptr<PeriodicTask> sweeper_;
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
