// HeartbeatBatcher: at most once per interval, hands every orchestrator
// whose last_seen or status changed to storage in ONE heartbeats_write call
// (one SQL statement), so database load does not grow with the number of
// heartbeats. A failed write puts the rows back for the next round.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "fleet/fleet_state.hpp"
#include "fleet/periodic_task.hpp"
#include "plugins/plugin_call.hpp"

namespace moolai::host {

class Metric;
class Metrics;

class HeartbeatBatcher {
public:
    // Writes `count` rows; in production StorageClient::heartbeats_write.
    using Writer = std::function<CallResult(const moolai_heartbeat_row* rows, size_t count)>;

    HeartbeatBatcher(FleetState& fleet, Writer writer, Metrics& metrics,
                     std::chrono::milliseconds interval = std::chrono::milliseconds(1000));

    void start() { task_.start(); }
    void stop() { task_.stop(); }  // writes what is pending one last time
    // One round now; returns the rows written (0 on failure or nothing to do).
    size_t flush();

private:
    FleetState& fleet_;
    Writer writer_;
    Metric* batches_;
    Metric* rows_;
    Metric* failures_;
    PeriodicTask task_;
};

}  // namespace moolai::host
