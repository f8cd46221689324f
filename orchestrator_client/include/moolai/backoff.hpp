#pragma once
// Reconnect delays: exponential backoff with full jitter.
//
//   delay(attempt) = uniform(0, min(cap, base * 2^attempt))
//
// Full jitter spreads a fleet that lost its controller at the same moment
// over the whole window, so a restarted controller is not hit by every
// orchestrator in the same millisecond (the "thundering herd").

#include <chrono>
#include <cstdint>

namespace moolai::orchestrator {

struct BackoffPolicy {
    std::chrono::milliseconds base{500};
    std::chrono::milliseconds cap{30000};
};

// min(cap, base * 2^attempt), without overflow for any attempt.
std::chrono::milliseconds backoff_ceiling(const BackoffPolicy& policy, uint32_t attempt);

// The delay for `attempt` (0 = first retry) given `unit`, a uniform random
// number in [0, 1): unit * ceiling, rounded down. Pure, so it is testable.
std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, uint32_t attempt, double unit);

// The attempt counter: next() grows it, reset() after a successful register.
// 16 bytes of state plus the policy, so every client can own one.
//
// tries_per_attempt: how many next() calls share one attempt's ceiling. A
// client with N controller URLs passes N: it tries each URL once within the
// same window, and the ceiling doubles only after a whole round failed, so
// a dead host is not hit more often than with one URL.
class Backoff {
public:
    // tries_per_attempt 0 counts as 1.
    explicit Backoff(BackoffPolicy policy = {}, uint32_t seed = 1, uint32_t tries_per_attempt = 1);

    // The delay before the next try; counts the try.
    std::chrono::milliseconds next();
    void reset() {
        attempt_ = 0;
        tries_ = 0;
    }
    uint32_t attempt() const { return attempt_; }
    const BackoffPolicy& policy() const { return policy_; }

private:
    BackoffPolicy policy_;
    uint32_t attempt_ = 0;
    uint32_t tries_ = 0;  // next() calls within the current attempt
    uint32_t tries_per_attempt_;
    uint32_t rng_state_;  // xorshift32: small, and good enough for jitter
};

}  // namespace moolai::orchestrator
