// StatusHistory's heartbeat ack latency: each sample's mean (and estimated
// p99) over the interval since the previous one, from the running sum and
// count of the histogram the heartbeat path observes into.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "fleet/fleet_state.hpp"
#include "fleet/status_history.hpp"
#include "observability/metrics.hpp"

namespace moolai::host {
namespace {

using namespace std::chrono_literals;
constexpr int64_t kT0 = 1795860000000;

// What the controller passes: the histogram's totals, count from the buckets.
AckReader reader_of(const Histogram& h) {
    return [&h] {
        AckTotals t{h.sum(), 0, h.bounds(), {}};
        for (size_t i = 0; i <= t.bounds.size(); ++i) t.buckets.push_back(h.bucket(i));
        for (const uint64_t n : t.buckets) t.count += n;
        return t;
    };
}

TEST(StatusHistoryAck, MeanOverEachIntervalNullWhenNoAck) {
    FleetState fleet(120000);
    fleet.record_heartbeat(fleet.add("o1", "org", ""), kT0);
    Histogram acks({0.001, 0.002, 0.004});
    acks.observe(0.0009);  // before the history starts: in no interval
    StatusHistory history(fleet, 60s, 10, reader_of(acks));

    history.sample(kT0);  // nothing since construction
    acks.observe(0.0001);
    acks.observe(0.0003);
    history.sample(kT0 + 60000);
    history.sample(kT0 + 120000);  // the counter did not move
    history.sample(kT0 + 180000);  // nor here
    acks.observe(0.003);
    history.sample(kT0 + 240000);

    const std::vector<StatusPoint> s = history.series("", 0);
    ASSERT_EQ(s.size(), 5u);
    EXPECT_EQ(s[0].counts.active, 1u);
    EXPECT_FALSE(s[0].ack.mean_ms.has_value());
    ASSERT_TRUE(s[1].ack.mean_ms.has_value());
    EXPECT_NEAR(*s[1].ack.mean_ms, 0.2, 1e-9);  // (0.1 + 0.3) / 2 ms
    EXPECT_FALSE(s[2].ack.mean_ms.has_value());
    EXPECT_FALSE(s[2].ack.p99_ms.has_value());
    EXPECT_FALSE(s[3].ack.mean_ms.has_value());
    // The quiet intervals do not dilute the next one.
    ASSERT_TRUE(s[4].ack.mean_ms.has_value());
    EXPECT_NEAR(*s[4].ack.mean_ms, 3.0, 1e-9);
    // An organization's series carries the same (controller-wide) latency.
    EXPECT_NEAR(*history.series("org", 0)[4].ack.mean_ms, 3.0, 1e-9);

    // Since the newest sample: nothing yet, then what arrives.
    EXPECT_FALSE(history.ack_now().mean_ms.has_value());
    acks.observe(0.0015);
    ASSERT_TRUE(history.ack_now().mean_ms.has_value());
    EXPECT_NEAR(*history.ack_now().mean_ms, 1.5, 1e-9);
}

TEST(StatusHistoryAck, P99InterpolatesWithinTheBucket) {
    FleetState fleet(120000);
    Histogram acks({0.001, 0.002, 0.004});
    StatusHistory history(fleet, 60s, 10, reader_of(acks));
    for (int i = 0; i < 90; ++i) acks.observe(0.0005);
    for (int i = 0; i < 10; ++i) acks.observe(0.003);
    history.sample(kT0);
    acks.observe(1.0);  // above every bound
    history.sample(kT0 + 60000);

    const std::vector<StatusPoint> s = history.series("", 0);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_NEAR(*s[0].ack.mean_ms, 0.75, 1e-9);  // (90 * 0.5 + 10 * 3) / 100
    // The 99th of 100 is the 9th of the 10 in (2, 4] ms: 2 + 2 * 9/10.
    EXPECT_NEAR(*s[0].ack.p99_ms, 3.8, 1e-9);
    EXPECT_NEAR(*s[1].ack.mean_ms, 1000.0, 1e-9);
    EXPECT_NEAR(*s[1].ack.p99_ms, 4.0, 1e-9);  // no upper edge past the last bound
}

TEST(StatusHistoryAck, TotalsThatDoNotGrowGiveNull) {
    FleetState fleet(120000);
    std::vector<AckTotals> readings = {
        {0.0, 0, {}, {}},     // at construction
        {0.002, 4, {}, {}},   // 4 acks, 0.5 ms each
        {0.002, 4, {}, {}},   // the same totals
        {0.003, 4, {}, {}},   // a sum that moved without a count: not an interval
        {0.0, 0, {}, {}},     // went back (a reset): not an interval
        {0.004, 2, {}, {}}};  // 2 acks since the reset, 2 ms each
    size_t next = 0;
    StatusHistory history(fleet, 60s, 10, [&] { return readings.at(next++); });
    for (int i = 0; i < 5; ++i) history.sample(kT0 + i * 60000);

    const std::vector<StatusPoint> s = history.series("", 0);
    ASSERT_EQ(s.size(), 5u);
    EXPECT_NEAR(*s[0].ack.mean_ms, 0.5, 1e-12);
    EXPECT_FALSE(s[0].ack.p99_ms.has_value());  // no buckets, no percentile
    EXPECT_FALSE(s[1].ack.mean_ms.has_value());
    EXPECT_FALSE(s[2].ack.mean_ms.has_value());
    EXPECT_FALSE(s[3].ack.mean_ms.has_value());
    EXPECT_NEAR(*s[4].ack.mean_ms, 2.0, 1e-12);
}

TEST(StatusHistoryAck, WithoutAReaderNoLatency) {
    FleetState fleet(120000);
    StatusHistory history(fleet, 60s, 10);
    history.sample(kT0);
    EXPECT_FALSE(history.series("", 0).at(0).ack.mean_ms.has_value());
    EXPECT_FALSE(history.ack_now().mean_ms.has_value());
}

}  // namespace
}  // namespace moolai::host
