// What orchestration systems and operators ask of the process: --version,
// the probes (/livez, /readyz) during start-up, when storage goes away and
// comes back, and a stop signal that ends a start-up still waiting for
// storage. The PostgreSQL cases run under scripts/with-postgres.sh, which
// hands over MOOLAI_TEST_PG_CTL to stop and start the server.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "net/http_test_client.hpp"
#include "support/controller_process.hpp"

namespace moolai::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Polls `probe` until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& probe, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (probe()) return true;
        std::this_thread::sleep_for(50ms);
    }
    return probe();
}

json body_of(const HttpResult& r) { return json::parse(r.body, nullptr, false); }

// The REST port the controller announced before it was ready, 0 until then.
uint16_t early_rest_port(const ControllerProcess& c) {
    static const std::regex line(R"(REST listening on [^ ]+:(\d+) \(probes only)");
    std::smatch m;
    const std::string log = c.log();
    return std::regex_search(log, m, line) ? static_cast<uint16_t>(std::stoi(m[1])) : 0;
}

// A TCP port on loopback where nothing listens (bound, then released).
uint16_t closed_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

TEST(Probes, VersionNamesVersionAbiBuildTypeAndCommit) {
    const RunResult r = run_controller({"--version"}, {});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(^moolai-controller \d+\.\d+\.\d+\n)")))
        << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(\nplugin ABI \d+\.\d+\n)"))) << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(\nbuild type \w+\n)"))) << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(\ncommit ([0-9a-f]{7,}(-dirty)?|unknown)\n)")))
        << r.output;
}

TEST(Probes, LivezAndReadyzAnswerWithoutCredentials) {
    ControllerProcess c;
    ASSERT_TRUE(c.wait_ready()) << c.log();
    HttpResult live = http_request(c.rest_port(), "GET", "/livez");
    ASSERT_EQ(live.status, 200) << live.body;
    EXPECT_EQ(body_of(live)["status"], "up");
    EXPECT_EQ(live.header("cache-control"), "no-store");
    HttpResult ready = http_request(c.rest_port(), "GET", "/readyz");
    ASSERT_EQ(ready.status, 200) << ready.body;
    EXPECT_EQ(body_of(ready)["status"], "ready");
    EXPECT_EQ(body_of(ready)["checks"]["storage"], "up");
}

// No PostgreSQL needed: a port where nothing listens is storage that is down.
TEST(Probes, StartUpWaitsForStorageWithProbesUpAndTheApiSaying503) {
    ControllerProcess c({{"DATABASE_HOST", "127.0.0.1"},
                         {"DATABASE_PORT", std::to_string(closed_port())},
                         {"DATABASE_USER", "nobody"},
                         {"DATABASE_PASSWORD", "x"},
                         {"DATABASE_NAME", "none"}});
    ASSERT_TRUE(eventually([&] { return early_rest_port(c) != 0; }, 20s)) << c.log();
    const uint16_t port = early_rest_port(c);
    EXPECT_EQ(http_request(port, "GET", "/livez").status, 200);
    HttpResult ready;
    ASSERT_TRUE(eventually(
        [&] {
            ready = http_request(port, "GET", "/readyz", "", {}, 15000);
            return ready.status == 503 &&
                   body_of(ready)["checks"]["startup"] == "waiting for storage";
        },
        20s))
        << ready.status << " " << ready.body << "\n" << c.log();
    EXPECT_EQ(body_of(ready)["status"], "starting");
    // The API is not there yet: 503 with a JSON body, not 404 or the dashboard.
    HttpResult api = http_request(port, "POST", "/api/v1/internal/auth/login", "{}");
    EXPECT_EQ(api.status, 503) << api.body;
    EXPECT_EQ(body_of(api)["error"]["code"], "starting") << api.body;
    EXPECT_EQ(http_request(port, "GET", "/").status, 503);

    // A stop signal ends the wait at once, cleanly.
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(c.stop(5s), 0) << c.log();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
    EXPECT_NE(c.log().find("stopped during start-up"), std::string::npos) << c.log();
}

TEST(Probes, StartUpGivesUpAfterTheStorageWaitWithOneClearLine) {
    const RunResult r = run_controller({}, {{"DATABASE_HOST", "127.0.0.1"},
                                            {"DATABASE_PORT", std::to_string(closed_port())},
                                            {"DATABASE_USER", "nobody"},
                                            {"DATABASE_PASSWORD", "x"},
                                            {"DATABASE_NAME", "none"},
                                            {"CONTROLLER_PORT", "0"},
                                            {"CONTROLLER_WS_PORT", "0"},
                                            {"CONTROLLER_HOST", "127.0.0.1"},
                                            {"MOOLAI_STORAGE_WAIT_SEC", "0"}});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("storage migration failed: unavailable"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("MOOLAI_STORAGE_WAIT_SEC"), std::string::npos) << r.output;
}

class PostgresProbes : public ::testing::Test {
protected:
    void SetUp() override {
        if (pg_ctl().empty() || std::getenv("DATABASE_HOST") == nullptr)
            GTEST_SKIP() << "needs scripts/with-postgres.sh (MOOLAI_TEST_PG_CTL)";
    }
    void TearDown() override {
        if (!pg_ctl().empty()) run_pg_ctl("start");  // whatever a test left stopped
    }
};

TEST_F(PostgresProbes, ReadyzIs503WhilePostgresIsStoppedAndRecovers) {
    ControllerProcess c;
    ASSERT_TRUE(c.wait_ready()) << c.log();
    const uint16_t port = c.rest_port();
    ASSERT_EQ(http_request(port, "GET", "/readyz").status, 200);

    ASSERT_EQ(run_pg_ctl("stop"), 0);
    HttpResult ready;
    ASSERT_TRUE(eventually(
        [&] {
            ready = http_request(port, "GET", "/readyz", "", {}, 15000);
            return ready.status == 503;
        },
        20s))
        << ready.status << " " << ready.body;
    EXPECT_EQ(body_of(ready)["status"], "unavailable") << ready.body;
    EXPECT_EQ(body_of(ready)["checks"]["storage"], "down") << ready.body;
    EXPECT_TRUE(body_of(ready)["detail"].is_string()) << ready.body;
    EXPECT_EQ(http_request(port, "GET", "/livez").status, 200);  // alive, only not ready
    HttpResult health = http_request(port, "GET", "/api/v1/controller/health", "", {}, 15000);
    EXPECT_EQ(health.status, 200);  // the seed's shape: always 200, says the database is down
    EXPECT_EQ(body_of(health)["database"], "down") << health.body;

    ASSERT_EQ(run_pg_ctl("start"), 0);
    EXPECT_TRUE(eventually(
        [&] {
            ready = http_request(port, "GET", "/readyz", "", {}, 15000);
            return ready.status == 200;
        },
        20s))
        << ready.status << " " << ready.body;
}

TEST_F(PostgresProbes, StartUpWaitsForPostgresAndBecomesReadyWhenItStarts) {
    ASSERT_EQ(run_pg_ctl("stop"), 0);
    ControllerProcess c;
    ASSERT_TRUE(eventually([&] { return early_rest_port(c) != 0; }, 20s)) << c.log();
    const uint16_t port = early_rest_port(c);
    HttpResult ready;
    ASSERT_TRUE(eventually(
        [&] {
            ready = http_request(port, "GET", "/readyz", "", {}, 15000);
            return ready.status == 503 && body_of(ready)["status"] == "starting";
        },
        20s))
        << ready.status << " " << ready.body;
    EXPECT_EQ(body_of(ready)["checks"]["startup"], "waiting for storage") << ready.body;

    ASSERT_EQ(run_pg_ctl("start"), 0);
    ASSERT_TRUE(c.wait_ready(30s)) << c.log();
    EXPECT_EQ(c.rest_port(), port);
    EXPECT_EQ(http_request(port, "GET", "/readyz").status, 200);
    EXPECT_EQ(http_request(port, "GET", "/api/v1/controller/health").status, 200);
}

// Degraded mode: with PostgreSQL stopped, logged-in operators stay logged
// in and read what is in memory; writes, logins and unknown tokens get 503
// with Retry-After and a body naming no database host or port; a logout
// made meanwhile holds, and reaches storage once it is back.
TEST_F(PostgresProbes, OutageKeepsSessionsAndAnswers503WithoutConnectionDetails) {
    const std::string dev = "a-long-dev-token-for-degraded-mode";
    auto c = std::make_unique<ControllerProcess>(
        std::map<std::string, std::string>{{"DEV_BEARER_TOKEN", dev}});
    ASSERT_TRUE(c->wait_ready()) << c->log();
    const uint16_t port = c->rest_port();
    const HttpHeaders as_dev = {{"Authorization", "Bearer " + dev}};
    const std::string user = "degraded-" + std::to_string(::getpid());
    const std::string password = "degraded-Password-1";
    const json credentials = {{"username", user}, {"password", password}};
    ASSERT_EQ(
        http_request(
            port, "POST", "/api/v1/internal/users",
            json{{"username", user}, {"password", password}, {"role", "superadmin"}}.dump(), as_dev)
            .status,
        201);
    auto login = [&] {
        return http_request(port, "POST", "/api/v1/internal/auth/login", credentials.dump(), {},
                            15000);
    };
    const HttpResult first = login();
    const HttpResult second = login();
    ASSERT_EQ(first.status, 200) << first.body;
    ASSERT_EQ(second.status, 200) << second.body;
    const HttpHeaders as_user = {
        {"Authorization", "Bearer " + body_of(first)["user"]["token"].get<std::string>()}};
    const HttpHeaders as_leaver = {
        {"Authorization", "Bearer " + body_of(second)["user"]["token"].get<std::string>()}};
    ASSERT_EQ(http_request(port, "GET", "/api/v1/internal/auth/me", "", as_user).status, 200);
    ASSERT_EQ(http_request(port, "GET", "/api/v1/internal/auth/me", "", as_leaver).status, 200);

    const std::string db_port = std::getenv("DATABASE_PORT") ? std::getenv("DATABASE_PORT") : "";
    const std::string db_host = std::getenv("DATABASE_HOST");
    auto names_no_connection = [&](const HttpResult& r) {
        return r.body.find(db_port) == std::string::npos &&
               r.body.find(db_host) == std::string::npos &&
               r.body.find("port") == std::string::npos;
    };
    auto is_storage_503 = [&](const HttpResult& r) {
        return r.status == 503 && !r.header("retry-after").empty() &&
               body_of(r)["error"]["code"] == "storage_unavailable" && names_no_connection(r);
    };
    const json org = {{"organization_id", "degraded-org"}, {"name", "Degraded"}};
    auto write = [&] {
        return http_request(port, "POST", "/api/v1/internal/organizations", org.dump(), as_user,
                            15000);
    };

    ASSERT_EQ(run_pg_ctl("stop"), 0);
    HttpResult r;
    ASSERT_TRUE(eventually(
        [&] {
            r = http_request(port, "GET", "/readyz", "", {}, 15000);
            return r.status == 503;
        },
        20s))
        << r.status << " " << r.body;

    // Logged in: reads that need no storage keep working.
    r = http_request(port, "GET", "/api/v1/internal/auth/me", "", as_user, 15000);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(body_of(r)["user"]["username"], user) << r.body;
    r = http_request(port, "GET", "/api/v1/controller/orchestrators/live", "", as_user, 15000);
    EXPECT_EQ(r.status, 200) << r.body;
    // The dashboard's first page: live counts, marked degraded.
    r = http_request(port, "GET", "/api/v1/controller/overview", "", as_user, 15000);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(body_of(r)["data"]["degraded"], true) << r.body;
    EXPECT_TRUE(body_of(r)["data"]["total_users"].is_null()) << r.body;
    // A write: 503, Retry-After, no connection details.
    r = write();
    EXPECT_TRUE(is_storage_503(r)) << r.status << " " << r.body;
    // A read that needs storage: the same.
    r = http_request(port, "GET", "/api/v1/internal/users", "", as_user, 15000);
    EXPECT_TRUE(is_storage_503(r)) << r.status << " " << r.body;
    // A token never seen here cannot be told bad: 503, not 401.
    r = http_request(port, "GET", "/api/v1/internal/auth/me", "",
                     {{"Authorization", "Bearer not-a-session-token-0123456789"}}, 15000);
    EXPECT_TRUE(is_storage_503(r)) << r.status << " " << r.body;
    r = login();
    EXPECT_TRUE(is_storage_503(r)) << r.status << " " << r.body;
    // Logout works; the token is refused from then on.
    r = http_request(port, "POST", "/api/v1/internal/auth/logout", "", as_leaver, 15000);
    EXPECT_EQ(r.status, 200) << r.body;
    r = http_request(port, "GET", "/api/v1/internal/auth/me", "", as_leaver, 15000);
    EXPECT_EQ(r.status, 401) << r.body;
    // Said once, and measured.
    r = http_request(port, "GET", "/metrics", "", as_user, 15000);
    EXPECT_NE(r.body.find("\nmoolai_storage_up 0\n"), std::string::npos) << r.body;
    auto count = [&](const std::string& what) {
        const std::string log = c->log();
        size_t n = 0;
        for (size_t at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
        return n;
    };
    EXPECT_EQ(count("storage unreachable: "), 1u) << c->log();

    ASSERT_EQ(run_pg_ctl("start"), 0);
    ASSERT_TRUE(eventually(
        [&] {
            r = write();
            return r.status == 201 || r.status == 200;
        },
        30s))
        << r.status << " " << r.body;
    r = http_request(port, "GET", "/api/v1/internal/auth/me", "", as_leaver, 15000);
    EXPECT_EQ(r.status, 401) << r.body;
    r = http_request(port, "GET", "/metrics", "", as_user, 15000);
    EXPECT_NE(r.body.find("\nmoolai_storage_up 1\n"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\nmoolai_storage_state_changes_total 2\n"), std::string::npos) << r.body;
    EXPECT_EQ(count("storage unreachable: "), 1u) << c->log();
    EXPECT_EQ(count("storage is reachable again"), 1u) << c->log();

    // Storage itself forgot the session: a fresh controller, with nothing
    // in memory, refuses the token too.
    ASSERT_EQ(c->stop(), 0) << c->log();
    c = std::make_unique<ControllerProcess>();
    ASSERT_TRUE(c->wait_ready()) << c->log();
    r = http_request(c->rest_port(), "GET", "/api/v1/internal/auth/me", "", as_leaver, 15000);
    EXPECT_EQ(r.status, 401) << r.body;
    r = http_request(c->rest_port(), "GET", "/api/v1/internal/auth/me", "", as_user, 15000);
    EXPECT_EQ(r.status, 200) << r.body;
}

}  // namespace
}  // namespace moolai::test
