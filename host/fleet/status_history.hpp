// StatusHistory: a cheap rolling history of how many orchestrators were
// active, inactive and independent, per organization, for the dashboard's
// overview chart, and the heartbeat ack latency over each interval (from the
// moolai_heartbeat_ack_seconds histogram's running totals). One sample per
// interval (a walk over the in-memory fleet, no storage), the last
// `capacity` samples kept; nothing is persisted, so a restart starts a new
// history. A sample is the fleet's totals and latency (80 bytes) plus
// 12 bytes per organization (ids are interned once), so six hours of minutes
// for 1,000 organizations is about 4 MB.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "fleet/periodic_task.hpp"

namespace moolai::host {

class FleetState;

struct StatusCounts {
    uint32_t active = 0, inactive = 0, independent = 0;
};

// A histogram's running totals at one moment, as the metric keeps them.
struct AckTotals {
    double sum_seconds = 0;
    uint64_t count = 0;
    // Upper bounds, ascending (+Inf implied), and the count in each bucket
    // (not cumulative), bounds.size() + 1 of them; empty: no percentile.
    std::vector<double> bounds;
    std::vector<uint64_t> buckets;
};
using AckReader = std::function<AckTotals()>;

// Heartbeat ack latency over one interval, of the whole controller; empty
// when no ack happened in it.
struct AckLatency {
    std::optional<double> mean_ms;
    // Estimated from the bucket counts, linearly within the bucket (as
    // Prometheus' histogram_quantile); past the last bound it reads as that bound.
    std::optional<double> p99_ms;
};

// Between two readings of the totals; empty when the count did not grow.
AckLatency ack_between(const AckTotals& before, const AckTotals& after);

struct StatusPoint {
    int64_t time_ms = 0;
    StatusCounts counts;
    AckLatency ack;  // over the interval that ends at time_ms
};

class StatusHistory {
public:
    // Interval and capacity: MOOLAI_STATUS_HISTORY_INTERVAL_MS (default 60000)
    // and 6 hours' worth of samples.
    static std::chrono::milliseconds interval_from_env();

    // read_ack gives the heartbeat ack histogram's totals at each sample;
    // empty = no latency is kept.
    StatusHistory(const FleetState& fleet, std::chrono::milliseconds interval, size_t capacity,
                  AckReader read_ack = {});

    void start() { task_.start(); }
    void stop() { task_.stop(); }
    // Takes one sample now (the periodic task calls it; tests may too).
    void sample(int64_t now_ms);

    std::chrono::milliseconds interval() const { return interval_; }
    // Samples not older than since_ms, oldest first, summed over every
    // organization ("" = the whole fleet) or for one organization.
    std::vector<StatusPoint> series(const std::string& organization_id, int64_t since_ms) const;
    // The current counts, from the fleet, same rules as a sample.
    StatusCounts now(const std::string& organization_id) const;
    // The ack latency since the newest sample (the "now" point's).
    AckLatency ack_now() const;

private:
    struct Sample {
        int64_t time_ms;
        StatusCounts total;
        AckLatency ack;
        std::vector<StatusCounts> by_org;  // by_org[i] counts org_ids_[i]; missing = zero
    };
    std::map<std::string, StatusCounts> count() const;

    const FleetState& fleet_;
    const std::chrono::milliseconds interval_;
    const size_t capacity_;
    const AckReader read_ack_;
    mutable std::mutex mutex_;
    AckTotals last_ack_;  // at the newest sample
    std::deque<Sample> samples_;
    std::vector<std::string> org_ids_;                   // interned, never shrinks
    std::unordered_map<std::string, size_t> org_index_;  // id -> position in org_ids_
    PeriodicTask task_;
};

}  // namespace moolai::host
