#include "abuse/log_limiter.hpp"

namespace moolai::host {

std::optional<uint64_t> LogLimiter::admit(const std::string& key, int64_t now_ms) {
    std::lock_guard<std::mutex> lock(mutex_);
    // Entries logged more than an interval ago only remember a count: drop
    // them from the front (ordered by the last line logged).
    while (!order_.empty()) {
        const auto it = entries_.find(order_.front());
        if (it != entries_.end() && (now_ms - it->second.logged_ms < interval_ms_ ||
                                     it->second.held_back > 0))
            break;
        if (it != entries_.end()) entries_.erase(it);
        order_.pop_front();
    }
    auto it = entries_.find(key);
    if (it == entries_.end()) {
        if (entries_.size() >= max_keys_ && !order_.empty()) {
            entries_.erase(order_.front());
            order_.pop_front();
        }
        it = entries_.emplace(key, Entry{now_ms, 0, {}}).first;
        it->second.order = order_.insert(order_.end(), key);
        return 0;
    }
    if (now_ms - it->second.logged_ms < interval_ms_) {
        ++it->second.held_back;
        return std::nullopt;
    }
    const uint64_t held = it->second.held_back;
    it->second.logged_ms = now_ms;
    it->second.held_back = 0;
    order_.splice(order_.end(), order_, it->second.order);
    return held;
}

std::string LogLimiter::held_back_note(uint64_t held_back) {
    if (held_back == 0) return "";
    return " (" + std::to_string(held_back) + " more like this from the same address held back)";
}

}  // namespace moolai::host
