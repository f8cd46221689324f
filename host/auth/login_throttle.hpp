// LoginThrottle: at most `max_failures` failed logins per username within
// `window`; past that, logins for the name are refused (HTTP 429 with
// Retry-After) until the oldest failure leaves the window -- even with the
// right password, or guessing would just continue.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace moolai::host {

class LoginThrottle {
public:
    LoginThrottle(size_t max_failures = 10, int64_t window_ms = 15 * 60 * 1000)
        : max_failures_(max_failures), window_ms_(window_ms) {}

    // Seconds to wait before `username` may try again; 0 = go ahead.
    int64_t retry_after_sec(const std::string& username, int64_t now_ms);
    void record_failure(const std::string& username, int64_t now_ms);
    void reset(const std::string& username);

private:
    void forget_old(std::deque<int64_t>& failures, int64_t now_ms) const;

    const size_t max_failures_;
    const int64_t window_ms_;
    std::mutex mutex_;
    std::unordered_map<std::string, std::deque<int64_t>> failures_;
};

}  // namespace moolai::host
