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
// 8 bytes of state plus the policy, so every client can own one.
class Backoff {
public:
    explicit Backoff(BackoffPolicy policy = {}, uint32_t seed = 1);

    // The delay before the next attempt; counts the attempt.
    std::chrono::milliseconds next();
    void reset() { attempt_ = 0; }
    uint32_t attempt() const { return attempt_; }
    const BackoffPolicy& policy() const { return policy_; }

private:
    BackoffPolicy policy_;
    uint32_t attempt_ = 0;
    uint32_t rng_state_;  // xorshift32: small, and good enough for jitter
};

}  // namespace moolai::orchestrator
