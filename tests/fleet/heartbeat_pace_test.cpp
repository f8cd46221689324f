// HeartbeatPace: the interval follows the number of orchestrators a host
// holds, between the configured floor and the ceiling; the TTL keeps its
// ratio, longer at once and shorter only after one old interval.
#include <gtest/gtest.h>

#include "fleet/fleet_state.hpp"
#include "fleet/heartbeat_pace.hpp"

namespace moolai::host {
namespace {

constexpr int64_t kT0 = 1790000000000;

TEST(HeartbeatPace, TheIntervalFollowsTheFleetBetweenFloorAndCeiling) {
    FleetState fleet(120000);
    HeartbeatPace pace({30, 120, 1000, 300}, fleet);
    EXPECT_EQ(pace.interval_for(0), 30);
    EXPECT_EQ(pace.interval_for(30000), 30);  // 1000/s at 30 s
    EXPECT_EQ(pace.interval_for(30001), 31);  // rounded up: never above the rate
    EXPECT_EQ(pace.interval_for(95000), 95);
    EXPECT_EQ(pace.interval_for(1000000), 300);  // the ceiling
    HeartbeatPace fixed({30, 120, 0, 300}, fleet);
    EXPECT_FALSE(fixed.enabled());
    EXPECT_EQ(fixed.interval_for(1000000), 30);
}

TEST(HeartbeatPace, TheTtlGrowsAtOnceAndShrinksOnlyAfterAnOldInterval) {
    FleetState fleet(120000);
    HeartbeatPace pace({30, 120, 1000, 300}, fleet);
    const uint64_t g0 = pace.generation();
    EXPECT_FALSE(pace.update(10000, kT0));  // below the floor: nothing changes
    EXPECT_EQ(pace.generation(), g0);
    EXPECT_EQ(fleet.ttl_ms(), 120000);

    EXPECT_TRUE(pace.update(60000, kT0));
    EXPECT_EQ(pace.interval_sec(), 60);
    EXPECT_EQ(fleet.ttl_ms(), 240000) << "4 intervals, as configured (120 s / 30 s)";
    EXPECT_GT(pace.generation(), g0);

    // Back to 30 s: told at once, but the TTL stays until every orchestrator
    // has sent one heartbeat at the old interval and heard the new one.
    EXPECT_TRUE(pace.update(1000, kT0 + 1000));
    EXPECT_EQ(pace.interval_sec(), 30);
    EXPECT_EQ(fleet.ttl_ms(), 240000);
    EXPECT_FALSE(pace.update(1000, kT0 + 1000 + 59000));
    EXPECT_EQ(fleet.ttl_ms(), 240000);
    EXPECT_FALSE(pace.update(1000, kT0 + 1000 + 60000));
    EXPECT_EQ(fleet.ttl_ms(), 120000);
}

TEST(HeartbeatPace, AGrowingFleetCancelsAShrinkStillWaiting) {
    FleetState fleet(120000);
    HeartbeatPace pace({30, 120, 1000, 300}, fleet);
    pace.update(90000, kT0);         // 90 s, TTL 360 s
    pace.update(45000, kT0 + 1000);  // 45 s: TTL 180 s waits
    EXPECT_EQ(fleet.ttl_ms(), 360000);
    pace.update(90000, kT0 + 2000);  // back up before it applied
    pace.update(90000, kT0 + 200000);
    EXPECT_EQ(fleet.ttl_ms(), 360000);
}

}  // namespace
}  // namespace moolai::host
