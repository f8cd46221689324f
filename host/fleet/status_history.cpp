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
    Sample s{now_ms, count()};
    std::lock_guard<std::mutex> lock(mutex_);
    samples_.push_back(std::move(s));
    while (samples_.size() > capacity_) samples_.pop_front();
}

namespace {
void add(StatusCounts& to, const StatusCounts& c) {
    to.active += c.active;
    to.inactive += c.inactive;
    to.independent += c.independent;
}
StatusCounts pick(const std::map<std::string, StatusCounts>& by_org, const std::string& org) {
    StatusCounts out;
    if (org.empty()) {
        for (const auto& [id, c] : by_org) add(out, c);
    } else if (auto it = by_org.find(org); it != by_org.end()) {
        out = it->second;
    }
    return out;
}
}  // namespace

std::vector<StatusPoint> StatusHistory::series(const std::string& organization_id,
                                               int64_t since_ms) const {
    std::vector<StatusPoint> out;
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Sample& s : samples_)
        if (s.time_ms >= since_ms) out.push_back({s.time_ms, pick(s.by_org, organization_id)});
    return out;
}

StatusCounts StatusHistory::now(const std::string& organization_id) const {
    return pick(count(), organization_id);
}

}  // namespace moolai::host
