// The benchmark's load generator against the bare reference server and the
// real controller: a short run of each mode bench/run.sh uses must connect
// every orchestrator, count acks, time toggles and pages, and say so in its
// JSON. The numbers themselves are not judged here (that is bench/run.sh's
// job, on a quiet machine); only that they are measured.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>
#include "sim_process.hpp"
#include "support/controller_process.hpp"

namespace moolai::test {
namespace {
using nlohmann::json;
using namespace std::chrono_literals;

// A port free at this moment (the reference server takes a fixed port).
uint16_t free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    uint16_t port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

// Runs the load generator to completion; its JSON result (the last line
// that is a JSON object), null when there is none.
json load(std::vector<std::string> args, int* exit_code = nullptr) {
    SimProcess p(std::move(args), MOOLAI_BENCH_LOAD);
    const int code = p.wait_exit(60s);
    if (exit_code != nullptr) *exit_code = code;
    std::istringstream lines(p.log());
    json result;
    for (std::string line; std::getline(lines, line);)
        if (!line.empty() && line.front() == '{') result = json::parse(line, nullptr, false);
    if (result.is_discarded()) result = nullptr;
    EXPECT_TRUE(result.is_object()) << "no JSON result; output:\n" << p.log();
    return result;
}

TEST(BenchTools, ClosedLoopAgainstTheReferenceServer) {
    const uint16_t port = free_port();
    SimProcess reference({"--port", std::to_string(port), "--threads", "1"},
                         MOOLAI_BENCH_REFERENCE);
    ASSERT_TRUE(reference.wait_for("ready")) << reference.log();
    const json r = load({"ws", "--port", std::to_string(port), "--connections", "40", "--ramp",
                         "400", "--closed-loop", "1", "--warmup", "0.5", "--duration", "1"});
    ASSERT_TRUE(r.is_object());
    EXPECT_EQ(r.value("established", 0), 40) << r;
    EXPECT_EQ(r.value("failed", -1), 0) << r;
    EXPECT_GT(r.value("acks_per_sec", 0.0), 0.0) << r;
    EXPECT_GT(r["latency"].value("p99_ms", 0.0), 0.0) << r;
    EXPECT_GE(r["latency"].value("max_ms", 0.0), r["latency"].value("p50_ms", 1e9)) << r;
}

TEST(BenchTools, OpenLoopTogglesAndPagesAgainstTheController) {
    ControllerProcess controller(std::map<std::string, std::string>{
        {"MOOLAI_ORCHESTRATOR_AUTH", "open"}, {"DEV_BEARER_TOKEN", "bench-tools-token-0123456789abcdef"}});
    ASSERT_TRUE(controller.wait_ready()) << controller.log();
    const std::string rest = std::to_string(controller.rest_port());
    const json r = load({"ws", "--port", std::to_string(controller.ws_port()), "--connections",
                         "30", "--ramp", "300", "--open-loop", "500", "--warmup", "0.5",
                         "--duration", "1.5", "--rest-port", rest, "--bearer",
                         "bench-tools-token-0123456789abcdef", "--toggles", "3"});
    ASSERT_TRUE(r.is_object());
    EXPECT_EQ(r.value("established", 0), 30) << r;
    EXPECT_EQ(r.value("failed", -1), 0) << r;
    EXPECT_GT(r.value("acks_per_sec", 0.0), 0.0) << r;
    // Heartbeats reached the controller's batched writes (read from /metrics).
    EXPECT_GT(r["metrics"]["rates"].value("moolai_heartbeat_rows_total_per_sec", 0.0), 0.0) << r;
    // Every toggle's stop_monitoring arrived on the orchestrator's connection.
    EXPECT_EQ(r["toggles"].value("missed", -1), 0) << r;
    EXPECT_EQ(r["toggles"].value("refused", -1), 0) << r;
    EXPECT_GT(r["toggles"]["stop_monitoring"].value("p99_ms", 0.0), 0.0) << r;

    // The stored fleet, paged like (e).
    const json pages =
        load({"http", "--port", rest, "--bearer", "bench-tools-token-0123456789abcdef", "--target",
              "/api/v1/controller/orchestrators?page={page}&page_size=10", "--pages", "3",
              "--requests", "10"});
    ASSERT_TRUE(pages.is_object());
    EXPECT_EQ(pages.value("failures", -1), 0) << pages;
    EXPECT_EQ(pages.value("total", 0), 30) << pages;
    EXPECT_EQ(pages["latency"].value("samples", 0), 10) << pages;

    // A wrong bearer token is a failure the tool reports, not a number.
    int code = 0;
    const json refused = load({"http", "--port", rest, "--bearer", "wrong", "--target",
                               "/api/v1/controller/orchestrators?page={page}", "--requests", "2"},
                              &code);
    EXPECT_NE(code, 0);
    EXPECT_GT(refused.value("failures", 0), 0) << refused;
}

// bench/storm.sh's measurement, small: the load generator starts the
// controller, kills it with SIGKILL under the fleet, starts it again on the
// same data, and every orchestrator registers again by itself.
TEST(BenchTools, StormKillsTheControllerAndTheFleetComesBack) {
    char dir_template[] = "/tmp/moolai-bench-storm.XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    const std::string dir = dir_template;
    const std::string rest = std::to_string(free_port()), ws = std::to_string(free_port());
    const json r = load({"storm",
                         "--port",
                         ws,
                         "--rest-port",
                         rest,
                         "--connections",
                         "40",
                         "--ramp",
                         "400",
                         "--open-loop",
                         "1000",
                         "--warmup",
                         "0.5",
                         "--down-sec",
                         "0.2",
                         "--settle",
                         "1.5",
                         "--timeout",
                         "40",
                         "--log",
                         dir + "/controller.log",
                         "--",
                         "env",
                         "MOOLAI_ORCHESTRATOR_AUTH=open",
                         "CONTROLLER_HOST=127.0.0.1",
                         "CONTROLLER_PORT=" + rest,
                         "CONTROLLER_WS_PORT=" + ws,
                         "MOOLAI_DATA_DIR=" + dir,
                         controller_binary()});
    std::filesystem::remove_all(dir);
    ASSERT_TRUE(r.is_object());
    EXPECT_EQ(r["initial"].value("registered_at_kill", 0), 40) << r;
    EXPECT_EQ(r["restart"].value("drops_seen", 0), 40) << r;
    EXPECT_EQ(r["reregistered"].value("count", 0), 40) << r;
    EXPECT_TRUE(r["reregistered"].value("all", false)) << r;
    const json& p = r["reregistered"]["from_kill_sec"];
    EXPECT_GT(p.value("p50", 0.0), 0.0) << r;
    EXPECT_GE(p.value("p100", 0.0), p.value("p99", 1e9)) << r;
    EXPECT_FALSE(r["server"].value("crashed", true)) << r;
    EXPECT_GT(r["server"].value("rss_peak_kb", 0), 0) << r;
    EXPECT_GT(r["settle"].value("acks", 0), 0) << r;
    EXPECT_EQ(r["stop"].value("status", ""), "exit 0") << r;
}

// bench/soak.sh's measurement, small: a fleet with usage reports and admin
// churn, the controller (found by its REST port) sampled; every REST call of the churn succeeds,
// recommendations travel and are acked, and the verdict is given.
TEST(BenchTools, SoakSamplesTheControllerUnderChurn) {
    ControllerProcess controller(std::map<std::string, std::string>{
        {"MOOLAI_ORCHESTRATOR_AUTH", "open"},
        {"MOOLAI_SUPERADMIN_USERNAME", "soak-admin"},
        {"MOOLAI_SUPERADMIN_PASSWORD", "soak-admin-password-1234"}});
    ASSERT_TRUE(controller.wait_ready()) << controller.log();
    const json r = load({"soak",
                         "--port",
                         std::to_string(controller.ws_port()),
                         "--rest-port",
                         std::to_string(controller.rest_port()),
                         "--admin-user",
                         "soak-admin",
                         "--admin-password",
                         "soak-admin-password-1234",
                         "--connections",
                         "20",
                         "--ramp",
                         "200",
                         "--open-loop",
                         "1000",
                         "--usage-interval-ms",
                         "500",
                         "--minutes",
                         "0.1",
                         "--sample-sec",
                         "2",
                         "--churn-interval",
                         "0.3"});
    ASSERT_TRUE(r.is_object());
    ASSERT_EQ(r["samples"].size(), 3u) << r;
    for (const json& s : r["samples"]) {
        EXPECT_GT(s.value("rss_kb", 0), 0) << s;
        EXPECT_GT(s.value("fds", 0), 20) << s;
        EXPECT_GT(s.value("threads", 0), 1) << s;
        EXPECT_EQ(s.value("registered", 0), 20) << s;
    }
    EXPECT_EQ(r["rest"].value("errors", -1), 0) << r;
    EXPECT_GT(r["rest"].value("rounds", 0), 5) << r;
    EXPECT_GT(r["fleet"].value("usage_reports_sent", 0), 0) << r;
    EXPECT_GT(r["fleet"].value("message_acks_sent", 0), 0) << r;
    EXPECT_TRUE(r["verdict"].contains("rss_flat")) << r;
    EXPECT_TRUE(r["verdict"].value("server_alive", false)) << r;
}

}  // namespace
}  // namespace moolai::test
