// PluginLoader against real shared objects: the negative corpus, each
// refused with its exact line and without a crash, and the good cases.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "plugins/capability_clients.hpp"
#include "plugins/host_services.hpp"
#include "plugins/plugin_loader.hpp"

namespace moolai::host {
namespace {

using nlohmann::json;

std::string corpus(const std::string& variant) {
    return std::string(MOOLAI_CORPUS_DIR) + "/libcorpus_" + variant + ".so";
}

class LoaderTest : public ::testing::Test {
protected:
    Log log{100};
    Metrics metrics;
    HostServices services;
    std::unique_ptr<PluginLoader> loader;

    void SetUp() override {
        log.set_level(LogLevel::error);
        services.log = &log;
        services.metrics = &metrics;
        loader = std::make_unique<PluginLoader>(services);
    }

    std::string refusal(const std::string& path, const json& config = json::object()) {
        try {
            loader->load(path, config);
        } catch (const PluginRefused& e) {
            return e.what();
        }
        return "(loaded)";
    }
};

const std::string kCurrent = "plugin ABI 1.5 (requires 1.0), host ABI 1.5";

TEST_F(LoaderTest, WrongMajorIsRefusedWithBothVersionsAndTheFix) {
    const std::string p = corpus("wrong_major");
    EXPECT_EQ(refusal(p), "refusing plugin " + p +
                              ": its ABI major version 2 differs from the host's 1; plugin ABI "
                              "2.5 (requires 2.0), host ABI 1.5; fix: rebuild the plugin against "
                              "the 1.x SDK, or run a host of major 2");
}

TEST_F(LoaderTest, NewerRequiredMinorIsRefused) {
    const std::string p = corpus("newer_minor");
    EXPECT_EQ(refusal(p), "refusing plugin " + p +
                              ": it requires ABI minor 7, newer than the host's 5; plugin ABI 1.7 "
                              "(requires 1.7), host ABI 1.5; fix: upgrade the host, or rebuild "
                              "the plugin with abi_minor_required <= 5");
}

TEST_F(LoaderTest, ShortDescriptorIsRefused) {
    const std::string p = corpus("short_struct");
    EXPECT_EQ(refusal(p), "refusing plugin " + p +
                              ": its descriptor has struct_size 40, shorter than the 104 bytes of "
                              "ABI 1.0; " + kCurrent +
                              "; fix: rebuild it with the SDK's MOOLAI_PLUGIN macro");
}

TEST_F(LoaderTest, MissingRequiredFunctionIsNamed) {
    const std::string p = corpus("missing_function");
    EXPECT_EQ(refusal(p), "refusing plugin " + p +
                              ": capability auth lacks the required function hash_token; " +
                              kCurrent +
                              "; fix: implement hash_token (the SDK's base class declares it)");
}

TEST_F(LoaderTest, HalfACapabilityIsRefused) {
    const std::string p = corpus("half_capability");
    EXPECT_EQ(refusal(p), "refusing plugin " + p +
                              ": it declares capability auth but get_capability() returned NULL "
                              "for it; " + kCurrent +
                              "; fix: return the auth table, or drop the capability bit");
}

TEST_F(LoaderTest, NullFromEntryPointIsRefused) {
    const std::string p = corpus("null_entry");
    EXPECT_EQ(refusal(p), "refusing plugin " + p +
                              ": moolai_plugin_entry() returned NULL (the plugin declined this "
                              "host); plugin ABI unknown, host ABI 1.5; fix: see the plugin's "
                              "documentation for the host versions it supports");
}

TEST_F(LoaderTest, MissingEntryPointIsRefused) {
    const std::string p = corpus("no_entry");
    EXPECT_EQ(refusal(p), "refusing plugin " + p +
                              ": it does not export moolai_plugin_entry(); plugin ABI unknown, "
                              "host ABI 1.5; fix: export it with MOOLAI_PLUGIN(YourClass) from "
                              "the SDK");
}

TEST_F(LoaderTest, MissingFileIsRefusedInOneLine) {
    const std::string p = corpus("does_not_exist");
    const std::string line = refusal(p);
    EXPECT_EQ(line.rfind("refusing plugin " + p + ": the shared object cannot be loaded: ", 0), 0u)
        << line;
    EXPECT_NE(line.find("No such file"), std::string::npos) << line;
    EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST_F(LoaderTest, ConfigRejectedBySchemaNamesTheProblem) {
    const std::string p = corpus("schema");
    EXPECT_EQ(refusal(p, json::object()),
              "refusing plugin " + p +
                  ": its config block was rejected by the plugin's schema: at /: the required "
                  "property \"level\" is missing; plugin ABI 1.5 (requires 1.0), host ABI 1.5; fix: correct the \"config\" of "
                  "plugin corpus_schema in the host's config file");
    EXPECT_NE(refusal(p, json{{"level", 0}}).find("at /level: 0 is less than the minimum 1"),
              std::string::npos);
    EXPECT_NE(refusal(p, json{{"level", "high"}}).find("at /level: expected integer, got string"),
              std::string::npos);
    EXPECT_EQ(refusal(p, json{{"level", 3}}), "(loaded)");
    EXPECT_NE(refusal(p, json::array()).find("config block is array, not a JSON object"),
              std::string::npos);
}

TEST_F(LoaderTest, ThrowingConstructorBecomesARefusal) {
    const std::string p = THROWING_PLUGIN;
    EXPECT_EQ(refusal(p, json{{"throw_in_constructor", true}}),
              "refusing plugin " + p +
                  ": create() failed with internal: constructor refused: throw_in_constructor "
                  "was set; plugin ABI 1.5 (requires 1.0), host ABI 1.5; fix: correct the "
                  "plugin's config or environment as the message says");
}

TEST_F(LoaderTest, ThrowingCallbacksBecomeStatusesAndTheHostGoesOn) {
    auto plugin = loader->load(THROWING_PLUGIN, json::object());
    IndependenceClient policy(*plugin);
    moolai_heartbeat_info hb{};
    hb.struct_size = sizeof hb;
    hb.orchestrator_id = moolai_str{"orch-1", 6};
    uint32_t decision = 77;
    for (int i = 0; i < 3; ++i) {  // again and again: nothing was left broken
        CallResult r = policy.on_heartbeat(hb, decision);
        EXPECT_EQ(r.status, MOOLAI_E_INTERNAL);
        EXPECT_EQ(r.error, "on_heartbeat exploded for orch-1");
    }
    moolai_toggle_request t{};
    t.struct_size = sizeof t;
    CallResult r = policy.on_toggle(t);
    EXPECT_EQ(r.status, MOOLAI_E_INTERNAL);
    EXPECT_EQ(r.error, "unknown exception");
}

TEST_F(LoaderTest, APlainCPluginLoadsAndIsCalled) {
    auto plugin = loader->load(corpus("good"), json::object());
    EXPECT_EQ(plugin->name(), "corpus_good");
    EXPECT_EQ(plugin->abi_version(), "1.5");
    EXPECT_FALSE(plugin->concurrent());
    ASSERT_NE(plugin->observer(), nullptr);
    EXPECT_EQ(plugin->auth(), nullptr);
    ObserverClient observer(*plugin);
    moolai_event e{};
    e.struct_size = sizeof e;
    e.kind = MOOLAI_EVENT_STATUS_CHANGED;
    EXPECT_TRUE(observer.on_event(e).ok());
}

// Runs 8 threads of overlap probes and returns the most calls seen at once.
int max_overlap(const LoadedPlugin& plugin) {
    ObserverClient observer(plugin);
    std::vector<std::thread> threads;
    std::atomic<int> worst{0};
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            moolai_event e{};
            e.struct_size = sizeof e;
            e.kind = 9999;
            for (int i = 0; i < 20; ++i) {
                CallResult r = observer.on_event(e);
                if (r.ok() && !r.output.empty()) {
                    int seen = r.output[0] - '0';
                    int cur = worst.load();
                    while (seen > cur && !worst.compare_exchange_weak(cur, seen)) {
                    }
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    return worst.load();
}

TEST_F(LoaderTest, SerializedPluginsAreNeverCalledConcurrently) {
    auto serialized = loader->load(corpus("good"), json::object());
    EXPECT_EQ(max_overlap(*serialized), 1);
}

TEST_F(LoaderTest, ConcurrentPluginsAreCalledInParallel) {
    // The control for the test above: without the host's lock, calls do overlap.
    auto concurrent = loader->load(corpus("concurrent"), json::object());
    EXPECT_TRUE(concurrent->concurrent());
    EXPECT_GT(max_overlap(*concurrent), 1);
}

}  // namespace
}  // namespace moolai::host
