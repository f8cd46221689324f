// StatusSweeper: flips orchestrators silent for longer than the TTL to
// inactive without waiting for any request, within one interval (250 ms
// by default, so TTL + at most 0.25 s), and reports each flip.
#pragma once

#include <chrono>
#include <functional>

#include "fleet/fleet_state.hpp"
#include "fleet/periodic_task.hpp"

namespace moolai::host {

class StatusSweeper {
public:
    using Clock = std::function<int64_t()>;  // wall clock, Unix ms
    using OnInactive = std::function<void(Orchestrator&)>;

    StatusSweeper(FleetState& fleet, Clock clock, OnInactive on_inactive,
                  std::chrono::milliseconds interval = std::chrono::milliseconds(250))
        : fleet_(fleet),
          clock_(std::move(clock)),
          on_inactive_(std::move(on_inactive)),
          task_(interval, [this] { sweep(); }) {}

    void start() { task_.start(); }
    void stop() { task_.stop(); }
    size_t sweep() { return fleet_.sweep(clock_(), on_inactive_); }

private:
    FleetState& fleet_;
    Clock clock_;
    OnInactive on_inactive_;
    PeriodicTask task_;
};

}  // namespace moolai::host
