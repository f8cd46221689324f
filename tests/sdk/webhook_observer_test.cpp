// sdk/examples/webhook_observer, built out of tree against the installed
// SDK, loaded by the host's PluginLoader and by the controller itself,
// posting to a real HTTP receiver on 127.0.0.1 (tests/sdk/http_receiver.hpp).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>

#include "events/event.hpp"
#include "plugins/capability_clients.hpp"
#include "sdk/example_support.hpp"
#include "sdk/http_receiver.hpp"
#include "support/controller_process.hpp"
#include "support/fleet_fixture.hpp"

namespace moolai::test {
namespace {

using host::LogLevel;
using nlohmann::json;
using namespace std::chrono_literals;

host::Event registered(const std::string& orchestrator) {
    host::Event e;
    e.kind = MOOLAI_EVENT_ORCHESTRATOR_REGISTERED;
    e.time_ms = 1795860000123;  // 2026-11-28T10:00:00.123Z
    e.organization_id = "acme";
    e.orchestrator_id = orchestrator;
    e.actor = "system";
    return e;
}

json webhook_config(const HttpReceiver& r, json extra = json::object()) {
    json c = {{"url", r.url("/hooks/moolai")}, {"backoff_ms", 10}, {"timeout_ms", 2000}};
    c.update(extra);
    return c;
}

TEST(WebhookObserver, PostsEachEventAsAJsonObject) {
    HttpReceiver receiver;
    LoadedExample w(WEBHOOK_PLUGIN, webhook_config(receiver));
    ASSERT_TRUE(w.plugin->start().ok());
    host::ObserverClient observer(*w.plugin);
    host::Event e = registered("orch-\"1\"\n");
    e.detail_json = R"({"reason":"boot"})";
    ASSERT_TRUE(observer.on_event(e.view()).ok());

    ASSERT_TRUE(receiver.wait_for(1));
    const HttpRequest r = receiver.requests()[0];
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/hooks/moolai");
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
    EXPECT_EQ(r.headers.at("host"), "127.0.0.1:" + std::to_string(receiver.port()));
    const json body = json::parse(r.body);  // escaped by hand in the plugin: still JSON
    EXPECT_EQ(body, (json{{"kind", "orchestrator_registered"},
                          {"time", "2026-11-28T10:00:00.123Z"},
                          {"organization_id", "acme"},
                          {"orchestrator_id", "orch-\"1\"\n"},
                          {"subject_id", ""},
                          {"old_value", ""},
                          {"new_value", ""},
                          {"actor", "system"},
                          {"detail_json", R"({"reason":"boot"})"}}));
    ASSERT_TRUE(eventually([&] { return w.metric("delivered_total") == 1; }));
    EXPECT_EQ(w.metric("attempts_total"), 1);
}

// The receiver answers 500 twice: the third try delivers, after two logged retries.
TEST(WebhookObserver, RetriesUntilTheReceiverAccepts) {
    HttpReceiver receiver([](size_t i) { return i < 2 ? 500 : 200; });
    LoadedExample w(WEBHOOK_PLUGIN, webhook_config(receiver, {{"max_attempts", 3}}));
    ASSERT_TRUE(w.plugin->start().ok());
    ASSERT_TRUE(host::ObserverClient(*w.plugin).on_event(registered("o1").view()).ok());

    ASSERT_TRUE(eventually([&] { return w.metric("delivered_total") == 1; }))
        << receiver.count() << " requests";
    const auto requests = receiver.requests();
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[0].body, requests[2].body) << "a retry posts the same event";
    EXPECT_EQ(w.metric("attempts_total"), 3);
    EXPECT_EQ(w.metric("failed_total"), 0);
    const auto retries = w.lines(LogLevel::warn, "failed: HTTP 500; retrying in");
    ASSERT_EQ(retries.size(), 2u);
    EXPECT_NE(retries[0].find("attempt 1 of 3"), std::string::npos) << retries[0];
    EXPECT_NE(retries[1].find("attempt 2 of 3"), std::string::npos) << retries[1];
    EXPECT_TRUE(w.lines(LogLevel::error).empty());
}

// A receiver that always fails gets exactly max_attempts tries, then one
// logged give-up; the next event is tried afresh.
TEST(WebhookObserver, GivesUpAfterMaxAttempts) {
    HttpReceiver receiver([](size_t) { return 503; });
    LoadedExample w(WEBHOOK_PLUGIN, webhook_config(receiver, {{"max_attempts", 4}}));
    ASSERT_TRUE(w.plugin->start().ok());
    host::ObserverClient observer(*w.plugin);
    ASSERT_TRUE(observer.on_event(registered("o1").view()).ok());
    ASSERT_TRUE(eventually([&] { return w.metric("failed_total") == 1; }));
    ASSERT_TRUE(observer.on_event(registered("o2").view()).ok());
    ASSERT_TRUE(eventually([&] { return w.metric("failed_total") == 2; }));
    w.plugin->stop();  // joins the worker: no try can come after this

    const auto requests = receiver.requests();
    ASSERT_EQ(requests.size(), 8u);
    for (size_t i = 0; i < 8; ++i)
        EXPECT_EQ(json::parse(requests[i].body)["orchestrator_id"], i < 4 ? "o1" : "o2");
    EXPECT_EQ(w.metric("attempts_total"), 8);
    EXPECT_EQ(w.metric("delivered_total"), 0);
    const auto gave_up = w.lines(LogLevel::error, "gave up on an event after 4 attempts: HTTP 503");
    EXPECT_EQ(gave_up.size(), 2u);
    EXPECT_EQ(w.lines(LogLevel::warn, "retrying in").size(), 6u);
}

// 400 says the request itself is wrong: trying again cannot help.
TEST(WebhookObserver, AClientErrorIsNotRetried) {
    HttpReceiver receiver([](size_t) { return 400; });
    LoadedExample w(WEBHOOK_PLUGIN, webhook_config(receiver, {{"max_attempts", 5}}));
    ASSERT_TRUE(w.plugin->start().ok());
    ASSERT_TRUE(host::ObserverClient(*w.plugin).on_event(registered("o1").view()).ok());
    ASSERT_TRUE(eventually([&] { return w.metric("failed_total") == 1; }));
    w.plugin->stop();
    EXPECT_EQ(receiver.count(), 1u);
    EXPECT_EQ(w.lines(LogLevel::error, "after 1 attempt: HTTP 400").size(), 1u);
}

// Nothing listens: connection refused is a network error, retried, then given up.
TEST(WebhookObserver, AnUnreachableReceiverIsRetriedThenGivenUp) {
    uint16_t closed_port = 0;
    {
        HttpReceiver gone;
        closed_port = gone.port();
    }
    LoadedExample w(WEBHOOK_PLUGIN,
                    {{"url", "http://127.0.0.1:" + std::to_string(closed_port) + "/x"},
                     {"max_attempts", 2},
                     {"backoff_ms", 1}});
    ASSERT_TRUE(w.plugin->start().ok());
    ASSERT_TRUE(host::ObserverClient(*w.plugin).on_event(registered("o1").view()).ok());
    ASSERT_TRUE(eventually([&] { return w.metric("failed_total") == 1; }));
    EXPECT_EQ(w.metric("attempts_total"), 2);
    EXPECT_EQ(w.lines(LogLevel::error, "after 2 attempts: connect: Connection refused").size(), 1u)
        << ::testing::PrintToString(w.lines(LogLevel::error));
}

// A receiver that never answers holds the worker; the event thread goes on,
// the queue fills, and what does not fit is dropped and counted.
TEST(WebhookObserver, AStalledReceiverNeverHoldsTheEventThread) {
    HttpReceiver receiver([](size_t) { return HttpReceiver::kNoAnswer; });
    LoadedExample w(WEBHOOK_PLUGIN, webhook_config(receiver, {{"queue_capacity", 2},
                                                              {"max_attempts", 1},
                                                              {"timeout_ms", 3000}}));
    ASSERT_TRUE(w.plugin->start().ok());
    host::ObserverClient observer(*w.plugin);
    ASSERT_TRUE(observer.on_event(registered("first").view()).ok());
    ASSERT_TRUE(receiver.wait_for(1));  // the worker now waits for an answer

    const auto before = std::chrono::steady_clock::now();
    for (int i = 0; i < 9; ++i)
        ASSERT_TRUE(observer.on_event(registered("o" + std::to_string(i)).view()).ok());
    EXPECT_LT(std::chrono::steady_clock::now() - before, 1s) << "on_event waited for the network";
    EXPECT_EQ(w.metric("dropped_total"), 7) << "2 queued, 7 dropped";
    EXPECT_EQ(w.lines(LogLevel::warn, "queue full (2 events)").size(), 1u) << "one warning per run";

    // stop() is bounded by timeout_ms: the stalled try times out, and the
    // two queued events get one try each or are dropped at shutdown.
    const auto stopping = std::chrono::steady_clock::now();
    w.plugin->stop();
    EXPECT_LT(std::chrono::steady_clock::now() - stopping, 8s);
    EXPECT_EQ(w.metric("delivered_total"), 0);
    EXPECT_EQ(w.metric("failed_total") + w.metric("dropped_total"), 1 + 2 + 7);
}

TEST(WebhookObserver, EventsWaitingAtShutdownAreStillSent) {
    HttpReceiver receiver;
    // stop() gives what is queued timeout_ms to go out, one try each.
    LoadedExample w(WEBHOOK_PLUGIN, webhook_config(receiver, {{"timeout_ms", 5000}}));
    ASSERT_TRUE(w.plugin->start().ok());
    host::ObserverClient observer(*w.plugin);
    for (int i = 0; i < 5; ++i)
        ASSERT_TRUE(observer.on_event(registered("o" + std::to_string(i)).view()).ok());
    w.plugin->stop();  // as the controller does after draining its event bus
    EXPECT_EQ(receiver.count(), 5u);
    EXPECT_EQ(w.metric("delivered_total"), 5);
}

TEST(WebhookObserver, OnlyTheConfiguredKinds) {
    HttpReceiver receiver;
    LoadedExample w(WEBHOOK_PLUGIN, webhook_config(receiver, {{"kinds", {"status_changed"}}}));
    ASSERT_TRUE(w.plugin->start().ok());
    host::ObserverClient observer(*w.plugin);
    host::Event status = registered("o1");
    status.kind = MOOLAI_EVENT_STATUS_CHANGED;
    status.old_value = "inactive";
    status.new_value = "active";
    ASSERT_TRUE(observer.on_event(registered("o1").view()).ok());
    ASSERT_TRUE(observer.on_event(status.view()).ok());
    w.plugin->stop();
    const auto requests = receiver.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(json::parse(requests[0].body)["kind"], "status_changed");
}

// Bad configs are refused at start-up with one line that says why: by the
// host's schema check (https) or by the plugin's constructor (the port).
TEST(WebhookObserver, TheControllerRefusesABadUrlNamingIt) {
    TempDir dir("webhook-cfg");
    for (const auto& [url, expected] : std::vector<std::pair<std::string, std::string>>{
             {"https://hooks.example/x", "does not match the pattern"},
             {"http://hooks.example:99999/x", "the port must be a number from 1 to 65535"},
             {"http://user:pw@hooks.example/x", "credentials in the URL are not supported"}}) {
        const std::string file =
            write_controller_config(dir.path, json::array({{{"name", "webhook_observer"},
                                                            {"path", WEBHOOK_PLUGIN},
                                                            {"config", {{"url", url}}}}}));
        const RunResult r = run_controller({"--check-config", "--config", file}, {});
        EXPECT_NE(r.exit_code, 0) << url;
        EXPECT_NE(r.output.find(expected), std::string::npos) << url << "\n" << r.output;
        EXPECT_NE(r.output.find("webhook_observer"), std::string::npos) << r.output;
    }
}

// The real controller: an orchestrator registers and the receiver hears of it.
class WebhookInTheController : public ControllerTest {};

TEST_F(WebhookInTheController, AnOrchestratorRegisteringReachesTheReceiver) {
    HttpReceiver receiver;
    TempDir dir("webhook-controller");
    const std::string file = write_controller_config(
        dir.path,
        json::array({{{"name", "webhook_observer"},
                      {"path", WEBHOOK_PLUGIN},
                      {"config",
                       {{"url", receiver.url("/events")},
                        {"kinds", {"orchestrator_registered", "independence_changed"}}}}}}));
    controller =
        std::make_unique<ControllerProcess>(kAdminEnv, std::vector<std::string>{"--config", file});
    ASSERT_TRUE(controller->wait_ready()) << controller->log();
    admin = admin_token(controller->rest_port());
    const std::string token = issue(controller->rest_port(), admin, "acme", "orch-web-1");
    WsTestClient ws;
    EXPECT_EQ(connect_and_register(ws, "orch-web-1", token)["type"], "provisioning");
    http_request(controller->rest_port(), "PUT",
                 "/api/v1/internal/orchestrators/orch-web-1/independence",
                 R"({"is_independent":true})", bearer(admin));

    ASSERT_TRUE(receiver.wait_for(2)) << controller->log();
    const auto requests = receiver.requests();
    const json first = json::parse(requests[0].body), second = json::parse(requests[1].body);
    EXPECT_EQ(requests[0].target, "/events");
    EXPECT_EQ(first["kind"], "orchestrator_registered");
    EXPECT_EQ(first["orchestrator_id"], "orch-web-1");
    EXPECT_EQ(first["organization_id"], "acme");
    EXPECT_EQ(second["kind"], "independence_changed");
    EXPECT_EQ(second["new_value"], "true");
    EXPECT_EQ(second["actor"], "root");
    EXPECT_EQ(controller->stop(), 0);
    EXPECT_EQ(receiver.count(), 2u) << "the kinds filter held";
}

}  // namespace
}  // namespace moolai::test
