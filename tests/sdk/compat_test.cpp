// One plugin source, two toolchains (g++/libstdc++ and clang++/libc++),
// the same tests through the g++ host's loader.
#include <gtest/gtest.h>

#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "plugins/capability_clients.hpp"
#include "plugins/host_services.hpp"
#include "plugins/plugin_loader.hpp"

namespace moolai::host {
namespace {

using nlohmann::json;

class Compat : public ::testing::TestWithParam<std::string> {
protected:
    Log log{100};
    Metrics metrics;
    HostServices services;
    std::unique_ptr<PluginLoader> loader;
    std::unique_ptr<LoadedPlugin> plugin;

    void SetUp() override {
        services.log = &log;
        services.metrics = &metrics;
        loader = std::make_unique<PluginLoader>(services);
        plugin = loader->load(GetParam(), json{{"quiet_prefixes", "quiet-,mute-"}});
    }
};

moolai_heartbeat_info heartbeat(const std::string& id, bool independent) {
    moolai_heartbeat_info hb{};
    hb.struct_size = sizeof hb;
    hb.orchestrator_id = moolai_str{id.data(), id.size()};
    hb.is_independent = independent ? 1 : 0;
    return hb;
}

TEST_P(Compat, DescriptorAndCapabilities) {
    EXPECT_EQ(plugin->name(), "compat_plugin");
    EXPECT_EQ(plugin->abi_version(), "1.5");
    EXPECT_TRUE(plugin->concurrent());
    EXPECT_NE(plugin->independence(), nullptr);
    EXPECT_NE(plugin->observer(), nullptr);
}

TEST_P(Compat, HeartbeatDecisions) {
    IndependenceClient policy(*plugin);
    uint32_t d = 99;
    const std::string a = "orch-1", b = "quiet-7", c = "mute-x";
    ASSERT_TRUE(policy.on_heartbeat(heartbeat(a, false), d).ok());
    EXPECT_EQ(d, MOOLAI_HEARTBEAT_PROCESS);
    ASSERT_TRUE(policy.on_heartbeat(heartbeat(a, true), d).ok());
    EXPECT_EQ(d, MOOLAI_HEARTBEAT_IGNORE);
    ASSERT_TRUE(policy.on_heartbeat(heartbeat(b, false), d).ok());
    EXPECT_EQ(d, MOOLAI_HEARTBEAT_IGNORE);
    ASSERT_TRUE(policy.on_heartbeat(heartbeat(c, false), d).ok());
    EXPECT_EQ(d, MOOLAI_HEARTBEAT_IGNORE);
}

CallResult toggle(const LoadedPlugin& p, const std::string& org) {
    moolai_toggle_request r{};
    r.struct_size = sizeof r;
    r.organization_id = moolai_str{org.data(), org.size()};
    return IndependenceClient(p).on_toggle(r);
}

TEST_P(Compat, ExceptionsStayOnTheirSideOfTheWall) {
    CallResult inside = toggle(*plugin, "org-throws-inside");
    EXPECT_EQ(inside.status, MOOLAI_E_DENIED);
    EXPECT_EQ(inside.error, "plugin caught: caught inside");
    CallResult out = toggle(*plugin, "org-throws-out");
    EXPECT_EQ(out.status, MOOLAI_E_INTERNAL);
    EXPECT_EQ(out.error, "thrown out of org-throws-out");
    CallResult sdk = toggle(*plugin, "org-error");
    EXPECT_EQ(sdk.status, MOOLAI_E_CONFLICT);
    EXPECT_EQ(sdk.error, "sdk error for org-error");
    EXPECT_TRUE(toggle(*plugin, "org-fine").ok());
}

TEST_P(Compat, OutputsCrossWithEmbeddedNul) {
    ObserverClient observer(*plugin);
    moolai_event e{};
    e.struct_size = sizeof e;
    e.kind = MOOLAI_EVENT_STATUS_CHANGED;
    const std::string id = "orch-\xC3\xA9";  // UTF-8 too
    e.orchestrator_id = moolai_str{id.data(), id.size()};
    observer.on_event(e);
    CallResult r = observer.on_event(e);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.output, id + "=2;" + std::string("\0end", 4));
}

TEST_P(Compat, BadConfigIsRefusedBySchema) {
    try {
        loader->load(GetParam(), json{{"unexpected", 1}});
        FAIL() << "loaded with an unknown config property";
    } catch (const PluginRefused& e) {
        EXPECT_NE(std::string(e.what()).find("unknown property \"unexpected\""), std::string::npos)
            << e.what();
    }
}

INSTANTIATE_TEST_SUITE_P(Toolchains, Compat,
                         ::testing::Values(std::string(COMPAT_GCC_PLUGIN),
                                           std::string(COMPAT_CLANG_PLUGIN)),
                         [](const auto& info) {
                             return std::string(info.index == 0 ? "gcc_libstdcxx"
                                                                : "clang_libcxx");
                         });

}  // namespace
}  // namespace moolai::host
