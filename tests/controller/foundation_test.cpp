// The controller binary end to end over real sockets: start on the default
// bundle (SQLite, or PostgreSQL when DATABASE_HOST is set), health, login,
// the plugin listing, the WebSocket greeting, --check-config, the admin
// command, and a clean stop on SIGTERM.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <unistd.h>

#include "net/http_test_client.hpp"
#include "net/ws_test_client.hpp"
#include "support/controller_process.hpp"

namespace moolai::test {
namespace {

using nlohmann::json;

const std::string kAdmin = "root-admin";
const std::string kPassword = "s3cret-Pa55word-for-tests";

std::map<std::string, std::string> admin_env() {
    return {{"MOOLAI_SUPERADMIN_USERNAME", kAdmin}, {"MOOLAI_SUPERADMIN_PASSWORD", kPassword}};
}

std::string login(uint16_t port, const std::string& user, const std::string& password,
                  int* status = nullptr) {
    HttpResult r = http_request(port, "POST", "/api/v1/internal/auth/login",
                                json{{"username", user}, {"password", password}}.dump(),
                                {{"Content-Type", "application/json"}});
    if (status != nullptr) *status = r.status;
    const json j = json::parse(r.body, nullptr, false);
    if (r.status != 200 || j.is_discarded()) return "";
    return j["user"]["token"].get<std::string>();
}

HttpHeaders bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

class Foundation : public ::testing::Test {
protected:
    void SetUp() override {
        controller = std::make_unique<ControllerProcess>(admin_env());
        ASSERT_TRUE(controller->wait_ready()) << controller->log();
        port = controller->rest_port();
    }
    std::unique_ptr<ControllerProcess> controller;
    uint16_t port = 0;
};

TEST_F(Foundation, HealthKeepsTheSeedShape) {
    HttpResult r = http_request(port, "GET", "/api/v1/controller/health");
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = json::parse(r.body);
    EXPECT_EQ(j["status"], "up");
    EXPECT_EQ(j["database"], "up");
    EXPECT_TRUE(std::regex_match(j["timestamp"].get<std::string>(),
                                 std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
        << j["timestamp"];
    EXPECT_EQ(j.size(), 3u) << "health is unwrapped: exactly status, database, timestamp";
}

TEST_F(Foundation, PluginListingNeedsALoggedInAdmin) {
    HttpResult anon = http_request(port, "GET", "/api/v1/internal/plugins");
    EXPECT_EQ(anon.status, 401);
    EXPECT_FALSE(json::parse(anon.body, nullptr, false).is_discarded()) << anon.body;
    HttpResult forged = http_request(port, "GET", "/api/v1/internal/plugins", "",
                                     bearer("not-a-real-token"));
    EXPECT_EQ(forged.status, 401);

    const std::string token = login(port, kAdmin, kPassword);
    ASSERT_FALSE(token.empty());
    HttpResult r = http_request(port, "GET", "/api/v1/internal/plugins", "", bearer(token));
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = json::parse(r.body);
    EXPECT_EQ(j["success"], true);
    std::map<std::string, json> by_name;
    for (const json& p : j["data"]["items"]) by_name[p["name"]] = p;
    const char* db_host = std::getenv("DATABASE_HOST");
    const bool postgres = db_host != nullptr && *db_host != '\0';
    const std::string storage = postgres ? "storage_postgres" : "storage_sqlite";
    for (const std::string& n : {storage, std::string("auth_local"),
                                std::string("independence_default"),
                                std::string("messaging_default")}) {
        ASSERT_EQ(by_name.count(n), 1u) << n << " missing from " << r.body;
        EXPECT_EQ(by_name[n]["abi_version"], "1.5");
        EXPECT_FALSE(by_name[n]["version"].get<std::string>().empty());
    }
    EXPECT_EQ(by_name[storage]["capabilities"], json::array({"storage"}));
    EXPECT_EQ(by_name["auth_local"]["capabilities"], json::array({"auth"}));
    EXPECT_EQ(j["host_abi_version"], "1.5");
}

TEST_F(Foundation, WrongPasswordIsRefusedAndLogoutRevokes) {
    int status = 0;
    EXPECT_TRUE(login(port, kAdmin, "wrong-password", &status).empty());
    EXPECT_EQ(status, 401);
    EXPECT_TRUE(login(port, "nobody", kPassword, &status).empty());
    EXPECT_EQ(status, 401);
    HttpResult bad = http_request(port, "POST", "/api/v1/internal/auth/login", "{not json");
    EXPECT_EQ(bad.status, 400);

    const std::string token = login(port, kAdmin, kPassword);
    ASSERT_FALSE(token.empty());
    EXPECT_EQ(http_request(port, "GET", "/api/v1/internal/plugins", "", bearer(token)).status, 200);
    EXPECT_EQ(http_request(port, "POST", "/api/v1/internal/auth/logout", "", bearer(token)).status,
              200);
    EXPECT_EQ(http_request(port, "GET", "/api/v1/internal/plugins", "", bearer(token)).status, 401);
}

TEST_F(Foundation, UnknownRoutesAnswerJson) {
    HttpResult r = http_request(port, "GET", "/api/v1/nothing-here");
    EXPECT_EQ(r.status, 404);
    EXPECT_FALSE(json::parse(r.body, nullptr, false).is_discarded()) << r.body;
}

TEST_F(Foundation, WebSocketGreetsAndAnswersBadFramesWithErrors) {
    WsTestClient ws;
    ASSERT_TRUE(ws.connect("ws://127.0.0.1:" + std::to_string(controller->ws_port()) + "/ws"));
    auto hello = ws.receive();
    ASSERT_TRUE(hello.has_value());
    EXPECT_EQ(json::parse(*hello)["type"], "handshake_ack");
    ASSERT_TRUE(ws.send("{this is not json"));
    auto err = ws.receive();
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(json::parse(*err)["type"], "error");
    ASSERT_TRUE(ws.send(R"({"no_type":1})"));  // still usable after a bad frame
    auto err2 = ws.receive();
    ASSERT_TRUE(err2.has_value());
    EXPECT_EQ(json::parse(*err2)["code"], "missing_type");
}

TEST_F(Foundation, StopsCleanlyOnSigtermWithConnectionsOpen) {
    WsTestClient ws;
    ASSERT_TRUE(ws.connect("ws://127.0.0.1:" + std::to_string(controller->ws_port()) + "/ws"));
    const int keepalive = tcp_connect(port);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(controller->stop(std::chrono::seconds(5)), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
    EXPECT_TRUE(ws.wait_closed().has_value());
    if (keepalive >= 0) ::close(keepalive);
    EXPECT_NE(controller->log().find("controller stopped"), std::string::npos);
}

TEST_F(Foundation, StopsCleanlyOnSigint) {
    EXPECT_EQ(controller->stop(std::chrono::seconds(5), SIGINT), 0);
    EXPECT_NE(controller->log().find("received SIGINT, stopping"), std::string::npos)
        << controller->log();
    EXPECT_NE(controller->log().find("controller stopped"), std::string::npos);
}

TEST_F(Foundation, SecretsNeverReachTheLog) {
    login(port, kAdmin, kPassword);
    login(port, kAdmin, "another-Secret-typed-wrong");
    controller->stop();
    const std::string log = controller->log();
    EXPECT_EQ(log.find(kPassword), std::string::npos);
    EXPECT_EQ(log.find("another-Secret-typed-wrong"), std::string::npos);
}

TEST(FoundationCli, CheckConfigListsThePluginsAndExits) {
    RunResult r = run_controller({"--check-config"}, {});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("configuration OK (4 plugins)"), std::string::npos) << r.output;
}

TEST(FoundationCli, CheckConfigRefusesABadPluginConfigInOneLine) {
    const auto dir = std::filesystem::temp_directory_path() / "moolai-cfg-test";
    std::filesystem::create_directories(dir);
    const auto path = (dir / "bad.json").string();
    std::ofstream(path) << R"({"plugins":[{"name":"independence_default",
        "config":{"locked_organizations":"not-a-list"}}]})";
    RunResult r = run_controller({"--check-config", "--config", path}, {});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("refusing plugin "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("at /locked_organizations: expected array, got string"),
              std::string::npos)
        << r.output;
    std::filesystem::remove_all(dir);
}

// Writes `plugins_json` as the "plugins" of a config file and runs --check-config.
RunResult check_plugins(const std::string& plugins_json) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("moolai-roles-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = (dir / "moolai.json").string();
    std::ofstream(path) << "{\"plugins\":" << plugins_json << "}";
    RunResult r = run_controller({"--check-config", "--config", path}, {});
    std::filesystem::remove_all(dir);
    return r;
}

TEST(FoundationCli, ExactlyOneStorageAndOneAuth) {
    RunResult two = check_plugins(R"([{"name":"storage_sqlite"},{"name":"storage_postgres"},
        {"name":"auth_local"},{"name":"independence_default"},{"name":"messaging_default"}])");
    EXPECT_EQ(two.exit_code, 1) << two.output;
    EXPECT_NE(two.output.find("it provides storage, which plugin storage_sqlite already provides; "
                              "fix: load only one storage plugin"),
              std::string::npos)
        << two.output;
    RunResult none = check_plugins(R"([{"name":"storage_sqlite"},
        {"name":"independence_default"},{"name":"messaging_default"}])");
    EXPECT_EQ(none.exit_code, 1) << none.output;
    EXPECT_NE(none.output.find("no loaded plugin provides auth"), std::string::npos)
        << none.output;
}

TEST(FoundationCli, ConfigFileErrorsAreOneClearLine) {
    RunResult r = run_controller({"--check-config", "--config", "/nonexistent/moolai.json"}, {});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.output.find("cannot read config file /nonexistent/moolai.json"), std::string::npos)
        << r.output;
}

TEST(FoundationCli, AdminCommandCreatesASuperadminWhoCanLogIn) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("moolai-admin-" + std::to_string(::getpid()));
    std::map<std::string, std::string> env = {{"MOOLAI_DATA_DIR", dir.string()}};
    RunResult made = run_controller({"admin", "create-superadmin", "--username", "ops"}, env,
                                    "ops-Password-1\n");
    ASSERT_EQ(made.exit_code, 0) << made.output;
    RunResult again = run_controller({"admin", "create-superadmin", "--username", "ops"}, env,
                                     "whatever-else\n");
    EXPECT_EQ(again.exit_code, 1) << again.output;

    ControllerProcess c(env);
    ASSERT_TRUE(c.wait_ready()) << c.log();
    EXPECT_FALSE(login(c.rest_port(), "ops", "ops-Password-1").empty());
    c.stop();
    std::filesystem::remove_all(dir);
}

TEST(FoundationCli, DevBearerTokenOnlyWhenSet) {
    ControllerProcess without;
    ASSERT_TRUE(without.wait_ready()) << without.log();
    EXPECT_EQ(http_request(without.rest_port(), "GET", "/api/v1/internal/plugins", "",
                           bearer("fake-dev-token"))
                  .status,
              401);
    ControllerProcess with(std::map<std::string, std::string>{
        {"DEV_BEARER_TOKEN", "a-long-dev-token-for-tests-0123456789"}});
    ASSERT_TRUE(with.wait_ready()) << with.log();
    EXPECT_EQ(http_request(with.rest_port(), "GET", "/api/v1/internal/plugins", "",
                           bearer("a-long-dev-token-for-tests-0123456789"))
                  .status,
              200);
}

}  // namespace
}  // namespace moolai::test
