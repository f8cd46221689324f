// The SDK's example plugin, built out of tree against the installed SDK,
// loaded by the host: events become JSON lines in the configured file.
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

}  // namespace
}  // namespace moolai::host
