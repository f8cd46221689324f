// Unit tests of webhook_observer with the SDK's test kit: the plugin's .so
// on a fake host that records its metrics and log lines. No HTTP server is
// needed: the queue is checked before the worker starts, and the retries
// against a port where nothing listens (connection refused at once).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include <moolai/sdk/testing.hpp>

namespace kit = moolai::sdk::testing;

namespace {

// Waits until `done()` holds; false after `timeout`.
template <class Pred>
bool eventually(Pred done, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

kit::Event registered(const std::string& orchestrator) {
    kit::Event e;
    e.kind = MOOLAI_EVENT_ORCHESTRATOR_REGISTERED;
    e.orchestrator_id = orchestrator;
    return e;
}

// Port 1 (tcpmux) has no listener on a test machine: every try is refused.
constexpr const char* kNobodyListens = "http://127.0.0.1:1/hook";

// Until start(), events only queue: a full queue drops and counts.
TEST(WebhookObserver, AFullQueueDropsAndCounts) {
    kit::FakeHost host(std::string(R"({"url": ")") + kNobodyListens + R"(", "queue_capacity": 2})");
    const kit::Plugin plugin = kit::Plugin::load(PLUGIN_PATH, host);
    for (int i = 0; i < 5; ++i)
        ASSERT_TRUE(plugin.on_event(registered("o" + std::to_string(i)).view()).ok());
    EXPECT_EQ(host.counter("dropped_total"), 3);
    EXPECT_EQ(host.gauge("queue_depth"), 2);
    EXPECT_TRUE(host.logged("queue full (2 events)"));
}

TEST(WebhookObserver, GivesUpAfterMaxAttemptsAndLogsIt) {
    kit::FakeHost host(std::string(R"({"url": ")") + kNobodyListens +
                       R"(", "max_attempts": 3, "backoff_ms": 1})");
    kit::Plugin plugin = kit::Plugin::load(PLUGIN_PATH, host);
    ASSERT_TRUE(plugin.start().ok());
    ASSERT_TRUE(plugin.on_event(registered("o1").view()).ok());
    ASSERT_TRUE(eventually([&] { return host.counter("failed_total") == 1; }));
    plugin.stop();
    EXPECT_EQ(host.counter("attempts_total"), 3);
    EXPECT_TRUE(
        host.logged("attempt 1 of 3 failed: connect: Connection refused; retrying in 1 ms"));
    EXPECT_TRUE(
        host.logged("attempt 2 of 3 failed: connect: Connection refused; retrying in 2 ms"));
    EXPECT_TRUE(host.logged("gave up on an event after 3 attempts: connect: Connection refused"));
}

// A URL the plugin cannot use is refused at start-up, naming it.
TEST(WebhookObserver, RefusesAUrlItCannotUse) {
    for (const char* url : {"http://hooks.example:0/x", "http:///x", "http://[::1/x"}) {
        kit::FakeHost host(std::string(R"({"url": ")") + url + "\"}");
        try {
            kit::Plugin::load(PLUGIN_PATH, host);
            ADD_FAILURE() << url << " was accepted";
        } catch (const kit::LoadError& e) {
            EXPECT_EQ(e.status(), MOOLAI_E_INVALID);
            EXPECT_EQ(e.plugin_error().rfind(std::string("config /url: \"") + url + "\": ", 0), 0u)
                << e.plugin_error();
        }
    }
}

}  // namespace
