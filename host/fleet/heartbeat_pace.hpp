// HeartbeatPace: the heartbeat interval follows the fleet (Nomad's
// rate-scaled heartbeats). Each host computes it from the orchestrators it
// holds and a target rate of heartbeats per second, between the configured
// interval (the floor) and a ceiling, so its CPU and storage writes stay
// bounded as it fills. Orchestrators learn it from provisioning and, once
// it left the configured interval, from every heartbeat_ack
// ("heartbeat_interval_sec"); older ones ignore the field and keep the
// configured interval, which the (longer) TTL still covers.
//
// The TTL follows: TTL / interval stays as configured. A longer interval
// lengthens the TTL at once; a shorter one shortens it only after one old
// interval, when every orchestrator has heard the new one.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace moolai::host {

class FleetState;

class HeartbeatPace {
public:
    struct Options {
        int base_interval_sec = 30;  // HEARTBEAT_INTERVAL_SEC: the floor
        int ttl_sec = 120;           // HEARTBEAT_TTL_SEC at the floor
        double target_rate = 0;      // heartbeats per second per host; 0 = fixed interval
        int max_interval_sec = 300;  // the ceiling
    };

    HeartbeatPace(Options options, FleetState& fleet);

    bool enabled() const noexcept { return options_.target_rate > 0; }
    // The interval told to orchestrators now.
    int interval_sec() const noexcept { return interval_sec_.load(std::memory_order_relaxed); }
    // Grows by one whenever interval_sec() changes (acks are rebuilt then).
    uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }

    // From a periodic task: `held` orchestrators connected to this host.
    // Returns true when the interval changed.
    bool update(size_t held, int64_t now_ms);

    // The interval for `held` orchestrators (no state).
    int interval_for(size_t held) const noexcept;

private:
    const Options options_;
    FleetState& fleet_;
    std::atomic<int> interval_sec_;
    std::atomic<uint64_t> generation_{0};
    // A shorter TTL waiting for the old interval to pass; 0 = none.
    int64_t pending_ttl_ms_ = 0;
    int64_t pending_from_ms_ = 0;
};

}  // namespace moolai::host
