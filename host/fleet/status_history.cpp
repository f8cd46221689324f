#include "fleet/status_history.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>

#include "common/rfc3339.hpp"
#include "fleet/fleet_state.hpp"

namespace moolai::host {
namespace {

// The q-quantile of what the buckets counted between two readings, in ms.
std::optional<double> quantile_ms(const AckTotals& a, const AckTotals& b, double q) {
    const size_t n = b.buckets.size();
    if (b.bounds.empty() || n != b.bounds.size() + 1) return std::nullopt;
    if (!a.buckets.empty() && (a.buckets.size() != n || a.bounds != b.bounds)) return std::nullopt;
    std::vector<uint64_t> d(n);
    uint64_t total = 0;
    for (size_t i = 0; i < n; ++i) {
        const uint64_t was = a.buckets.empty() ? 0 : a.buckets[i];
        if (b.buckets[i] < was) return std::nullopt;  // a reset, not an interval
        d[i] = b.buckets[i] - was;
        total += d[i];
    }
    if (total == 0) return std::nullopt;
    const double rank = q * static_cast<double>(total);
    uint64_t below = 0;
    for (size_t i = 0; i < n; ++i) {
        if (d[i] > 0 && static_cast<double>(below + d[i]) >= rank) {
            if (i == b.bounds.size()) break;  // above every bound: no upper edge to interpolate to
            const double lo = i == 0 ? 0.0 : b.bounds[i - 1];
            const double hi = b.bounds[i];
            return (lo +
                    (hi - lo) * (rank - static_cast<double>(below)) / static_cast<double>(d[i])) *
                   1000.0;
        }
        below += d[i];
    }
    return b.bounds.back() * 1000.0;
}

}  // namespace

AckLatency ack_between(const AckTotals& before, const AckTotals& after) {
    AckLatency out;
    if (after.count <= before.count) return out;  // no ack in between
    const double n = static_cast<double>(after.count - before.count);
    out.mean_ms = std::max(0.0, after.sum_seconds - before.sum_seconds) / n * 1000.0;
    out.p99_ms = quantile_ms(before, after, 0.99);
    return out;
}

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
                             size_t capacity, AckReader read_ack)
    : fleet_(fleet),
      interval_(interval),
      capacity_(capacity == 0 ? 1 : capacity),
      read_ack_(std::move(read_ack)),
      last_ack_(read_ack_ ? read_ack_() : AckTotals{}),
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
    AckTotals ack = read_ack_ ? read_ack_() : AckTotals{};
    std::lock_guard<std::mutex> lock(mutex_);
    Sample s{now_ms, {}, ack_between(last_ack_, ack), std::vector<StatusCounts>(org_ids_.size())};
    last_ack_ = std::move(ack);
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
        out.push_back({s.time_ms, c, s.ack});
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

AckLatency StatusHistory::ack_now() const {
    if (!read_ack_) return {};
    const AckTotals ack = read_ack_();
    std::lock_guard<std::mutex> lock(mutex_);
    return ack_between(last_ack_, ack);
}

}  // namespace moolai::host
