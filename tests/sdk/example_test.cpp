// sdk/examples/event_log_observer, built out of tree against the installed
// SDK, loaded by the host: events become JSON lines in the configured file.
// Its config comes through the 1.1 config services (host.config()).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "events/event.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "plugins/capability_clients.hpp"
#include "plugins/host_services.hpp"
#include "plugins/plugin_loader.hpp"
#include "net/http_test_client.hpp"
#include "net/ws_test_client.hpp"
#include "sdk/example_support.hpp"
#include "support/controller_process.hpp"

namespace moolai::host {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

TEST(SdkExample, LoadsAndWritesOneJsonLinePerEvent) {
    Log log(100);
    Metrics metrics;
    HostServices services;
    services.log = &log;
    services.metrics = &metrics;
    PluginLoader loader(services);
    const fs::path file = fs::temp_directory_path() / ("events-" + std::to_string(getpid()) + ".jsonl");
    fs::remove(file);
    auto plugin = loader.load(EXAMPLE_PLUGIN, json{{"path", file.string()}});
    ASSERT_NE(plugin->observer(), nullptr);
    ObserverClient observer(*plugin);

    Event e;
    e.kind = MOOLAI_EVENT_INDEPENDENCE_CHANGED;
    e.time_ms = 1795860000000;
    e.orchestrator_id = "orch-\"quoted\"\n";
    e.old_value = "false";
    e.new_value = "true";
    e.actor = "alice";
    ASSERT_TRUE(observer.on_event(e.view()).ok());
    plugin.reset();  // flushes and closes

    std::ifstream in(file);
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    const json j = json::parse(line);  // the plugin escaped by hand: it must still be JSON
    EXPECT_EQ(j.dump().find("orch-\\\"quoted\\\"\\n") != std::string::npos, true) << line;
    EXPECT_NE(line.find("independence_changed"), std::string::npos) << line;
    EXPECT_NE(line.find("alice"), std::string::npos) << line;
    fs::remove(file);
}

// detail_json goes on the event's line re-written compact when it is JSON,
// as a string when it is not, as null when empty; the line stays JSON.
TEST(SdkExample, DetailIsCompactJsonOrText) {
    Log log(100);
    Metrics metrics;
    HostServices services;
    services.log = &log;
    services.metrics = &metrics;
    PluginLoader loader(services);
    moolai::test::TempDir dir("events-detail");
    const fs::path file = dir.path / "events.jsonl";
    auto plugin = loader.load(EXAMPLE_PLUGIN, json{{"path", file.string()}, {"kinds", {"custom"}}});
    ObserverClient observer(*plugin);

    const std::vector<std::string> details = {
        "{ \"a\" : [1, -2.5e3, true, false, null],\n  \"b\" : {\"c\" : "
        "\"x\\u00e9\\ud83d\\ude00\\n\"} }",
        "",
        "   \n",
        "{\"unterminated\": [1, 2}",
        "[01]",
        "\"lone \\udc00 surrogate\"",
        "{\"bad utf-8\": \"\xff\xfe\"}",
        "{\"raw\ncontrol\": 1}",
    };
    for (const std::string& d : details) {
        Event e;
        e.kind = MOOLAI_EVENT_CUSTOM;
        e.time_ms = 1795860000000;
        e.detail_json = d;
        ASSERT_TRUE(observer.on_event(e.view()).ok());
    }
    Event skipped;  // not in "kinds"
    skipped.kind = MOOLAI_EVENT_STATUS_CHANGED;
    ASSERT_TRUE(observer.on_event(skipped.view()).ok());
    plugin.reset();

    std::ifstream in(file);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    ASSERT_EQ(lines.size(), details.size());
    std::vector<json> detail;
    for (const std::string& l : lines)
        detail.push_back(json::parse(l)["detail"]);  // each line is JSON
    EXPECT_EQ(detail[0], json::parse(details[0]));
    EXPECT_NE(
        lines[0].find(
            R"("detail":{"a":[1,-2.5e3,true,false,null],"b":{"c":"x\u00e9\ud83d\ude00\n"}}})"),
        std::string::npos)
        << "escapes kept as written, whitespace gone: " << lines[0];
    EXPECT_TRUE(detail[1].is_null());
    EXPECT_TRUE(detail[2].is_null());
    for (size_t i : {3u, 4u, 5u, 7u}) EXPECT_EQ(detail[i], details[i]) << "not JSON: kept as text";
    EXPECT_EQ(detail[6], json::parse("{\"bad utf-8\": \"\\ufffd\\ufffd\"}"));
}

// Bad configs are refused at start-up with one line naming the problem: by
// the host's check against the plugin's schema, or by the plugin itself.
TEST(SdkExample, TheControllerRefusesABadConfigNamingIt) {
    moolai::test::TempDir dir("example-bad-cfg");
    const std::vector<std::pair<json, std::string>> cases = {
        {{{"path", (dir.path / "e.jsonl").string()}, {"kinds", {"nope"}}},
         "\"nope\" is not one of"},
        {{{"path", (dir.path / "e.jsonl").string()}, {"kinds", json::array()}}, "/kinds"},
        {{{"path", ""}}, "/path"},
        {{{"file", "x"}, {"path", "y"}}, "unknown property \"file\""},
        {{{"path", (dir.path / "missing-dir" / "e.jsonl").string()}}, "config /path: cannot open"},
    };
    for (const auto& [config, expected] : cases) {
        const std::string file = moolai::test::write_controller_config(
            dir.path,
            json::array(
                {{{"name", "event_log_observer"}, {"path", EXAMPLE_PLUGIN}, {"config", config}}}));
        const moolai::test::RunResult r =
            moolai::test::run_controller({"--check-config", "--config", file}, {});
        EXPECT_NE(r.exit_code, 0) << config;
        EXPECT_NE(r.output.find(expected), std::string::npos) << config << "\n" << r.output;
    }
}

TEST(SdkExample, TheControllerAcceptsItNextToTheDefaultBundle) {
    const fs::path dir = fs::temp_directory_path() / ("example-cfg-" + std::to_string(getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "moolai.json") << json{
        {"plugins",
         {{{"name", "storage_sqlite"}, {"config", {{"path", (dir / "db.sqlite").string()}}}},
          {{"name", "auth_local"}},
          {{"name", "independence_default"}},
          {{"name", "messaging_default"}},
          {{"name", "event_log_observer"},
           {"path", EXAMPLE_PLUGIN},
           {"config", {{"path", (dir / "events.jsonl").string()}}}},
          // A second observer, written in plain C: observers are not exclusive.
          {{"name", "corpus_good"}, {"path", SECOND_OBSERVER_PLUGIN}}}}}
                                            .dump();
    moolai::test::RunResult r = moolai::test::run_controller(
        {"--check-config", "--config", (dir / "moolai.json").string()}, {});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("event_log_observer"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("configuration OK (6 plugins)"), std::string::npos) << r.output;
    fs::remove_all(dir);
}

// Real activity reaches a real observer: register, heartbeat, a toggle.
TEST(SdkExample, ObservesTheControllersEvents) {
    using moolai::test::http_request;
    const fs::path dir = fs::temp_directory_path() / ("example-events-" + std::to_string(getpid()));
    fs::create_directories(dir);
    const fs::path events = dir / "events.jsonl";
    std::ofstream(dir / "moolai.json") << json{
        {"plugins",
         {{{"name", "storage_sqlite"}, {"config", {{"path", (dir / "db.sqlite").string()}}}},
          {{"name", "auth_local"}},
          {{"name", "independence_default"}},
          {{"name", "messaging_default"}},
          {{"name", "event_log_observer"},
           {"path", EXAMPLE_PLUGIN},
           {"config", {{"path", events.string()}}}}}}}
                                            .dump();
    {
        moolai::test::ControllerProcess c(
            {{"MOOLAI_SUPERADMIN_USERNAME", "root"}, {"MOOLAI_SUPERADMIN_PASSWORD", "root-Password-1"}},
            {"--config", (dir / "moolai.json").string()});
        ASSERT_TRUE(c.wait_ready()) << c.log();
        const uint16_t port = c.rest_port();
        const std::string token = json::parse(http_request(port, "POST",
                                                           "/api/v1/internal/auth/login",
                                                           R"({"username":"root","password":"root-Password-1"})")
                                                  .body)["user"]["token"];
        const moolai::test::HttpHeaders auth = {{"Authorization", "Bearer " + token}};
        http_request(port, "POST", "/api/v1/internal/organizations",
                     R"({"organization_id":"acme","name":"Acme"})", auth);
        const std::string cred =
            json::parse(http_request(port, "POST", "/api/v1/internal/orchestrators",
                                     R"({"orchestrator_id":"o1","organization_id":"acme"})", auth)
                            .body)["data"]["token"];
        moolai::test::WsTestClient ws;
        ASSERT_TRUE(ws.connect("ws://127.0.0.1:" + std::to_string(c.ws_port()) + "/ws"));
        ws.receive();
        ws.send(json{{"type", "register"}, {"orchestrator_id", "o1"}, {"token", cred}}.dump());
        ws.receive();
        ws.send(R"({"type":"i_am_alive"})");
        ws.receive();
        http_request(port, "PUT", "/api/v1/internal/orchestrators/o1/independence",
                     R"({"is_independent":true})", auth);
        ws.receive();
        EXPECT_EQ(c.stop(), 0);  // drains the event bus before the plugins stop
    }
    std::ifstream in(events);
    std::vector<json> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
    std::vector<std::string> kinds;
    for (const json& l : lines) kinds.push_back(l["kind"]);
    EXPECT_EQ(kinds, (std::vector<std::string>{"orchestrator_registered", "status_changed",
                                               "independence_changed",
                                               "orchestrator_disconnected"}))
        << ::testing::PrintToString(kinds);
    ASSERT_GE(lines.size(), 3u);
    EXPECT_EQ(lines[1]["new_value"], "active");
    EXPECT_EQ(lines[2]["actor"], "root");
    EXPECT_EQ(lines[2]["organization_id"], "acme");
    EXPECT_EQ(lines[2]["new_value"], "true");
    fs::remove_all(dir);
}

}  // namespace
}  // namespace moolai::host
