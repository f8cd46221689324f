// Unit tests of maintenance_window with the SDK's test kit: the plugin's
// .so is loaded into a fake host whose clock the test sets, so every edge
// of the window is checked at an exact minute, without a controller.
#include <gtest/gtest.h>

#include <string>

#include <moolai/sdk/testing.hpp>

namespace kit = moolai::sdk::testing;

namespace {

// The decision for a heartbeat of a not-independent orchestrator at `ms`.
uint32_t decide(kit::FakeHost& host, const kit::Plugin& plugin, int64_t ms,
                bool is_independent = false) {
    host.set_now_ms(ms);
    kit::Heartbeat hb{"orch-1"};
    hb.is_independent = is_independent;
    uint32_t decision = 99;
    const kit::Result r = plugin.on_heartbeat(hb.view(), decision);
    EXPECT_TRUE(r.ok()) << r.error;
    return decision;
}

constexpr uint32_t kIgnore = MOOLAI_HEARTBEAT_IGNORE;
constexpr uint32_t kProcess = MOOLAI_HEARTBEAT_PROCESS;

TEST(MaintenanceWindow, IgnoresHeartbeatsFromStartUpToEnd) {
    kit::FakeHost host(R"({"start": "02:00", "end": "04:00"})");
    const kit::Plugin plugin = kit::Plugin::load(PLUGIN_PATH, host);
    EXPECT_EQ(decide(host, plugin, kit::utc_ms(2026, 12, 3, 1, 59, 59)), kProcess);
    EXPECT_EQ(decide(host, plugin, kit::utc_ms(2026, 12, 3, 2, 0)), kIgnore);
    EXPECT_EQ(decide(host, plugin, kit::utc_ms(2026, 12, 3, 3, 59, 59)), kIgnore);
    EXPECT_EQ(decide(host, plugin, kit::utc_ms(2026, 12, 3, 4, 0)), kProcess);  // end excluded
    EXPECT_EQ(decide(host, plugin, kit::utc_ms(2026, 12, 4, 2, 30)), kIgnore);  // every day
}

TEST(MaintenanceWindow, AWindowMayCrossMidnight) {
    kit::FakeHost host(R"({"start": "23:30", "end": "00:30"})");
    const kit::Plugin plugin = kit::Plugin::load(PLUGIN_PATH, host);
    EXPECT_EQ(decide(host, plugin, kit::utc_ms(2026, 12, 3, 23, 29)), kProcess);
    EXPECT_EQ(decide(host, plugin, kit::utc_ms(2026, 12, 3, 23, 30)), kIgnore);
    EXPECT_EQ(decide(host, plugin, kit::utc_ms(2026, 12, 4, 0, 15)), kIgnore);
    EXPECT_EQ(decide(host, plugin, kit::utc_ms(2026, 12, 4, 0, 30)), kProcess);
    EXPECT_EQ(decide(host, plugin, kit::utc_ms(2026, 12, 4, 12, 0)), kProcess);
}

TEST(MaintenanceWindow, OutsideTheWindowTheOperatorsToggleDecides) {
    kit::FakeHost host(R"({"start": "02:00", "end": "04:00"})");
    const kit::Plugin plugin = kit::Plugin::load(PLUGIN_PATH, host);
    EXPECT_EQ(decide(host, plugin, kit::utc_ms(2026, 12, 3, 12, 0), true), kIgnore);
    EXPECT_EQ(decide(host, plugin, kit::utc_ms(2026, 12, 3, 12, 0), false), kProcess);
}

// What the schema cannot say, the constructor refuses with a line of its own.
TEST(MaintenanceWindow, RefusesAnEmptyWindow) {
    kit::FakeHost host(R"({"start": "02:00", "end": "02:00"})");
    try {
        kit::Plugin::load(PLUGIN_PATH, host);
        FAIL() << "an empty window was accepted";
    } catch (const kit::LoadError& e) {
        EXPECT_EQ(e.status(), MOOLAI_E_INVALID);
        EXPECT_EQ(e.plugin_error(), "config /end: must differ from /start");
    }
}

// It reads its config through the 1.1 config services, so it says so, and
// a 1.0 host refuses it before creating it.
TEST(MaintenanceWindow, NeedsA1Point1Host) {
    kit::FakeHost old_host(R"({"start": "02:00", "end": "04:00"})", /*abi_minor=*/0);
    try {
        kit::Plugin::load(PLUGIN_PATH, old_host);
        FAIL() << "a 1.0 host accepted a plugin that requires 1.1";
    } catch (const kit::LoadError& e) {
        EXPECT_NE(std::string(e.what()).find("(requires 1.1) cannot load into host ABI 1.0"),
                  std::string::npos)
            << e.what();
    }
}

}  // namespace
