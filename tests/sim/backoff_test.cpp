// The reconnect backoff: exponential ceiling with a cap, full jitter.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>

#include "moolai/backoff.hpp"

namespace moolai::orchestrator {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, CeilingDoublesFromTheBaseUpToTheCap) {
    const BackoffPolicy p{milliseconds(500), milliseconds(30000)};
    EXPECT_EQ(backoff_ceiling(p, 0), milliseconds(500));
    EXPECT_EQ(backoff_ceiling(p, 1), milliseconds(1000));
    EXPECT_EQ(backoff_ceiling(p, 2), milliseconds(2000));
    EXPECT_EQ(backoff_ceiling(p, 5), milliseconds(16000));
    EXPECT_EQ(backoff_ceiling(p, 6), milliseconds(30000)) << "32 s is capped at 30 s";
    EXPECT_EQ(backoff_ceiling(p, 7), milliseconds(30000));
    EXPECT_EQ(backoff_ceiling(p, 1000), milliseconds(30000));
    EXPECT_EQ(backoff_ceiling(p, std::numeric_limits<uint32_t>::max()), milliseconds(30000));
}

TEST(Backoff, CeilingNeverOverflows) {
    const int64_t max = std::numeric_limits<int64_t>::max();
    const BackoffPolicy huge{milliseconds(int64_t{1} << 62), milliseconds(max)};
    EXPECT_EQ(backoff_ceiling(huge, 1), milliseconds(max));
    EXPECT_EQ(backoff_ceiling(huge, 200), milliseconds(max));
    const BackoffPolicy base_over_cap{milliseconds(5000), milliseconds(1000)};
    EXPECT_EQ(backoff_ceiling(base_over_cap, 0), milliseconds(1000));
    const BackoffPolicy zero{milliseconds(0), milliseconds(1000)};
    EXPECT_EQ(backoff_ceiling(zero, 3), milliseconds(0));
}

TEST(Backoff, DelayIsTheUnitTimesTheCeilingWithinBounds) {
    const BackoffPolicy p{milliseconds(500), milliseconds(30000)};
    EXPECT_EQ(backoff_delay(p, 0, 0.0), milliseconds(0));
    EXPECT_EQ(backoff_delay(p, 0, 0.5), milliseconds(250));
    EXPECT_EQ(backoff_delay(p, 3, 0.25), milliseconds(1000));
    EXPECT_EQ(backoff_delay(p, 10, 0.5), milliseconds(15000));
    EXPECT_LT(backoff_delay(p, 10, 0.999999999), milliseconds(30000));
    // Out-of-range units are clamped into [0, 1).
    EXPECT_EQ(backoff_delay(p, 2, -3.0), milliseconds(0));
    EXPECT_EQ(backoff_delay(p, 2, std::nan("")), milliseconds(0));
    EXPECT_LT(backoff_delay(p, 2, 7.0), milliseconds(2000));
    EXPECT_GE(backoff_delay(p, 2, 7.0), milliseconds(1999));
}

TEST(Backoff, EveryDelayStaysUnderItsAttemptsCeilingAndTheAttemptGrows) {
    const BackoffPolicy p{milliseconds(500), milliseconds(30000)};
    Backoff b(p, 12345);
    for (uint32_t attempt = 0; attempt < 40; ++attempt) {
        ASSERT_EQ(b.attempt(), attempt);
        const milliseconds d = b.next();
        EXPECT_GE(d, milliseconds(0));
        EXPECT_LT(d, backoff_ceiling(p, attempt)) << "attempt " << attempt;
    }
}

// With N controller URLs each gets one try per ceiling: the ceiling doubles
// once per round through the list, not once per try.
TEST(Backoff, TriesPerAttemptShareOneCeiling) {
    const BackoffPolicy p{milliseconds(500), milliseconds(30000)};
    Backoff b(p, 99, 3);
    for (uint32_t attempt = 0; attempt < 10; ++attempt) {
        for (int url = 0; url < 3; ++url) {
            ASSERT_EQ(b.attempt(), attempt) << "try " << url;
            EXPECT_LT(b.next(), backoff_ceiling(p, attempt));
        }
    }
    b.reset();
    EXPECT_EQ(b.attempt(), 0u);
    b.next();
    b.next();
    EXPECT_EQ(b.attempt(), 0u);
    b.reset();  // also the tries within the attempt
    b.next();
    b.next();
    EXPECT_EQ(b.attempt(), 0u) << "a reset mid-round starts a whole round";
    b.next();
    EXPECT_EQ(b.attempt(), 1u);
    Backoff zero(p, 5, 0);  // 0 counts as 1
    zero.next();
    EXPECT_EQ(zero.attempt(), 1u);
}

TEST(Backoff, ResetStartsOverFromTheBase) {
    const BackoffPolicy p{milliseconds(500), milliseconds(30000)};
    Backoff b(p, 7);
    for (int i = 0; i < 10; ++i) b.next();
    EXPECT_EQ(b.attempt(), 10u);
    b.reset();
    EXPECT_EQ(b.attempt(), 0u);
    for (int i = 0; i < 100; ++i) {
        EXPECT_LT(b.next(), milliseconds(500));
        b.reset();
    }
}

// Samples the delay of `attempt` many times (reset, then advance).
std::vector<int64_t> samples(const BackoffPolicy& p, uint32_t attempt, size_t n, uint32_t seed) {
    Backoff b(p, seed);
    std::vector<int64_t> out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        b.reset();
        for (uint32_t a = 0; a < attempt; ++a) b.next();
        out.push_back(b.next().count());
    }
    return out;
}

TEST(Backoff, MeanDelayGrowsWithTheAttemptUntilTheCap) {
    const BackoffPolicy p{milliseconds(500), milliseconds(30000)};
    double previous = 0;
    for (uint32_t attempt = 0; attempt <= 8; ++attempt) {
        const auto s = samples(p, attempt, 4000, 99 + attempt);
        double mean = 0;
        for (int64_t v : s) mean += static_cast<double>(v);
        mean /= static_cast<double>(s.size());
        const double expected = static_cast<double>(backoff_ceiling(p, attempt).count()) / 2;
        EXPECT_NEAR(mean, expected, expected * 0.06) << "attempt " << attempt;
        if (attempt <= 6)
            EXPECT_GT(mean, previous * 1.5) << "grows until the cap (attempt 6)";
        else
            EXPECT_NEAR(mean, previous, previous * 0.06) << "flat at the cap";
        previous = mean;
    }
}

TEST(Backoff, JitterIsRoughlyUniformOverTheWholeWindow) {
    // Full jitter: every tenth of [0, ceiling) gets about a tenth of the delays.
    const BackoffPolicy p{milliseconds(1000), milliseconds(8000)};
    const auto s = samples(p, 3, 20000, 2024);  // ceiling 8000 ms
    std::array<int, 10> buckets{};
    for (int64_t v : s) {
        ASSERT_GE(v, 0);
        ASSERT_LT(v, 8000);
        ++buckets[static_cast<size_t>(v / 800)];
    }
    double chi2 = 0;
    for (int count : buckets) {
        EXPECT_NEAR(count, 2000, 200) << "each bucket within 10% of 2000";
        chi2 += (count - 2000.0) * (count - 2000.0) / 2000.0;
    }
    EXPECT_LT(chi2, 27.88) << "chi-square, 9 degrees of freedom, p = 0.001";
}

TEST(Backoff, SeedsDecideTheSequence) {
    const BackoffPolicy p{milliseconds(500), milliseconds(30000)};
    Backoff a(p, 42), b(p, 42), c(p, 43);
    std::set<int64_t> seen;
    bool differs = false;
    for (int i = 0; i < 20; ++i) {
        const milliseconds x = a.next(), y = b.next(), z = c.next();
        EXPECT_EQ(x, y);
        differs = differs || x != z;
        seen.insert(x.count());
        if (i % 5 == 4) {
            a.reset();
            b.reset();
            c.reset();
        }
    }
    EXPECT_TRUE(differs);
    EXPECT_GT(seen.size(), 10u) << "not stuck on one value";
    Backoff zero_seed(p, 0);  // a zero seed would freeze xorshift; it is replaced
    std::set<int64_t> z;
    for (int i = 0; i < 10; ++i) {
        zero_seed.reset();
        z.insert(zero_seed.next().count());
    }
    EXPECT_GT(z.size(), 5u);
}

}  // namespace
}  // namespace moolai::orchestrator
