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

std::string pg_ctl() {
    const char* p = std::getenv("MOOLAI_TEST_PG_CTL");
    return p != nullptr ? p : "";
}

int run_pg_ctl(const std::string& action) {
    return std::system((pg_ctl() + " " + action + " >/dev/null 2>&1").c_str());
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

}  // namespace
}  // namespace moolai::test
