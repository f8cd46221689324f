#include "abuse/failure_backoff.hpp"

#include <algorithm>

namespace moolai::host {

void FailureBackoff::expire(int64_t now_ms) {
    // quiet_ is ordered by last failure, so the expired ones are in front.
    while (!quiet_.empty()) {
        auto it = entries_.find(quiet_.front());
        if (it != entries_.end() && now_ms - it->second.last_ms < options_.forget_after_ms) break;
        if (it != entries_.end()) entries_.erase(it);
        quiet_.pop_front();
    }
}

int64_t FailureBackoff::wait_ms(const std::string& key, int64_t now_ms) {
    expire(now_ms);
    const auto it = entries_.find(key);
    if (it == entries_.end() || it->second.failures < options_.free_failures) return 0;
    const uint32_t doublings = std::min<uint32_t>(it->second.failures - options_.free_failures, 40);
    const int64_t wait = std::min<int64_t>(options_.max_ms, options_.base_ms << doublings);
    return std::max<int64_t>(0, it->second.last_ms + wait - now_ms);
}

void FailureBackoff::fail(const std::string& key, int64_t now_ms) {
    expire(now_ms);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
        if (entries_.size() >= options_.max_keys && !quiet_.empty()) {
            entries_.erase(quiet_.front());
            quiet_.pop_front();
        }
        it = entries_.emplace(key, Entry{}).first;
        it->second.order = quiet_.insert(quiet_.end(), key);
    } else {
        quiet_.splice(quiet_.end(), quiet_, it->second.order);
    }
    ++it->second.failures;
    it->second.last_ms = std::max(it->second.last_ms, now_ms);
}

void FailureBackoff::undo(const std::string& key) {
    const auto it = entries_.find(key);
    if (it == entries_.end() || it->second.failures == 0) return;
    if (--it->second.failures == 0) forget(key);
}

void FailureBackoff::forget(const std::string& key) {
    const auto it = entries_.find(key);
    if (it == entries_.end()) return;
    quiet_.erase(it->second.order);
    entries_.erase(it);
}

uint32_t FailureBackoff::failures(const std::string& key) const {
    const auto it = entries_.find(key);
    return it == entries_.end() ? 0 : it->second.failures;
}

}  // namespace moolai::host
