// RateLimiter: a token bucket per key (a source address). Each key may make
// `burst` requests at once and `per_second` a second after that. At most
// `max_keys` buckets: the least recently used goes first, and a full bucket
// carries no information, so forgetting it costs nothing. Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace moolai::host {

class RateLimiter {
public:
    struct Options {
        double per_second = 100;  // 0 = no limit
        double burst = 400;
        size_t max_keys = 65536;
    };

    explicit RateLimiter(Options options) : options_(options) {}

    // 0 = go ahead (one token taken); else milliseconds until a token is there.
    int64_t take(const std::string& key, int64_t now_ms);
    bool enabled() const noexcept { return options_.per_second > 0; }
    size_t size();

private:
    struct Bucket {
        double tokens = 0;
        int64_t at_ms = 0;
        std::list<std::string>::iterator order;
    };

    const Options options_;
    std::mutex mutex_;
    std::unordered_map<std::string, Bucket> buckets_;
    std::list<std::string> order_;  // least recently used first
};

}  // namespace moolai::host
