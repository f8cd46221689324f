#include "fleet/status_history.hpp"

#include <cstdlib>
#include <string>

#include "common/rfc3339.hpp"
#include "fleet/fleet_state.hpp"

namespace moolai::host {

std::chrono::milliseconds StatusHistory::interval_from_env() {
    const char* v = std::getenv("MOOLAI_STATUS_HISTORY_INTERVAL_MS");
    if (v != nullptr && *v != '\0') {
        char* end = nullptr;
        const long long ms = std::strtoll(v, &end, 10);
        if (end != nullptr && *end == '\0' && ms >= 100 && ms <= 3600000)
            return std::chrono::milliseconds(ms);
    }
    return std::chrono::milliseconds(60000);
}

StatusHistory::StatusHistory(const FleetState& fleet, std::chrono::milliseconds interval,
                             size_t capacity)
    : fleet_(fleet),
      interval_(interval),
      capacity_(capacity == 0 ? 1 : capacity),
      task_(interval, [this] { sample(now_unix_ms()); }) {}

std::map<std::string, StatusCounts> StatusHistory::count() const {
    std::map<std::string, StatusCounts> by_org;
    for (const auto& o : fleet_.all()) {
        StatusCounts& c = by_org[o->organization_id];
        if (o->independent.load())
            ++c.independent;
        else if (o->status.load() == MOOLAI_ORCH_ACTIVE)
            ++c.active;
        else
            ++c.inactive;
    }
    return by_org;
}

void StatusHistory::sample(int64_t now_ms) {
    const std::map<std::string, StatusCounts> by_org = count();  // outside the lock
    std::lock_guard<std::mutex> lock(mutex_);
    Sample s{now_ms, {}, std::vector<StatusCounts>(org_ids_.size())};
    for (const auto& [org, c] : by_org) {
        auto [it, added] = org_index_.emplace(org, org_ids_.size());
        if (added) {
            org_ids_.push_back(org);
            s.by_org.resize(org_ids_.size());
        }
        s.by_org[it->second] = c;
        s.total.active += c.active;
        s.total.inactive += c.inactive;
        s.total.independent += c.independent;
    }
    samples_.push_back(std::move(s));
    while (samples_.size() > capacity_) samples_.pop_front();
}

std::vector<StatusPoint> StatusHistory::series(const std::string& organization_id,
                                               int64_t since_ms) const {
    std::vector<StatusPoint> out;
    std::lock_guard<std::mutex> lock(mutex_);
    const auto idx = org_index_.find(organization_id);
    for (const Sample& s : samples_) {
        if (s.time_ms < since_ms) continue;
        StatusCounts c;
        if (organization_id.empty())
            c = s.total;
        else if (idx != org_index_.end() && idx->second < s.by_org.size())
            c = s.by_org[idx->second];
        out.push_back({s.time_ms, c});
    }
    return out;
}

StatusCounts StatusHistory::now(const std::string& organization_id) const {
    StatusCounts out;
    for (const auto& [org, c] : count()) {
        if (!organization_id.empty() && org != organization_id) continue;
        out.active += c.active;
        out.inactive += c.inactive;
        out.independent += c.independent;
    }
    return out;
}

}  // namespace moolai::host
