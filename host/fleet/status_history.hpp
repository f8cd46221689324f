// StatusHistory: a cheap rolling history of how many orchestrators were
// active, inactive and independent, per organization, for the dashboard's
// overview chart. One sample per interval (a walk over the in-memory fleet,
// no storage), the last `capacity` samples kept; nothing is persisted, so a
// restart starts a new history. A sample is the fleet's totals plus 12
// bytes per organization (ids are interned once), so six hours of minutes
// for 1,000 organizations is about 4 MB.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "fleet/periodic_task.hpp"

namespace moolai::host {

class FleetState;

struct StatusCounts {
    uint32_t active = 0, inactive = 0, independent = 0;
};

struct StatusPoint {
    int64_t time_ms = 0;
    StatusCounts counts;
};

class StatusHistory {
public:
    // Interval and capacity: MOOLAI_STATUS_HISTORY_INTERVAL_MS (default 60000)
    // and 6 hours' worth of samples.
    static std::chrono::milliseconds interval_from_env();

    StatusHistory(const FleetState& fleet, std::chrono::milliseconds interval, size_t capacity);

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

private:
    struct Sample {
        int64_t time_ms;
        StatusCounts total;
        std::vector<StatusCounts> by_org;  // by_org[i] counts org_ids_[i]; missing = zero
    };
    std::map<std::string, StatusCounts> count() const;

    const FleetState& fleet_;
    const std::chrono::milliseconds interval_;
    const size_t capacity_;
    mutable std::mutex mutex_;
    std::deque<Sample> samples_;
    std::vector<std::string> org_ids_;                   // interned, never shrinks
    std::unordered_map<std::string, size_t> org_index_;  // id -> position in org_ids_
    PeriodicTask task_;
};

}  // namespace moolai::host
