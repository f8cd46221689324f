// Orchestrators over the real WebSocket: credentials issued by REST,
// register -> provisioning, heartbeats acked and batched into storage, the
// sweeper, one connection per orchestrator, open mode. Runs on SQLite and,
// via scripts/with-postgres.sh, on PostgreSQL.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <nlohmann/json.hpp>
#include <memory>
#include <set>
#include <vector>
#include <thread>

#include "support/fleet_fixture.hpp"

namespace moolai::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Every test here starts its own controller (see ControllerTest::start).
class OrchestratorSession : public ControllerTest {};

TEST_F(OrchestratorSession, RegisterHeartbeatAndStatus) {
    start();
    const std::string token = issue(controller->rest_port(), admin, "acme", "orch-001");
    EXPECT_EQ(token.size(), 43u);
    WsTestClient ws;
    const json prov = connect_and_register(ws, "orch-001", token);
    EXPECT_EQ(prov["type"], "provisioning") << prov;
    EXPECT_EQ(prov["config"]["heartbeat_interval_sec"], 30);
    ws.send(R"({"type":"i_am_alive","orchestrator_id":"orch-001"})");
    EXPECT_EQ(next(ws), json({{"type", "heartbeat_ack"}, {"orchestrator_id", "orch-001"},
                              {"processed", true}}));
    ws.send(R"({"type":"request_status"})");
    const json st = next(ws);
    EXPECT_EQ(st["type"], "status");
    EXPECT_EQ(st["status"], "active");
    EXPECT_TRUE(st["last_seen"].is_string());
}

// The interval follows the fleet: a host aiming at 1 heartbeat a second
// tells 3 orchestrators to beat every 3 s (acks and provisioning say so),
// its TTL keeps 4 intervals; with one left it goes back to 1 s.
TEST_F(OrchestratorSession, TheHeartbeatIntervalFollowsTheFleet) {
    start({{"HEARTBEAT_INTERVAL_SEC", "1"},
           {"HEARTBEAT_TTL_SEC", "4"},
           {"MOOLAI_HEARTBEAT_TARGET_RATE", "1"}});
    std::vector<std::unique_ptr<WsTestClient>> fleet;
    for (const char* id : {"pace-1", "pace-2", "pace-3"}) {
        const std::string token = issue(port(), admin, "acme", id);
        fleet.push_back(std::make_unique<WsTestClient>());
        const json p = connect_and_register(*fleet.back(), id, token);
        ASSERT_EQ(p["type"], "provisioning") << p;
    }
    const auto interval_in_ack = [&](WsTestClient& ws) {
        ws.send(R"({"type":"i_am_alive"})");
        for (json f = next(ws, 2000); f.is_object(); f = next(ws, 2000))
            if (f["type"] == "heartbeat_ack") return f.value("heartbeat_interval_sec", 0);
        return 0;
    };
    ASSERT_TRUE(eventually([&] { return interval_in_ack(*fleet[0]) == 3; }, 10s))
        << controller->log();
    const auto ttl = [&] {
        return json::parse(http_request(port(), "GET",
                                        "/api/v1/controller/orchestrators/last-seen?ids=pace-1",
                                        "", bearer(admin))
                               .body)["data"]["heartbeat_ttl_sec"]
            .get<double>();
    };
    EXPECT_EQ(ttl(), 12) << "4 intervals of 3 s";
    const std::string late = issue(port(), admin, "acme", "pace-4");
    WsTestClient fourth;
    const json p = connect_and_register(fourth, "pace-4", late);
    EXPECT_GE(p["config"]["heartbeat_interval_sec"].get<int>(), 3) << p;
    EXPECT_GE(p["config"]["heartbeat_ttl_sec"].get<int>(), 12) << p;

    fourth.close();
    fleet[1]->close();
    fleet[2]->close();
    ASSERT_TRUE(eventually([&] { return interval_in_ack(*fleet[0]) == 1; }, 10s));
    // The TTL shrinks once the old interval has passed.
    EXPECT_TRUE(eventually([&] { return ttl() == 4; }, 10s)) << ttl();
}

TEST_F(OrchestratorSession, BadCredentialsCloseWith1008) {
    start();
    issue(controller->rest_port(), admin, "acme", "orch-002");
    WsTestClient ws;
    connect_and_register(ws, "orch-002", "not-the-token");
    EXPECT_EQ(ws.wait_closed(), std::optional<uint16_t>(1008));
    WsTestClient unknown;
    connect_and_register(unknown, "never-created", "whatever");
    EXPECT_EQ(unknown.wait_closed(), std::optional<uint16_t>(1008));
}

TEST_F(OrchestratorSession, TokenOnTheUpgradeRequestWorks) {
    start();
    const std::string token = issue(controller->rest_port(), admin, "acme", "orch-003");
    WsTestClient ws;
    ASSERT_TRUE(ws.connect(url(), "Bearer " + token));
    next(ws);
    ws.send(R"({"type":"register","orchestrator_id":"orch-003"})");
    EXPECT_EQ(next(ws)["type"], "provisioning");
}

TEST_F(OrchestratorSession, BadFramesGetErrorsAndTheConnectionStays) {
    start();
    const std::string token = issue(controller->rest_port(), admin, "acme", "orch-004");
    WsTestClient ws;
    ASSERT_TRUE(ws.connect(url()));
    next(ws);
    ws.send(R"({"type":"i_am_alive","orchestrator_id":"orch-004"})");
    EXPECT_EQ(next(ws)["code"], "not_registered");
    ws.send(json{{"type", "register"}, {"orchestrator_id", "orch-004"}, {"token", token}}.dump());
    EXPECT_EQ(next(ws)["type"], "provisioning");
    ws.send(R"({"type":"i_am_alive","orchestrator_id":"someone-else"})");
    EXPECT_EQ(next(ws)["code"], "foreign_orchestrator");
    ws.send(R"({"type":"register","orchestrator_id":42})");
    EXPECT_EQ(next(ws)["code"], "invalid_field");
    ws.send(R"({"type":"i_am_alive"})");
    EXPECT_EQ(next(ws)["processed"], true);
}

TEST_F(OrchestratorSession, ANewConnectionReplacesTheOld) {
    start();
    const std::string token = issue(controller->rest_port(), admin, "acme", "orch-005");
    WsTestClient first, second;
    EXPECT_EQ(connect_and_register(first, "orch-005", token)["type"], "provisioning");
    EXPECT_EQ(connect_and_register(second, "orch-005", token)["type"], "provisioning");
    EXPECT_TRUE(first.wait_closed().has_value());
    second.send(R"({"type":"i_am_alive"})");
    EXPECT_EQ(next(second)["processed"], true);
}

TEST_F(OrchestratorSession, SweeperFlipsInactiveAfterTheTtl) {
    start({{"HEARTBEAT_TTL_SEC", "1"}});
    const std::string token = issue(controller->rest_port(), admin, "acme", "orch-006");
    WsTestClient ws;
    connect_and_register(ws, "orch-006", token);
    ws.send(R"({"type":"i_am_alive"})");
    next(ws);
    const auto t0 = std::chrono::steady_clock::now();
    std::string status = "active";
    while (status == "active" && std::chrono::steady_clock::now() - t0 < 5s) {
        std::this_thread::sleep_for(100ms);
        ws.send(R"({"type":"request_status"})");
        status = next(ws)["status"].get<std::string>();
    }
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(status, "inactive");
    EXPECT_GE(took, 900ms);
    EXPECT_LT(took, 2500ms) << "TTL (1 s) + at most about a second";
}

TEST_F(OrchestratorSession, HeartbeatsReachStorageAndSurviveARestart) {
    start();
    const std::string token = issue(controller->rest_port(), admin, "acme", "orch-007");
    {
        WsTestClient ws;
        connect_and_register(ws, "orch-007", token);
        ws.send(R"({"type":"i_am_alive"})");
        EXPECT_EQ(next(ws)["processed"], true);
    }
    const std::string data_dir = controller->data_dir();
    std::map<std::string, std::string> env = {{"MOOLAI_DATA_DIR", data_dir}};
    EXPECT_EQ(controller->stop(), 0);  // stop flushes the last batch
    ControllerProcess again([&] {
        auto e = env;
        for (const auto& kv : kAdminEnv) e.emplace(kv);
        return e;
    }());
    ASSERT_TRUE(again.wait_ready()) << again.log();
    // PostgreSQL runs share one database across tests, so only "some" is known here.
    EXPECT_EQ(again.log().find("fleet loaded: 0 orchestrators"), std::string::npos) << again.log();
    EXPECT_NE(again.log().find("fleet loaded: "), std::string::npos) << again.log();
    WsTestClient ws;
    ASSERT_TRUE(ws.connect("ws://127.0.0.1:" + std::to_string(again.ws_port()) + "/ws"));
    next(ws);
    ws.send(json{{"type", "register"}, {"orchestrator_id", "orch-007"}, {"token", token}}.dump());
    EXPECT_EQ(next(ws)["type"], "provisioning");
    ws.send(R"({"type":"request_status"})");
    const json st = next(ws);
    EXPECT_EQ(st["status"], "active") << "within the restart grace, from storage";
    EXPECT_TRUE(st["last_seen"].is_string()) << st;
}

TEST_F(OrchestratorSession, IndependenceToggleIsPushedAtOnceAndChangesHeartbeats) {
    start();
    const uint16_t port = controller->rest_port();
    const std::string token = issue(port, admin, "acme", "orch-008");
    WsTestClient ws;
    connect_and_register(ws, "orch-008", token);
    const HttpHeaders auth = {{"Authorization", "Bearer " + admin}};
    const std::string path = "/api/v1/internal/orchestrators/orch-008/independence";

    HttpResult on = http_request(port, "PUT", path, R"({"is_independent":true})", auth);
    ASSERT_EQ(on.status, 200) << on.body;
    EXPECT_EQ(json::parse(on.body),
              json({{"success", true}, {"message", "Independence mode updated"},
                    {"orchestrator_id", "orch-008"}, {"is_independent", true}}));
    const json stop = next(ws);  // pushed at once, not at the next heartbeat
    EXPECT_EQ(stop["type"], "stop_monitoring") << stop;
    ws.send(R"({"type":"i_am_alive"})");
    EXPECT_EQ(next(ws)["processed"], false);
    ws.send(R"({"type":"request_status"})");
    EXPECT_EQ(next(ws)["status"], "independent");
    EXPECT_EQ(json::parse(http_request(port, "GET", path, "", auth).body)["is_independent"], true);

    HttpResult off = http_request(port, "PUT", path, R"({"is_independent":false})", auth);
    ASSERT_EQ(off.status, 200) << off.body;
    EXPECT_EQ(next(ws)["type"], "config_update");
    ws.send(R"({"type":"i_am_alive"})");
    EXPECT_EQ(next(ws)["processed"], true);

    const json audit = json::parse(
        http_request(port, "GET", "/api/v1/internal/audit?orchestrator_id=orch-008&action=independence_toggled", "", auth)
            .body)["data"];
    ASSERT_EQ(audit["total"], 2) << audit;
    EXPECT_EQ(audit["items"][0]["old_value"], "true") << "newest first";
    EXPECT_EQ(audit["items"][0]["new_value"], "false");
    EXPECT_EQ(audit["items"][1]["actor"], "root");
    EXPECT_EQ(audit["items"][1]["action"], "independence_toggled");

    EXPECT_EQ(http_request(port, "PUT", path, R"({"is_independent":"yes"})", auth).status, 400);
    EXPECT_EQ(http_request(port, "PUT", path, R"({"is_independent":true})").status, 401);
    EXPECT_EQ(http_request(port, "PUT", "/api/v1/internal/orchestrators/nope/independence",
                           R"({"is_independent":true})", auth)
                  .status,
              404);
}

// The independence decision belongs to the loaded plugin: swap in another.
TEST_F(OrchestratorSession, ACustomIndependencePolicyPluginDecides) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("moolai-policy-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const char* db_host = std::getenv("DATABASE_HOST");
    const bool postgres = db_host != nullptr && *db_host != '\0';
    json plugins = json::array();
    plugins.push_back({{"name", postgres ? "storage_postgres" : "storage_sqlite"}});
    plugins.push_back({{"name", "auth_local"}});
    plugins.push_back({{"name", "compat_plugin"}, {"path", CUSTOM_POLICY_PLUGIN},
                       {"config", {{"quiet_prefixes", "quiet-"}}}});
    plugins.push_back({{"name", "messaging_default"}});
    std::ofstream(dir / "moolai.json") << json{{"plugins", plugins}}.dump();
    auto env = kAdminEnv;
    controller = std::make_unique<ControllerProcess>(
        env, std::vector<std::string>{"--config", (dir / "moolai.json").string()});
    ASSERT_TRUE(controller->wait_ready()) << controller->log();
    admin = admin_token(controller->rest_port());
    const std::string quiet = issue(controller->rest_port(), admin, "acme", "quiet-1");
    const std::string loud = issue(controller->rest_port(), admin, "acme", "loud-1");
    WsTestClient a, b;
    connect_and_register(a, "quiet-1", quiet);
    connect_and_register(b, "loud-1", loud);
    a.send(R"({"type":"i_am_alive"})");
    b.send(R"({"type":"i_am_alive"})");
    EXPECT_EQ(next(a)["processed"], false) << "the custom policy ignores quiet-*";
    EXPECT_EQ(next(b)["processed"], true);
    std::filesystem::remove_all(dir);
}

TEST_F(OrchestratorSession, ListingsShowLiveStatusWithFiltersAndPages) {
    start();
    const uint16_t port = controller->rest_port();
    const HttpHeaders auth = {{"Authorization", "Bearer " + admin}};
    const std::string token = issue(port, admin, "listing-org", "ls-a");
    issue(port, admin, "listing-org", "ls-b");
    issue(port, admin, "listing-org", "ls-c");
    WsTestClient ws;
    connect_and_register(ws, "ls-a", token);
    ws.send(R"({"type":"i_am_alive"})");
    next(ws);
    ASSERT_EQ(http_request(port, "PUT", "/api/v1/internal/orchestrators/ls-b/independence",
                           R"({"is_independent":true})", auth)
                  .status,
              200);
    auto list = [&](const std::string& query) {
        HttpResult r = http_request(port, "GET",
                                    "/api/v1/controller/orchestrators?organization_id=listing-org" +
                                        query,
                                    "", auth);
        EXPECT_EQ(r.status, 200) << r.body;
        return json::parse(r.body)["data"];
    };
    const json all = list("");
    ASSERT_EQ(all["total"], 3);
    std::map<std::string, std::string> status;
    for (const json& item : all["items"]) status[item["orchestrator_id"]] = item["status"];
    EXPECT_EQ(status, (std::map<std::string, std::string>{
                          {"ls-a", "active"}, {"ls-b", "independent"}, {"ls-c", "inactive"}}));
    EXPECT_EQ(list("&status=independent")["items"][0]["orchestrator_id"], "ls-b");
    EXPECT_EQ(list("&search=LS-C")["total"], 1);
    const json page2 = list("&page=2&page_size=1");
    EXPECT_EQ(page2["items"].size(), 1u);
    EXPECT_EQ(page2["items"][0]["orchestrator_id"], "ls-b");
    EXPECT_EQ(page2["page"], 2);
    EXPECT_EQ(http_request(port, "GET", "/api/v1/controller/orchestrators?page=0", "", auth).status,
              400);
    EXPECT_EQ(http_request(port, "GET", "/api/v1/controller/orchestrators?status=busy", "", auth)
                  .status,
              400);
    EXPECT_EQ(http_request(port, "GET", "/api/v1/controller/orchestrators").status, 401);

    HttpResult orgs = http_request(port, "GET", "/api/v1/controller/organizations?page_size=1000",
                                   "", auth);
    ASSERT_EQ(orgs.status, 200) << orgs.body;
    bool found = false;
    const json org_page = json::parse(orgs.body);
    for (const json& o : org_page["data"]["items"])
        found = found || o["organization_id"] == "listing-org";
    EXPECT_TRUE(found) << orgs.body;
    HttpResult ov = http_request(port, "GET", "/api/v1/controller/overview", "", auth);
    ASSERT_EQ(ov.status, 200) << ov.body;
    const json d = json::parse(ov.body)["data"];
    EXPECT_GE(d["active_orchestrators"].get<int>(), 1);
    EXPECT_GE(d["independent_orchestrators"].get<int>(), 1);
    EXPECT_GE(d["total_organizations"].get<int>(), 1);
    EXPECT_GE(d["total_users"].get<int>(), 1);
    const json* mine = nullptr;
    for (const json& org : d["by_organization"])
        if (org["organization_id"] == "listing-org") mine = &org;
    ASSERT_NE(mine, nullptr) << d;
    EXPECT_EQ((*mine)["name"], "Org listing-org");
    EXPECT_GE((*mine)["active"].get<int>(), 1) << *mine;
    EXPECT_GE((*mine)["independent"].get<int>(), 1) << *mine;
    EXPECT_EQ((*mine)["total"].get<int>(), (*mine)["active"].get<int>() +
                                               (*mine)["inactive"].get<int>() +
                                               (*mine)["independent"].get<int>());
}

// Posts a recommendation for `id`; returns its message id.
std::string recommend(uint16_t port, const HttpHeaders& auth, const std::string& id,
                      const std::string& content) {
    HttpResult r = http_request(port, "POST", "/api/v1/internal/orchestrators/" + id + "/messages",
                                json{{"message_type", "recommendation"}, {"content", content}}.dump(),
                                auth);
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body)["message_id"].get<std::string>();
}

json message_state(uint16_t port, const HttpHeaders& auth, const std::string& orch,
                   const std::string& message_id) {
    HttpResult r = http_request(port, "GET", "/api/v1/internal/messages?orchestrator_id=" + orch, "",
                                auth);
    const json page = json::parse(r.body);
    for (const json& m : page["data"])
        if (m["id"] == message_id) return m;
    return json::object();
}

HttpResult set_status(uint16_t port, const HttpHeaders& auth, const std::string& message_id,
                      const std::string& status) {
    return http_request(port, "PUT", "/api/v1/internal/messages/" + message_id + "/status",
                        json{{"status", status}}.dump(), auth);
}

TEST_F(OrchestratorSession, AcceptedRecommendationsAreDeliveredAndAcknowledged) {
    start();
    const uint16_t port = controller->rest_port();
    const HttpHeaders auth = {{"Authorization", "Bearer " + admin}};
    const std::string token = issue(port, admin, "acme", "msg-1");
    WsTestClient ws;
    connect_and_register(ws, "msg-1", token);

    const std::string mid = recommend(port, auth, "msg-1", "enable the cache");
    json m = message_state(port, auth, "msg-1", mid);
    EXPECT_EQ(m["status"], "pending");
    EXPECT_FALSE(ws.receive(300ms).has_value()) << "never forwarded while pending";

    ASSERT_EQ(set_status(port, auth, mid, "accepted").status, 200);
    const json frame = next(ws);
    EXPECT_EQ(frame["type"], "recommendation") << frame;
    EXPECT_EQ(frame["message_id"], mid);
    EXPECT_EQ(frame["content"], "enable the cache");
    EXPECT_EQ(message_state(port, auth, "msg-1", mid)["delivery_state"], "sent");
    ws.send(json{{"type", "message_ack"}, {"message_id", mid}}.dump());
    json acked = json::object();
    for (int i = 0; i < 50 && acked.value("delivery_state", "") != "acknowledged"; ++i) {
        std::this_thread::sleep_for(20ms);
        acked = message_state(port, auth, "msg-1", mid);
    }
    EXPECT_EQ(acked["delivery_state"], "acknowledged") << acked;
    EXPECT_TRUE(acked["acknowledged_at"].is_string());

    EXPECT_EQ(set_status(port, auth, mid, "dismissed").status, 409) << "decided once";
    ws.send(R"({"type":"message_ack","message_id":"no-such-message"})");
    EXPECT_EQ(next(ws)["code"], "unknown_message");
    EXPECT_EQ(http_request(port, "POST", "/api/v1/internal/orchestrators/msg-1/messages",
                           R"({"message_type":"gossip","content":"x"})", auth)
                  .status,
              400);
}

TEST_F(OrchestratorSession, MessagesAreHeldWhileIndependentOrOfflineThenSent) {
    start();
    const uint16_t port = controller->rest_port();
    const HttpHeaders auth = {{"Authorization", "Bearer " + admin}};
    const std::string token = issue(port, admin, "acme", "msg-2");
    WsTestClient ws;
    connect_and_register(ws, "msg-2", token);
    const std::string path = "/api/v1/internal/orchestrators/msg-2/independence";
    http_request(port, "PUT", path, R"({"is_independent":true})", auth);
    EXPECT_EQ(next(ws)["type"], "stop_monitoring");

    const std::string held = recommend(port, auth, "msg-2", "held while independent");
    ASSERT_EQ(set_status(port, auth, held, "accepted").status, 200);
    EXPECT_FALSE(ws.receive(300ms).has_value()) << "not forwarded while independent";
    EXPECT_EQ(message_state(port, auth, "msg-2", held)["delivery_state"], "queued");
    const std::string dismissed = recommend(port, auth, "msg-2", "never sent");
    ASSERT_EQ(set_status(port, auth, dismissed, "dismissed").status, 200);

    http_request(port, "PUT", path, R"({"is_independent":false})", auth);
    EXPECT_EQ(next(ws)["type"], "config_update");
    const json released = next(ws);
    EXPECT_EQ(released["message_id"], held) << released;
    EXPECT_FALSE(ws.receive(300ms).has_value()) << "the dismissed one never goes";

    // Offline: accepted now, delivered when it registers again; a sent but
    // unacknowledged one is sent again too.
    ws.close();
    ws.wait_closed();
    const std::string later = recommend(port, auth, "msg-2", "sent after reconnect");
    ASSERT_EQ(set_status(port, auth, later, "accepted").status, 200);
    WsTestClient again;
    EXPECT_EQ(connect_and_register(again, "msg-2", token)["type"], "provisioning");
    std::set<std::string> got;
    for (int i = 0; i < 2; ++i) got.insert(next(again).value("message_id", ""));
    EXPECT_EQ(got, (std::set<std::string>{held, later}));
}

TEST_F(OrchestratorSession, UsageReportsFeedCosts) {
    start();
    const uint16_t port = controller->rest_port();
    const HttpHeaders auth = {{"Authorization", "Bearer " + admin}};
    const std::string token = issue(port, admin, "costs-org", "cost-1");
    WsTestClient ws;
    connect_and_register(ws, "cost-1", token);
    const std::string today = [] {
        const std::time_t t = std::time(nullptr);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char b[32];
        std::strftime(b, sizeof b, "%Y-%m-%dT%H:00:00Z", &tm);
        return std::string(b);
    }();
    for (const char* model : {"gpt-4o", "gpt-4o", "claude"})
        ws.send(json{{"type", "usage_report"}, {"orchestrator_id", "cost-1"}, {"period", today},
                     {"model", model}, {"requests", 2}, {"input_tokens", 200},
                     {"output_tokens", 80}, {"cost_usd", 0.25}}
                    .dump());
    ws.send(json{{"type", "usage_report"}, {"period", today}, {"model", "x"},
                 {"requests", -1}}.dump());
    EXPECT_EQ(next(ws)["code"], "invalid_field");
    ws.send(R"({"type":"request_status"})");  // still usable, and orders us after the reports
    EXPECT_EQ(next(ws)["type"], "status");

    // Reports are stored behind, through the storage queue.
    HttpResult r;
    json d;
    ASSERT_TRUE(eventually([&] {
        r = http_request(port, "GET", "/api/v1/controller/costs?organization_id=costs-org", "",
                         auth);
        d = json::parse(r.body, nullptr, false).value("data", json::object());
        return r.status == 200 && d.contains("total") && d["total"].value("requests", 0) == 6;
    })) << r.status
        << " " << r.body;
    EXPECT_EQ(d["total"]["requests"], 6);
    EXPECT_EQ(d["total"]["input_tokens"], 600);
    EXPECT_NEAR(d["total"]["cost_usd"].get<double>(), 0.75, 1e-9);
    std::map<std::string, int> by_model;
    for (const json& g : d["by_model"]) by_model[g["key"]] = g["requests"];
    EXPECT_EQ(by_model, (std::map<std::string, int>{{"claude", 2}, {"gpt-4o", 4}}));
    EXPECT_EQ(d["by_day"].size(), 1u);
    EXPECT_EQ(d["by_orchestrator"][0]["key"], "cost-1");
    HttpResult past = http_request(
        port, "GET",
        "/api/v1/controller/costs?organization_id=costs-org&from=2020-01-01&to=2020-02-01", "",
        auth);
    EXPECT_EQ(json::parse(past.body)["data"]["total"]["requests"], 0) << past.body;
    EXPECT_EQ(http_request(port, "GET", "/api/v1/controller/costs?from=yesterday", "", auth).status,
              400);
    EXPECT_EQ(http_request(port, "GET", "/api/v1/controller/costs?group_by=planet", "", auth).status,
              400);
}

TEST_F(OrchestratorSession, TheOlderGenerationIsUnderstood) {
    start();
    const uint16_t port = controller->rest_port();
    const HttpHeaders auth = {{"Authorization", "Bearer " + admin}};
    const std::string token = issue(port, admin, "acme", "old-1");
    WsTestClient ws;
    ASSERT_TRUE(ws.connect(url(), "Bearer " + token));
    next(ws);
    ws.send(R"({"type":"handshake","service":"orchestrator",
                "data":{"orchestrator_id":"old-1","metadata":{"gen":"old"}}})");
    EXPECT_EQ(next(ws)["type"], "provisioning");
    ws.send(R"({"type":"keepalive","orchestrator_id":"old-1"})");
    EXPECT_EQ(next(ws)["processed"], true);
    ws.send(R"({"type":"o_config_snapshot","orchestrator_id":"old-1","data":{"snapshot":7}})");
    ws.send(R"({"type":"update_metadata","metadata":"not an object"})");
    EXPECT_EQ(next(ws)["code"], "invalid_field");
    HttpResult r;
    json page;
    // Metadata is stored behind, through the storage queue.
    EXPECT_TRUE(eventually([&] {
        r = http_request(port, "GET", "/api/v1/controller/orchestrators?search=old-1", "", auth);
        page = json::parse(r.body, nullptr, false);
        return page.is_object() && page["data"]["total"] == 1 &&
               page["data"]["items"][0]["metadata"] == json({{"snapshot", 7}});
    })) << r.body;
}

// Failed logins: tests/controller/security_test.cpp.

TEST_F(OrchestratorSession, OrgAdminsSeeOnlyTheirOrganization) {
    start();
    const uint16_t port = controller->rest_port();
    const HttpHeaders root = {{"Authorization", "Bearer " + admin}};
    issue(port, admin, "tenant-a", "ta-1");
    issue(port, admin, "tenant-b", "tb-1");
    HttpResult made = http_request(port, "POST", "/api/v1/internal/users",
                                   json{{"username", "alice"}, {"password", "alice-Password"},
                                        {"role", "org_admin"}, {"organization_id", "tenant-a"}}
                                       .dump(),
                                   root);
    ASSERT_EQ(made.status, 201) << made.body;
    EXPECT_FALSE(json::parse(made.body)["data"].contains("password_hash"));
    EXPECT_EQ(http_request(port, "POST", "/api/v1/internal/users",
                           json{{"username", "bob"}, {"password", "bob-Password"},
                                {"role", "org_admin"}, {"organization_id", "no-such-org"}}
                               .dump(),
                           root)
                  .status,
              400);
    HttpResult login = http_request(port, "POST", "/api/v1/internal/auth/login",
                                    R"({"username":"alice","password":"alice-Password"})");
    ASSERT_EQ(login.status, 200) << login.body;
    EXPECT_EQ(json::parse(login.body)["user"]["role"], "org_admin");
    const HttpHeaders alice = {
        {"Authorization", "Bearer " + json::parse(login.body)["user"]["token"].get<std::string>()}};

    const json mine = json::parse(
        http_request(port, "GET", "/api/v1/controller/orchestrators", "", alice).body)["data"];
    ASSERT_EQ(mine["total"], 1) << mine;
    EXPECT_EQ(mine["items"][0]["orchestrator_id"], "ta-1");
    EXPECT_EQ(http_request(port, "GET", "/api/v1/controller/orchestrators?organization_id=tenant-b",
                           "", alice)
                  .status,
              403);
    EXPECT_EQ(http_request(port, "PUT", "/api/v1/internal/orchestrators/tb-1/independence",
                           R"({"is_independent":true})", alice)
                  .status,
              404);
    EXPECT_EQ(http_request(port, "PUT", "/api/v1/internal/orchestrators/ta-1/independence",
                           R"({"is_independent":true})", alice)
                  .status,
              200);
    EXPECT_EQ(http_request(port, "POST", "/api/v1/internal/orchestrators/tb-1/messages",
                           R"({"message_type":"monitoring","content":"x"})", alice)
                  .status,
              404);
    EXPECT_EQ(http_request(port, "POST", "/api/v1/internal/organizations",
                           R"({"organization_id":"mine","name":"Mine"})", alice)
                  .status,
              403);
    EXPECT_EQ(http_request(port, "POST", "/api/v1/internal/orchestrators",
                           R"({"orchestrator_id":"tb-2","organization_id":"tenant-b"})", alice)
                  .status,
              403);
    EXPECT_EQ(http_request(port, "POST", "/api/v1/internal/users",
                           R"({"username":"eve","password":"eve-Password","role":"superadmin"})",
                           alice)
                  .status,
              403);
    const json orgs = json::parse(
        http_request(port, "GET", "/api/v1/controller/organizations", "", alice).body)["data"];
    ASSERT_EQ(orgs["total"], 1);
    EXPECT_EQ(orgs["items"][0]["organization_id"], "tenant-a");
    const json users =
        json::parse(http_request(port, "GET", "/api/v1/internal/users", "", alice).body)["data"];
    for (const json& u : users["items"]) EXPECT_EQ(u["organization_id"], "tenant-a") << u;
    EXPECT_EQ(http_request(port, "DELETE", "/api/v1/internal/users/alice", "", root).status, 200);
    EXPECT_EQ(http_request(port, "GET", "/api/v1/controller/orchestrators", "", alice).status, 401)
        << "deleting a user ends their sessions";
}

TEST_F(OrchestratorSession, TheSeedsOtherRoutes) {
    start();
    const uint16_t port = controller->rest_port();
    const HttpHeaders auth = {{"Authorization", "Bearer " + admin}};
    const std::string token = issue(port, admin, "seed-org", "seed-1");
    issue(port, admin, "seed-org", "seed-2");
    WsTestClient ws;
    connect_and_register(ws, "seed-1", token);

    const json live = json::parse(
        http_request(port, "GET", "/api/v1/controller/orchestrators/live", "", auth).body);
    bool seen1 = false, seen2 = false;
    for (const json& o : live["data"]["items"]) {
        seen1 = seen1 || o["orchestrator_id"] == "seed-1";
        seen2 = seen2 || o["orchestrator_id"] == "seed-2";
    }
    EXPECT_TRUE(seen1) << live;
    EXPECT_FALSE(seen2) << "never connected, so not live";

    EXPECT_EQ(json::parse(http_request(port, "GET", "/api/v1/controller/organizations/seed-org", "",
                                       auth)
                              .body)["data"]["name"],
              "Org seed-org");
    EXPECT_EQ(http_request(port, "GET", "/api/v1/controller/organizations/nope", "", auth).status,
              404);

    HttpResult sent = http_request(port, "POST", "/api/v1/internal/orchestrators/seed-1/send",
                                   R"({"type":"ping_me","x":1})", auth);
    EXPECT_EQ(sent.status, 200) << sent.body;
    const json f = next(ws);
    EXPECT_EQ(f["type"], "ping_me");
    EXPECT_EQ(f["orchestrator_id"], "seed-1");
    EXPECT_EQ(http_request(port, "POST", "/api/v1/internal/orchestrators/seed-2/send",
                           R"({"type":"x"})", auth)
                  .status,
              409);

    HttpResult logs = http_request(port, "GET", "/api/v1/internal/logs?limit=50", "", auth);
    ASSERT_EQ(logs.status, 200);
    EXPECT_NE(logs.body.find("controller ready"), std::string::npos);

    EXPECT_EQ(http_request(port, "DELETE", "/api/v1/internal/orchestrators/seed-1/deregister", "",
                           auth)
                  .status,
              200);
    EXPECT_TRUE(ws.wait_closed().has_value());
    EXPECT_EQ(http_request(port, "GET", "/api/v1/internal/orchestrators/seed-1/independence", "",
                           auth)
                  .status,
              404);
    WsTestClient again;
    connect_and_register(again, "seed-1", token);
    EXPECT_EQ(again.wait_closed(), std::optional<uint16_t>(1008)) << "its credential is gone too";
}

TEST_F(OrchestratorSession, OpenModeCreatesUnknownOrchestrators) {
    start({{"MOOLAI_ORCHESTRATOR_AUTH", "open"}});
    EXPECT_NE(controller->log().find("Demo mode only"), std::string::npos);
    WsTestClient ws;
    EXPECT_EQ(connect_and_register(ws, "walk-in", "")["type"], "provisioning");
    ws.send(R"({"type":"i_am_alive"})");
    EXPECT_EQ(next(ws)["processed"], true);
}

}  // namespace
}  // namespace moolai::test
