#include "moolai/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace moolai::orchestrator {

std::chrono::milliseconds backoff_ceiling(const BackoffPolicy& policy, uint32_t attempt) {
    const int64_t base = std::max<int64_t>(policy.base.count(), 0);
    const int64_t cap = std::max<int64_t>(policy.cap.count(), 0);
    if (base == 0) return std::chrono::milliseconds(0);
    // Doubling stops at the cap, and never goes past it, so nothing overflows
    // and a huge attempt number costs at most 63 steps.
    int64_t ceiling = std::min(base, cap);
    for (uint32_t i = 0; i < attempt && ceiling < cap; ++i)
        ceiling = ceiling > cap / 2 ? cap : ceiling * 2;
    return std::chrono::milliseconds(ceiling);
}

std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, uint32_t attempt,
                                        double unit) {
    if (!(unit >= 0.0)) unit = 0.0;  // also NaN
    if (unit >= 1.0) unit = std::nextafter(1.0, 0.0);
    const double ceiling = static_cast<double>(backoff_ceiling(policy, attempt).count());
    return std::chrono::milliseconds(static_cast<int64_t>(std::floor(unit * ceiling)));
}

Backoff::Backoff(BackoffPolicy policy, uint32_t seed, uint32_t tries_per_attempt)
    : policy_(policy),
      tries_per_attempt_(tries_per_attempt != 0 ? tries_per_attempt : 1),
      rng_state_(seed != 0 ? seed : 0x9e3779b9u) {}

std::chrono::milliseconds Backoff::next() {
    // xorshift32 (Marsaglia); the top 24 bits make a uniform double in [0, 1).
    uint32_t x = rng_state_;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state_ = x;
    const double unit = static_cast<double>(x >> 8) / static_cast<double>(1u << 24);
    const std::chrono::milliseconds d = backoff_delay(policy_, attempt_, unit);
    if (++tries_ >= tries_per_attempt_) {
        tries_ = 0;
        if (attempt_ < 64) ++attempt_;  // the ceiling is capped long before this
    }
    return d;
}

}  // namespace moolai::orchestrator
