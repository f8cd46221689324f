// FleetState, HeartbeatBatcher and StatusSweeper: the state machine and
// the batching, the batches written into the real SQLite storage plugin.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <thread>
#include <unistd.h>

#include "fleet/fleet_state.hpp"
#include "fleet/heartbeat_batcher.hpp"
#include "fleet/status_sweeper.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "plugins/capability_clients.hpp"
#include "plugins/host_services.hpp"
#include "plugins/plugin_loader.hpp"

namespace moolai::host {
namespace {

using nlohmann::json;
constexpr int64_t kTtl = 120000;
constexpr int64_t kT0 = 1795860000000;

// `id` is a string literal: the row borrows it, as rows from storage do.
moolai_orchestrator_row row(const char* id, uint32_t status, int64_t last_seen,
                            bool independent = false) {
    moolai_orchestrator_row r{};
    r.struct_size = sizeof r;
    r.orchestrator_id = moolai_str{id, std::strlen(id)};
    r.organization_id = moolai_str{"org", 3};
    r.status = status;
    r.last_seen_ms = last_seen;
    r.is_independent = independent ? 1 : 0;
    return r;
}

TEST(FleetState, HeartbeatTurnsActiveAndQueuesOnce) {
    FleetState fleet(kTtl);
    auto o = fleet.add("o1", "org", "");
    EXPECT_EQ(o->status, MOOLAI_ORCH_INACTIVE);
    EXPECT_TRUE(fleet.record_heartbeat(o, kT0));   // inactive -> active
    EXPECT_FALSE(fleet.record_heartbeat(o, kT0 + 30000));  // already active
    EXPECT_EQ(o->last_seen_ms, kT0 + 30000);
    auto dirty = fleet.take_dirty();
    ASSERT_EQ(dirty.size(), 1u) << "queued once however many heartbeats";
    EXPECT_TRUE(fleet.take_dirty().empty());
    fleet.record_heartbeat(o, kT0 + 60000);
    EXPECT_EQ(fleet.take_dirty().size(), 1u) << "queued again after the batch";
}

TEST(FleetState, SweeperFlipsAfterTtlAndNotBefore) {
    FleetState fleet(kTtl);
    auto o = fleet.add("o1", "org", "");
    fleet.record_heartbeat(o, kT0);
    fleet.take_dirty();
    std::vector<std::string> flipped;
    auto note = [&](Orchestrator& x) { flipped.push_back(x.id); };
    EXPECT_EQ(fleet.sweep(kT0 + kTtl, note), 0u);
    EXPECT_EQ(o->status, MOOLAI_ORCH_ACTIVE);
    EXPECT_EQ(fleet.sweep(kT0 + kTtl + 1, note), 1u);
    EXPECT_EQ(o->status, MOOLAI_ORCH_INACTIVE);
    EXPECT_EQ(flipped, std::vector<std::string>{"o1"});
    EXPECT_EQ(fleet.take_dirty().size(), 1u) << "the flip is written too";
    EXPECT_EQ(fleet.sweep(kT0 + 10 * kTtl, note), 0u) << "flipped once";
}

TEST(FleetState, RestartGivesEveryActiveOrchestratorAFullTtl) {
    FleetState fleet(kTtl);
    // Stored active, last seen long before the restart at kT0.
    auto o = fleet.load(row("o1", MOOLAI_ORCH_ACTIVE, kT0 - 10 * kTtl), kT0);
    auto idle = fleet.load(row("o2", MOOLAI_ORCH_INACTIVE, kT0 - 10 * kTtl), kT0);
    EXPECT_EQ(fleet.sweep(kT0 + 1000, {}), 0u);
    EXPECT_EQ(fleet.sweep(kT0 + kTtl, {}), 0u);
    EXPECT_EQ(o->status, MOOLAI_ORCH_ACTIVE);
    EXPECT_EQ(fleet.sweep(kT0 + kTtl + 1, {}), 1u);
    EXPECT_EQ(o->status, MOOLAI_ORCH_INACTIVE);
    EXPECT_EQ(idle->status, MOOLAI_ORCH_INACTIVE);
}

// The sweep looks only at entries whose time has come (an expiry queue);
// these pin what it must still do like a walk over the whole fleet would.
TEST(FleetState, SweepFollowsEveryHeartbeatNotJustTheFirst) {
    FleetState fleet(kTtl);
    auto o = fleet.add("o1", "org", "");
    fleet.record_heartbeat(o, kT0);
    fleet.record_heartbeat(o, kT0 + 100000);  // still active: queued once, at kT0's time
    EXPECT_EQ(fleet.sweep(kT0 + kTtl + 1, {}), 0u) << "heard from since: waits again";
    EXPECT_EQ(o->status, MOOLAI_ORCH_ACTIVE);
    EXPECT_EQ(fleet.sweep(kT0 + 100000 + kTtl, {}), 0u);
    EXPECT_EQ(fleet.sweep(kT0 + 100000 + kTtl + 1, {}), 1u);
    EXPECT_EQ(o->status, MOOLAI_ORCH_INACTIVE);
}

TEST(FleetState, SweepSkipsRemovedAndReplacedEntries) {
    FleetState fleet(kTtl);
    auto gone = fleet.add("gone", "org", "");
    fleet.record_heartbeat(gone, kT0);
    EXPECT_TRUE(fleet.remove("gone"));
    auto old = fleet.add("o1", "org", "");
    fleet.record_heartbeat(old, kT0);
    auto now = fleet.load(row("o1", MOOLAI_ORCH_INACTIVE, kT0), kT0);  // replaces `old`
    std::vector<std::string> flipped;
    EXPECT_EQ(fleet.sweep(kT0 + 10 * kTtl, [&](Orchestrator& x) { flipped.push_back(x.id); }), 0u);
    EXPECT_TRUE(flipped.empty()) << "no event for an orchestrator the fleet no longer has";
    fleet.record_heartbeat(now, kT0 + 10 * kTtl);
    EXPECT_EQ(fleet.sweep(kT0 + 11 * kTtl + 1, {}), 1u) << "the replacement is swept";
}

TEST(FleetState, InactiveThenActiveAgainIsSweptOnce) {
    FleetState fleet(kTtl);
    auto o = fleet.add("o1", "org", "");
    fleet.record_heartbeat(o, kT0);
    EXPECT_TRUE(fleet.mark_inactive(o));                 // the heartbeat poker
    EXPECT_TRUE(fleet.record_heartbeat(o, kT0 + 1000));  // back before its queue time
    size_t flips = 0;
    for (int64_t t = kT0; t <= kT0 + 3 * kTtl; t += 250) flips += fleet.sweep(t, {});
    EXPECT_EQ(flips, 1u);
    EXPECT_EQ(o->status, MOOLAI_ORCH_INACTIVE);
    EXPECT_TRUE(fleet.record_heartbeat(o, kT0 + 4 * kTtl));
    EXPECT_EQ(fleet.sweep(kT0 + 5 * kTtl + 1, {}), 1u) << "queued again when active again";
}

// Heartbeats on other threads race the sweep; afterwards every entry that
// went silent is flipped: none is left active outside the queue.
TEST(FleetState, SweepRacingHeartbeatsLosesNothing) {
    constexpr int kEntries = 200;
    FleetState fleet(1000);
    std::vector<std::shared_ptr<Orchestrator>> os;
    for (int i = 0; i < kEntries; ++i) os.push_back(fleet.add("o" + std::to_string(i), "org", ""));
    std::atomic<int64_t> clock{kT0};
    std::atomic<bool> done{false};
    std::atomic<size_t> activations{0}, flips{0};
    std::vector<std::thread> beaters;
    for (int t = 0; t < 2; ++t) {
        beaters.emplace_back([&, t] {
            for (int round = 0; round < 300; ++round)
                for (int i = t; i < kEntries; i += 2)
                    if (fleet.record_heartbeat(os[static_cast<size_t>(i)], clock.load()))
                        ++activations;
        });
    }
    std::thread sweeper([&] {
        while (!done.load()) {
            clock += 7;
            flips += fleet.sweep(clock.load(), {});
        }
    });
    for (auto& b : beaters) b.join();
    done = true;
    sweeper.join();
    flips += fleet.sweep(clock.load() + 1000 + 1, {});
    for (const auto& o : os) EXPECT_EQ(o->status, MOOLAI_ORCH_INACTIVE) << o->id;
    EXPECT_GE(flips.load(), static_cast<size_t>(kEntries));
    // A flip that a heartbeat overtakes is undone and not reported, while the
    // heartbeat reports its activation: never more flips than activations.
    EXPECT_LE(flips.load(), activations.load());
}

TEST(FleetState, LoadKeepsIndependenceAndCredential) {
    FleetState fleet(kTtl);
    moolai_orchestrator_row r = row("o1", MOOLAI_ORCH_INACTIVE, 0, true);
    r.credential_hash = moolai_str{"abc", 3};
    fleet.load(r, kT0);
    auto o = fleet.find("o1");
    ASSERT_NE(o, nullptr);
    EXPECT_TRUE(o->independent);
    EXPECT_EQ(o->credential_hash(), "abc");
    EXPECT_EQ(fleet.find("nope"), nullptr);
    EXPECT_TRUE(fleet.remove("o1"));
    EXPECT_EQ(fleet.find("o1"), nullptr);
}

TEST(HeartbeatBatcher, OneWritePerRoundWithTheNewestValues) {
    FleetState fleet(kTtl);
    Metrics metrics;
    std::vector<std::vector<std::pair<std::string, int64_t>>> writes;
    HeartbeatBatcher batcher(fleet, [&](const moolai_heartbeat_row* rows, size_t n) {
        writes.emplace_back();
        for (size_t i = 0; i < n; ++i)
            writes.back().emplace_back(std::string(rows[i].orchestrator_id.ptr,
                                                   rows[i].orchestrator_id.len),
                                       rows[i].last_seen_ms);
        return CallResult{};
    }, metrics);
    std::vector<std::shared_ptr<Orchestrator>> os;
    for (int i = 0; i < 1000; ++i) os.push_back(fleet.add("o" + std::to_string(i), "org", ""));
    for (int round = 0; round < 3; ++round)
        for (auto& o : os) fleet.record_heartbeat(o, kT0 + round);
    EXPECT_EQ(batcher.flush(), 1000u);
    ASSERT_EQ(writes.size(), 1u);
    EXPECT_EQ(writes[0].size(), 1000u);
    EXPECT_EQ(writes[0][0].second, kT0 + 2);
    EXPECT_EQ(batcher.flush(), 0u);
    EXPECT_EQ(writes.size(), 1u) << "nothing changed, nothing written";
}

TEST(HeartbeatBatcher, AFailedWriteIsRetriedNotLost) {
    FleetState fleet(kTtl);
    Metrics metrics;
    bool fail = true;
    size_t written = 0;
    HeartbeatBatcher batcher(fleet, [&](const moolai_heartbeat_row*, size_t n) {
        CallResult r;
        if (fail) r.status = MOOLAI_E_UNAVAILABLE;
        else written += n;
        return r;
    }, metrics);
    auto o = fleet.add("o1", "org", "");
    fleet.record_heartbeat(o, kT0);
    EXPECT_EQ(batcher.flush(), 0u);
    fail = false;
    EXPECT_EQ(batcher.flush(), 1u);
    EXPECT_EQ(written, 1u);
}

TEST(HeartbeatBatcher, StopWritesWhatIsPending) {
    FleetState fleet(kTtl);
    Metrics metrics;
    std::atomic<size_t> written{0};
    HeartbeatBatcher batcher(fleet, [&](const moolai_heartbeat_row*, size_t n) {
        written += n;
        return CallResult{};
    }, metrics, std::chrono::hours(1));
    batcher.start();
    fleet.record_heartbeat(fleet.add("o1", "org", ""), kT0);
    batcher.stop();
    EXPECT_EQ(written.load(), 1u);
}

TEST(StatusSweeper, FlipsWithoutAnyRequest) {
    FleetState fleet(200);
    std::atomic<int> flips{0};
    StatusSweeper sweeper(fleet, [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
    }, [&](Orchestrator&) { ++flips; }, std::chrono::milliseconds(20));
    auto o = fleet.add("o1", "org", "");
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    fleet.record_heartbeat(o, now);
    sweeper.start();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (flips == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const int64_t after = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
    sweeper.stop();
    EXPECT_EQ(flips, 1);
    EXPECT_EQ(o->status, MOOLAI_ORCH_INACTIVE);
    EXPECT_GE(after - now, 200);
    EXPECT_LT(after - now, 200 + 1000) << "TTL + at most a second";
}

// The batches land in the real embedded storage, one call per round.
TEST(HeartbeatBatcher, WritesIntoTheSqliteStoragePlugin) {
    Log log(100);
    Metrics metrics;
    HostServices services;
    services.log = &log;
    services.metrics = &metrics;
    PluginLoader loader(services);
    const auto dir = std::filesystem::temp_directory_path() / ("fleet-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    auto plugin = loader.load(SQLITE_PLUGIN, json{{"path", (dir / "db.sqlite").string()}});
    ASSERT_TRUE(plugin->start().ok());
    StorageClient storage(*plugin);
    ASSERT_TRUE(storage.migrate().ok());
    ASSERT_TRUE(storage.org_create(json{{"organization_id", "org"}, {"name", "Org"}}.dump()).ok());
    for (const char* id : {"a", "b"})
        ASSERT_TRUE(storage.orch_create(json{{"orchestrator_id", id}, {"organization_id", "org"},
                                             {"name", id}}.dump()).ok());

    FleetState fleet(kTtl);
    storage.orch_scan([&](const moolai_orchestrator_row& r) {
        fleet.load(r, kT0);
        return MOOLAI_OK;
    });
    ASSERT_EQ(fleet.size(), 2u);
    HeartbeatBatcher batcher(fleet, [&](const moolai_heartbeat_row* rows, size_t n) {
        return storage.heartbeats_write(rows, n);
    }, metrics);
    fleet.record_heartbeat(fleet.find("a"), kT0);
    EXPECT_EQ(batcher.flush(), 1u);
    const json a = json::parse(storage.orch_get("a").output);
    const json b = json::parse(storage.orch_get("b").output);
    EXPECT_EQ(a["status"], "active");
    EXPECT_EQ(a["last_seen"], "2026-11-28T10:00:00Z");
    EXPECT_EQ(b["status"], "inactive");
    plugin.reset();
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace moolai::host
