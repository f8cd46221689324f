// sdk/examples/maintenance_window, built out of tree against the installed
// SDK, is the controller's independence policy in place of
// independence_default: heartbeats inside the window are acked
// processed:false, outside it processed:true, over the real WebSocket.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "sdk/example_support.hpp"
#include "support/controller_process.hpp"
#include "support/fleet_fixture.hpp"

namespace moolai::test {
namespace {

using nlohmann::json;

// "HH:MM" of now (UTC) shifted by `minutes`, wrapped around midnight.
std::string utc_clock(int minutes) {
    const int64_t now_min = std::chrono::duration_cast<std::chrono::minutes>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
    const int64_t m = ((now_min + minutes) % 1440 + 1440) % 1440;
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d:%02d", int(m / 60), int(m % 60));
    return buf;
}

class MaintenanceWindowPolicy : public ControllerTest {
protected:
    // Starts the controller with the example as its independence policy.
    void start_with_window(const std::string& start, const std::string& end) {
        const std::string file =
            write_controller_config(dir.path,
                                    json::array({{{"name", "maintenance_window"},
                                                  {"path", MAINTENANCE_WINDOW_PLUGIN},
                                                  {"config", {{"start", start}, {"end", end}}}}}),
                                    /*with_default_policy=*/false);
        controller = std::make_unique<ControllerProcess>(
            kAdminEnv, std::vector<std::string>{"--config", file});
        ASSERT_TRUE(controller->wait_ready()) << controller->log();
        admin = admin_token(controller->rest_port());
        ASSERT_FALSE(admin.empty());
    }

    // One orchestrator registers and heartbeats; the ack's "processed".
    json heartbeat_processed(const std::string& id) {
        const std::string token = issue(controller->rest_port(), admin, "acme", id);
        WsTestClient ws;
        EXPECT_EQ(connect_and_register(ws, id, token)["type"], "provisioning");
        ws.send(R"({"type":"i_am_alive"})");
        const json ack = next(ws);
        EXPECT_EQ(ack["type"], "heartbeat_ack") << ack;
        return ack["processed"];
    }

    TempDir dir{"maintenance-window"};
};

// A two-hour window around now (it may cross midnight UTC: the plugin wraps).
TEST_F(MaintenanceWindowPolicy, InsideTheWindowHeartbeatsAreIgnored) {
    start_with_window(utc_clock(-60), utc_clock(60));
    EXPECT_EQ(heartbeat_processed("mw-in"), false) << controller->log();
}

TEST_F(MaintenanceWindowPolicy, OutsideTheWindowHeartbeatsAreProcessed) {
    start_with_window(utc_clock(120), utc_clock(180));
    EXPECT_EQ(heartbeat_processed("mw-out"), true) << controller->log();
}

// Refusals name the problem: the host's schema check, then the plugin's own.
TEST(MaintenanceWindowConfig, TheControllerRefusesABadWindow) {
    TempDir dir("maintenance-window-cfg");
    for (const auto& [config, expected] : std::vector<std::pair<json, std::string>>{
             {{{"start", "2:00"}, {"end", "04:00"}}, "does not match the pattern"},
             {{{"start", "02:00"}}, "the required property \"end\""},
             {{{"start", "02:00"}, {"end", "02:00"}}, "config /end: must differ from /start"}}) {
        const std::string file =
            write_controller_config(dir.path,
                                    json::array({{{"name", "maintenance_window"},
                                                  {"path", MAINTENANCE_WINDOW_PLUGIN},
                                                  {"config", config}}}),
                                    false);
        const RunResult r = run_controller({"--check-config", "--config", file}, {});
        EXPECT_NE(r.exit_code, 0) << config;
        EXPECT_NE(r.output.find(expected), std::string::npos) << config << "\n" << r.output;
        EXPECT_NE(r.output.find("maintenance_window"), std::string::npos) << r.output;
    }
}

}  // namespace
}  // namespace moolai::test
