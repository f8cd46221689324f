// The SDK's test kit (moolai/sdk/testing.hpp) held to the real host: the
// config services answer exactly as the controller's do (the same cases as
// tests/compat), it records what a plugin does, moves its clock, plays an
// older 1.x host, loads .so files and plugin classes linked into the test,
// and refuses what the host refuses.
#include <gtest/gtest.h>

#include <moolai/sdk.hpp>
#include <moolai/sdk/testing.hpp>

#include "config_cases.hpp"

namespace kit = moolai::sdk::testing;
namespace sdk = moolai::sdk;

namespace {

// Answers of the config probe plugin to `requests` on `host`.
std::string probe(kit::FakeHost& host, const std::string& requests) {
    kit::Plugin p = kit::Plugin::load(CONFIG_PROBE_PLUGIN, host);
    kit::Event e;
    e.detail_json = requests;
    kit::Result r = p.on_event(e.view());
    EXPECT_TRUE(r.ok()) << r.error;
    return r.output;
}

TEST(TestKit, ConfigServicesAnswerLikeTheRealHost) {
    kit::FakeHost host(moolai::test::kProbeConfig);
    moolai::test::expect_config_answers(probe(host, moolai::test::config_batch().first));
}

// A 1.1 plugin that requires only 1.0, in a 1.0 host: it loads, and reads
// no further than the 1.0 table (the config readers say why they cannot).
TEST(TestKit, AnOlderHostHasNoConfigServicesAndThePluginIsToldWhy) {
    kit::FakeHost host(R"({"name":"x"})", /*abi_minor=*/0);
    EXPECT_EQ(host.api()->struct_size, MOOLAI_HOST_API_SIZE_1_0);
    EXPECT_EQ(probe(host, "available\nstring /name\n"),
              "ok no\nerror 6 config services need a host of ABI 1.1 or newer, this host is 1.0; "
              "fix: upgrade the host, or set abi_minor_required = 1 so older hosts refuse the "
              "plugin at load time\n");
}

// ---- a plugin class linked into the test ----------------------------------

class Greeter : public sdk::Plugin, public sdk::Observer {
public:
    static constexpr const char* name = "greeter";
    static constexpr const char* version = "0.1.0";
    static constexpr const char* description = "greets events, for the test kit's own test";
    static constexpr uint32_t abi_minor_required = 1;  // reads its config through the host

    Greeter(sdk::Host host, std::string_view) : Plugin(host) {
        greeting_ = std::string(host.config().string("/greeting"));
        if (greeting_.empty()) throw sdk::Error(MOOLAI_E_INVALID, "config /greeting: empty");
        host.info("greeter ready");
    }

    sdk::Status on_event(sdk::Call& call, const moolai_event& e) override {
        const std::string id(sdk::view(e.orchestrator_id));
        host().metric_add("greeted_total", 1);
        host().metric_set("last_kind", e.kind);
        if (!host().send_frame(id, R"({"type":"hello"})")) host().warn("not connected: " + id);
        kit::Event echo;
        echo.detail_json = "{\"at\":" + std::to_string(host().now_ms()) + "}";
        host().emit(echo.view());
        return call.output(greeting_ + " " + id);
    }

private:
    std::string greeting_;
};

TEST(TestKit, RecordsWhatTheLinkedPluginDoesAndMovesTheClock) {
    kit::FakeHost host(R"({"greeting":"hello"})");
    kit::Plugin p = kit::Plugin::linked<Greeter>(host);
    EXPECT_STREQ(p.descriptor().name, "greeter");
    EXPECT_TRUE(host.logged("greeter ready"));

    kit::Event e;
    e.kind = MOOLAI_EVENT_ORCHESTRATOR_REGISTERED;
    e.orchestrator_id = "orch-1";
    host.set_now_ms(kit::utc_ms(2026, 12, 3, 2, 30));
    EXPECT_EQ(host.now_ms(), 1796265000000);
    kit::Result r = p.on_event(e.view());
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.output, "hello orch-1");

    host.advance_ms(1500);
    host.set_connected("orch-2", false);
    e.orchestrator_id = "orch-2";
    ASSERT_TRUE(p.on_event(e.view()).ok());

    EXPECT_EQ(host.counter("greeted_total"), 2);
    EXPECT_EQ(host.gauge("last_kind"), MOOLAI_EVENT_ORCHESTRATOR_REGISTERED);
    EXPECT_FALSE(host.gauge("never_set").has_value());
    ASSERT_EQ(host.frames().size(), 1u);  // orch-2 was not connected
    EXPECT_EQ(host.frames()[0].orchestrator_id, "orch-1");
    EXPECT_TRUE(host.logged("not connected: orch-2"));
    const auto events = host.events();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].detail_json, "{\"at\":1796265000000}");
    EXPECT_EQ(events[1].detail_json, "{\"at\":1796265001500}");
}

TEST(TestKit, ACreateThatRefusesItsConfigIsALoadErrorWithThePluginsWords) {
    kit::FakeHost empty(R"({"greeting":""})");
    try {
        kit::Plugin::linked<Greeter>(empty);
        FAIL() << "created with an empty greeting";
    } catch (const kit::LoadError& e) {
        EXPECT_EQ(e.status(), MOOLAI_E_INVALID);
        EXPECT_EQ(e.plugin_error(), "config /greeting: empty");
    }
    kit::FakeHost missing("{}");
    try {
        kit::Plugin::linked<Greeter>(missing);
        FAIL() << "created without a greeting";
    } catch (const kit::LoadError& e) {
        EXPECT_EQ(e.plugin_error(), "config /greeting: missing, and the plugin requires it");
    }
}

TEST(TestKit, AnOlderHostRefusesAPluginThatRequiresANewerMinor) {
    kit::FakeHost old(R"({"greeting":"hi"})", 0);
    try {
        kit::Plugin::linked<Greeter>(old);
        FAIL() << "a 1.0 host created a plugin that requires 1.1";
    } catch (const kit::LoadError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "linked plugin class: plugin ABI 1.5 (requires 1.1) cannot load into host ABI 1.0");
    }
}

TEST(TestKit, BadConfigTextIsATestErrorUnlessAskedForRaw) {
    EXPECT_THROW(kit::FakeHost("{\"a\":"), std::invalid_argument);
    EXPECT_THROW(kit::FakeHost("[1]"), std::invalid_argument);
    kit::FakeHost raw(kit::RawConfig{"not json"});
    EXPECT_EQ(raw.config_json(), "not json");
    EXPECT_EQ(probe(raw, "has /x\n"), "ok no\n");
}

// A plugin built against the frozen 1.0 SDK, loaded from its .so, called
// through the kit's typed methods and through a raw table call.
TEST(TestKit, LoadsASharedObjectOfAnOlderMinor) {
    kit::FakeHost host(R"({"any":"config"})");
    kit::Plugin p = kit::Plugin::load(FROZEN_1_0_PLUGIN, host);
    EXPECT_EQ(p.descriptor().abi_minor_built, 0u);
    EXPECT_TRUE(host.logged("created by a host of ABI 1.5"));
    EXPECT_EQ(host.counter("created"), 1);
    EXPECT_EQ(p.hash_password("pw").output, "hash_password(pw)");
    uint32_t decision = 99;
    ASSERT_TRUE(p.on_heartbeat(kit::Heartbeat{"ignore-me"}.view(), decision).ok());
    EXPECT_EQ(decision, MOOLAI_HEARTBEAT_IGNORE);
    kit::Result denied = p.on_toggle(kit::Toggle{"orch-1", "locked"}.view());
    EXPECT_EQ(denied.status, MOOLAI_E_DENIED);
    EXPECT_EQ(denied.error, "locked by 1.0");
    ASSERT_TRUE(p.route(kit::Route{"{}", false, false}.view(), decision).ok());
    EXPECT_EQ(decision, MOOLAI_ROUTE_HOLD);
    const auto* storage = p.table<moolai_storage_v1>(MOOLAI_CAP_STORAGE);
    ASSERT_NE(storage, nullptr);
    EXPECT_EQ(p.call([&](auto i, auto c) { return storage->org_get(i, c, sdk::str("o")); }).output,
              "org_get(o)");
}

TEST(TestKit, ASharedObjectThatIsNotAPluginIsALoadError) {
    kit::FakeHost host;
    EXPECT_THROW(kit::Plugin::load("/nonexistent/libnothing.so", host),
                 kit::LoadError);
    try {
        kit::Plugin::load(NO_ENTRY_PLUGIN, host);
        FAIL() << "loaded a library without the entry point";
    } catch (const kit::LoadError& e) {
        EXPECT_NE(std::string(e.what()).find("does not export moolai_plugin_entry()"),
                  std::string::npos)
            << e.what();
    }
    // A descriptor shorter than 1.0's is refused before any field past it is read.
    try {
        kit::Library::open(SHORT_DESCRIPTOR_PLUGIN).descriptor();
        FAIL() << "read a descriptor shorter than ABI 1.0's";
    } catch (const kit::LoadError& e) {
        EXPECT_NE(std::string(e.what()).find("shorter than ABI 1.0's"), std::string::npos)
            << e.what();
    }
}

// The SDK's create() refuses a host table that does not cover ABI 1.0
// (it could not even report why through it) and makes no instance.
TEST(TestKit, TheSdkRefusesAHostTableShorterThan10) {
    kit::FakeHost host(R"({"greeting":"hi"})");
    moolai_host_api short_api = *host.api();
    short_api.struct_size = MOOLAI_HOST_API_SIZE_1_0 - 8;
    const moolai_plugin_descriptor& d = kit::Library::of<Greeter>().descriptor();
    moolai_instance* out = reinterpret_cast<moolai_instance*>(&short_api);  // must be cleared
    const moolai_status s = d.create(&short_api, host.handle(), sdk::str("{}"), nullptr, &out);
    EXPECT_EQ(s, MOOLAI_E_INVALID);
    EXPECT_EQ(out, nullptr);
    EXPECT_FALSE(host.logged("greeter ready"));
}

}  // namespace
