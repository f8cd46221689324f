#include "abuse/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace moolai::host {

int64_t RateLimiter::take(const std::string& key, int64_t now_ms) {
    if (!enabled()) return 0;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
        if (buckets_.size() >= options_.max_keys && !order_.empty()) {
            buckets_.erase(order_.front());
            order_.pop_front();
        }
        it = buckets_.emplace(key, Bucket{options_.burst, now_ms, {}}).first;
        it->second.order = order_.insert(order_.end(), key);
    } else {
        order_.splice(order_.end(), order_, it->second.order);
    }
    Bucket& b = it->second;
    if (now_ms > b.at_ms) {
        b.tokens = std::min(options_.burst,
                            b.tokens + static_cast<double>(now_ms - b.at_ms) *
                                           options_.per_second / 1000.0);
        b.at_ms = now_ms;
    }
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return 0;
    }
    return std::max<int64_t>(
        1, static_cast<int64_t>(std::ceil((1.0 - b.tokens) * 1000.0 / options_.per_second)));
}

size_t RateLimiter::size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return buckets_.size();
}

}  // namespace moolai::host
