// Unit tests of event_log_observer with the SDK's test kit: the plugin's
// .so on a fake host, events handed to on_event, the file read back and
// parsed with the kit's JSON reader.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <moolai/sdk/testing.hpp>

namespace kit = moolai::sdk::testing;

namespace {

// A file name of this test's own, removed when done.
struct TempFile {
    std::string path = "/tmp/event-log-test-" + std::to_string(::getpid()) + "-" +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".jsonl";
    TempFile() { std::remove(path.c_str()); }
    ~TempFile() { std::remove(path.c_str()); }
    std::vector<kit::Json> lines() const {
        std::vector<kit::Json> out;
        std::ifstream in(path);
        for (std::string line; std::getline(in, line);) out.push_back(kit::Json::parse(line));
        return out;
    }
};

std::string config(const std::string& path, const std::string& more = "") {
    return R"({"path": ")" + path + "\"" + more + "}";
}

TEST(EventLogObserver, WritesOneJsonObjectPerEvent) {
    TempFile file;
    kit::FakeHost host(config(file.path));
    const kit::Plugin plugin = kit::Plugin::load(PLUGIN_PATH, host);
    kit::Event e;
    e.kind = MOOLAI_EVENT_INDEPENDENCE_CHANGED;
    e.time_ms = kit::utc_ms(2026, 11, 28, 10, 0) + 123;
    e.organization_id = "acme";
    e.orchestrator_id = "orch-\"1\"";
    e.old_value = "false";
    e.new_value = "true";
    e.actor = "alice";
    e.detail_json = "{\n  \"reason\": \"maintenance\"\n}";
    ASSERT_TRUE(plugin.on_event(e.view()).ok());

    const auto lines = file.lines();
    ASSERT_EQ(lines.size(), 1u);
    const auto& line = lines[0].object;
    EXPECT_EQ(line.at("kind").string, "independence_changed");
    EXPECT_EQ(line.at("time").string, "2026-11-28T10:00:00.123Z");
    EXPECT_EQ(line.at("orchestrator_id").string, "orch-\"1\"");
    EXPECT_EQ(line.at("actor").string, "alice");
    EXPECT_EQ(line.at("detail").object.at("reason").string, "maintenance");
    EXPECT_EQ(host.counter("lines_total"), 1);
}

TEST(EventLogObserver, LogsOnlyTheConfiguredKinds) {
    TempFile file;
    kit::FakeHost host(config(file.path, R"(, "kinds": ["status_changed"])"));
    const kit::Plugin plugin = kit::Plugin::load(PLUGIN_PATH, host);
    kit::Event registered, status;
    registered.kind = MOOLAI_EVENT_ORCHESTRATOR_REGISTERED;
    status.kind = MOOLAI_EVENT_STATUS_CHANGED;
    status.new_value = "active";
    ASSERT_TRUE(plugin.on_event(registered.view()).ok());
    ASSERT_TRUE(plugin.on_event(status.view()).ok());
    const auto lines = file.lines();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].object.at("new_value").string, "active");
}

// The schema cannot know whether a file opens: the constructor refuses it,
// and its line names the pointer, the file and the reason.
TEST(EventLogObserver, RefusesAFileItCannotOpen) {
    kit::FakeHost host(config("/nonexistent-dir/events.jsonl"));
    try {
        kit::Plugin::load(PLUGIN_PATH, host);
        FAIL() << "the plugin accepted a file it cannot open";
    } catch (const kit::LoadError& e) {
        EXPECT_EQ(e.status(), MOOLAI_E_INVALID);
        EXPECT_EQ(e.plugin_error(),
                  "config /path: cannot open \"/nonexistent-dir/events.jsonl\" for appending: "
                  "No such file or directory");
    }
}

}  // namespace
