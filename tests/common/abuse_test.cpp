// The abuse limits' building blocks (host/abuse/), with a fake clock.
#include <gtest/gtest.h>

#include <string>

#include "abuse/failure_backoff.hpp"
#include "abuse/log_limiter.hpp"
#include "abuse/rate_limiter.hpp"
#include "abuse/source_address.hpp"
#include "auth/login_throttle.hpp"

namespace moolai::host {
namespace {

TEST(FailureBackoff, FreeFailuresThenDoublingWaitsUpToTheCap) {
    FailureBackoff b({3, 1000, 8000, 60000, 100});
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(b.wait_ms("k", 0), 0);
        b.fail("k", 0);
    }
    EXPECT_EQ(b.wait_ms("k", 0), 1000);
    EXPECT_EQ(b.wait_ms("k", 400), 600);
    b.fail("k", 1000);
    EXPECT_EQ(b.wait_ms("k", 1000), 2000);
    for (int i = 0; i < 10; ++i) b.fail("k", 1000);
    EXPECT_EQ(b.wait_ms("k", 1000), 8000) << "capped, never a lock";
    EXPECT_EQ(b.wait_ms("other", 1000), 0);
}

TEST(FailureBackoff, QuietKeysAreForgottenAndTheCountIsBounded) {
    FailureBackoff b({1, 1000, 8000, 5000, 100});
    b.fail("k", 0);
    EXPECT_EQ(b.failures("k"), 1u);
    EXPECT_EQ(b.wait_ms("k", 5000), 0);
    EXPECT_EQ(b.size(), 0u) << "forgotten after forget_after_ms";
    for (int i = 0; i < 1000; ++i) b.fail("spray-" + std::to_string(i), 6000);
    EXPECT_EQ(b.size(), 100u);
    EXPECT_EQ(b.failures("spray-999"), 1u) << "the newest kept";
    EXPECT_EQ(b.failures("spray-0"), 0u) << "the oldest evicted";
}

TEST(FailureBackoff, UndoAndForget) {
    FailureBackoff b({1, 1000, 8000, 60000, 100});
    b.fail("k", 0);
    b.fail("k", 0);
    b.undo("k");
    EXPECT_EQ(b.failures("k"), 1u);
    b.forget("k");
    EXPECT_EQ(b.failures("k"), 0u);
    EXPECT_EQ(b.size(), 0u);
}

TEST(LoginThrottle, APairIsThrottledAfterFiveAndASuccessClearsIt) {
    LoginThrottle t;
    for (int i = 0; i < 5; ++i) EXPECT_EQ(t.begin("root", "192.0.2.1", 0), 0);
    EXPECT_GT(t.begin("root", "192.0.2.1", 0), 0);
    EXPECT_EQ(t.begin("root", "192.0.2.2", 0), 0) << "another address is not affected";
    t.succeeded("root", "192.0.2.2");
    EXPECT_EQ(t.begin("root", "192.0.2.1", 1000), 0) << "one second later";
    t.succeeded("root", "192.0.2.1");
    for (int i = 0; i < 4; ++i) EXPECT_EQ(t.begin("root", "192.0.2.1", 1000), 0);
}

TEST(LoginThrottle, LongUsernamesKeepTheKeysBounded) {
    LoginThrottle t;
    for (int i = 0; i < 100; ++i)
        t.begin(std::string(100000, 'a') + std::to_string(i), "192.0.2." + std::to_string(i), 0);
    EXPECT_EQ(t.tracked_keys(), 200u);
}

TEST(RateLimiter, BurstThenRate) {
    RateLimiter r({10, 5, 100});
    for (int i = 0; i < 5; ++i) EXPECT_EQ(r.take("k", 0), 0);
    EXPECT_EQ(r.take("k", 0), 100);
    EXPECT_EQ(r.take("k", 100), 0);
    EXPECT_GT(r.take("k", 100), 0);
    EXPECT_EQ(r.take("other", 100), 0);
    RateLimiter off({0, 5, 100});
    for (int i = 0; i < 100; ++i) EXPECT_EQ(off.take("k", 0), 0);
}

TEST(LogLimiter, OneLinePerKeyPerIntervalWithTheCountHeldBack) {
    LogLimiter l(1000, 100);
    EXPECT_EQ(l.admit("a", 0), std::optional<uint64_t>(0));
    EXPECT_FALSE(l.admit("a", 10));
    EXPECT_FALSE(l.admit("a", 20));
    EXPECT_EQ(l.admit("b", 20), std::optional<uint64_t>(0));
    EXPECT_EQ(l.admit("a", 1000), std::optional<uint64_t>(2));
    EXPECT_EQ(LogLimiter::held_back_note(2),
              " (2 more like this from the same address held back)");
    EXPECT_EQ(LogLimiter::held_back_note(0), "");
}

TEST(SourceKey, AddressesWithoutPortsAndIpv6Networks) {
    EXPECT_EQ(source_key("192.0.2.7:51234"), "192.0.2.7");
    EXPECT_EQ(source_key("192.0.2.7"), "192.0.2.7");
    EXPECT_EQ(source_key("[2001:db8:1:2:3:4:5:6]:443"), "2001:db8:1:2::/64");
    EXPECT_EQ(source_key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
    EXPECT_EQ(source_key("[::ffff:192.0.2.7]:80"), "192.0.2.7");
    EXPECT_EQ(source_key("not an address"), "not an address");
}

}  // namespace
}  // namespace moolai::host
