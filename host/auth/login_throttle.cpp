#include "auth/login_throttle.hpp"

namespace moolai::host {

namespace {
// Bounds memory under a spray of made-up usernames.
constexpr size_t kMaxTrackedNames = 100000;
}  // namespace

void LoginThrottle::forget_old(std::deque<int64_t>& failures, int64_t now_ms) const {
    while (!failures.empty() && failures.front() <= now_ms - window_ms_) failures.pop_front();
}

int64_t LoginThrottle::retry_after_sec(const std::string& username, int64_t now_ms) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = failures_.find(username);
    if (it == failures_.end()) return 0;
    forget_old(it->second, now_ms);
    if (it->second.size() < max_failures_) return 0;
    const int64_t wait_ms = it->second.front() + window_ms_ - now_ms;
    return wait_ms <= 0 ? 0 : (wait_ms + 999) / 1000;
}

void LoginThrottle::record_failure(const std::string& username, int64_t now_ms) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (failures_.size() >= kMaxTrackedNames && failures_.count(username) == 0) {
        for (auto it = failures_.begin(); it != failures_.end();) {
            forget_old(it->second, now_ms);
            it = it->second.empty() ? failures_.erase(it) : std::next(it);
        }
        if (failures_.size() >= kMaxTrackedNames) failures_.erase(failures_.begin());
    }
    auto& f = failures_[username];
    forget_old(f, now_ms);
    f.push_back(now_ms);
}

void LoginThrottle::reset(const std::string& username) {
    std::lock_guard<std::mutex> lock(mutex_);
    failures_.erase(username);
}

}  // namespace moolai::host
