#include "fleet/heartbeat_pace.hpp"

#include <algorithm>
#include <cmath>

#include "fleet/fleet_state.hpp"

namespace moolai::host {

HeartbeatPace::HeartbeatPace(Options options, FleetState& fleet)
    : options_(options), fleet_(fleet), interval_sec_(options.base_interval_sec) {}

int HeartbeatPace::interval_for(size_t held) const noexcept {
    if (!enabled()) return options_.base_interval_sec;
    const double wanted = std::ceil(static_cast<double>(held) / options_.target_rate);
    const int ceiling = std::max(options_.base_interval_sec, options_.max_interval_sec);
    if (wanted >= ceiling) return ceiling;
    return std::max(options_.base_interval_sec, static_cast<int>(wanted));
}

bool HeartbeatPace::update(size_t held, int64_t now_ms) {
    const int old_interval = interval_sec();
    const int interval = interval_for(held);
    // The TTL keeps its configured ratio to the interval.
    const int64_t ttl_ms = static_cast<int64_t>(std::llround(
        static_cast<double>(options_.ttl_sec) * 1000.0 * interval / options_.base_interval_sec));
    if (interval != old_interval) {
        interval_sec_.store(interval, std::memory_order_relaxed);
        generation_.fetch_add(1, std::memory_order_release);
    }
    if (ttl_ms >= fleet_.ttl_ms()) {
        fleet_.set_ttl_ms(ttl_ms);  // longer at once
        pending_ttl_ms_ = 0;
    } else if (pending_ttl_ms_ != ttl_ms) {
        // Shorter only once an old interval has passed since it was told.
        pending_ttl_ms_ = ttl_ms;
        pending_from_ms_ = now_ms + int64_t{std::max(old_interval, interval)} * 1000;
    }
    if (pending_ttl_ms_ != 0 && now_ms >= pending_from_ms_) {
        fleet_.set_ttl_ms(pending_ttl_ms_);
        pending_ttl_ms_ = 0;
    }
    return interval != old_interval;
}

}  // namespace moolai::host
