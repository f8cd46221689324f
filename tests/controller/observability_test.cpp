// What a deployer's monitoring reads: /metrics with a scrape credential
// (MOOLAI_METRICS_TOKEN) that opens nothing else, latency histograms that
// move with real traffic, moolai_build_info and process metrics; and logs
// as one JSON object a line (MOOLAI_LOG_FORMAT=json).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "support/fleet_fixture.hpp"

namespace moolai::test {
namespace {

using nlohmann::json;

const std::string kScrape = "scrape-token-0123456789abcdef0123456789";

// The value of the first sample line starting with `series` ("name{...}" or "name"), -1 if none.
double sample(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(series, 0) == 0 && line.size() > series.size() &&
            (line[series.size()] == ' ' || line[series.size()] == '{'))
            return std::stod(line.substr(line.rfind(' ') + 1));
    }
    return -1;
}

class Observability : public ControllerTest {};

TEST_F(Observability, ScrapeTokenReadsMetricsAndNothingElse) {
    start({{"MOOLAI_METRICS_TOKEN", kScrape}});
    const uint16_t p = port();
    // A heartbeat and a few requests, so the histograms have something.
    const std::string cred = issue(p, admin, "acme", "obs-1");
    WsTestClient ws;
    ASSERT_EQ(connect_and_register(ws, "obs-1", cred)["type"], "provisioning");
    ws.send(R"({"type":"i_am_alive","orchestrator_id":"obs-1"})");
    ASSERT_EQ(next(ws)["type"], "heartbeat_ack");
    ASSERT_EQ(http_request(p, "GET", "/livez").status, 200);

    const HttpResult r = http_request(p, "GET", "/metrics", "", bearer(kScrape));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4");
    const std::string& m = r.body;
    EXPECT_TRUE(std::regex_search(
        m, std::regex(R"(moolai_build_info\{version="\d+\.\d+\.\d+",commit="[^"]+",build_type="\w+",abi="\d+\.\d+"\} 1\n)")))
        << m;
    EXPECT_GT(sample(m, "process_resident_memory_bytes"), 1e6);
    EXPECT_GT(sample(m, "process_open_fds"), 3);
    EXPECT_GE(sample(m, "process_cpu_seconds_total"), 0);
    EXPECT_GT(sample(m, "process_start_time_seconds"), 1.7e9);
    EXPECT_GT(sample(m, "process_max_fds"), 0);
    EXPECT_EQ(sample(m, "moolai_heartbeat_ack_seconds_count"), 1) << m;
    // The first heartbeat turned obs-1 active: one status change, that way.
    EXPECT_EQ(sample(m, R"(moolai_status_changes_total{to="active"})"), 1) << m;
    EXPECT_EQ(sample(m, R"(moolai_status_changes_total{to="inactive"})"), 0) << m;
    EXPECT_NE(m.find("# TYPE moolai_heartbeat_ack_seconds histogram"), std::string::npos);
    EXPECT_NE(m.find(R"(moolai_http_request_duration_seconds_bucket{method="GET",route="/livez",le="+Inf"} 1)"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find(R"(moolai_http_requests_total{method="POST",route="/api/v1/internal/auth/login",code="200"})"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("# TYPE moolai_storage_batch_write_seconds histogram"), std::string::npos);
    EXPECT_NE(m.find("# TYPE moolai_push_delivery_seconds histogram"), std::string::npos);

    // A superadmin session still reads them; a wrong token or none does not.
    EXPECT_EQ(http_request(p, "GET", "/metrics", "", bearer(admin)).status, 200);
    EXPECT_EQ(http_request(p, "GET", "/metrics", "", bearer(kScrape + "x")).status, 401);
    EXPECT_EQ(http_request(p, "GET", "/metrics").status, 401);
    // The scrape token is no session: every other route refuses it.
    for (const char* path : {"/api/v1/internal/plugins", "/api/v1/controller/orchestrators",
                             "/api/v1/internal/logs"})
        EXPECT_EQ(http_request(p, "GET", path, "", bearer(kScrape)).status, 401) << path;
    // And it never shows in the log.
    EXPECT_EQ(controller->log().find(kScrape), std::string::npos);
}

// The cluster route: on SQLite a host is a cluster of one (its store's
// notifications run in-process), which it leads; with MOOLAI_CLUSTER=off
// it says it serves alone.
TEST_F(Observability, TheClusterRouteTellsAClusterOfOneAndAHostAlone) {
    start();
    const auto data = [&] {
        const HttpResult r =
            http_request(port(), "GET", "/api/v1/internal/cluster", "", bearer(admin));
        EXPECT_EQ(r.status, 200) << r.body;
        return json::parse(r.body, nullptr, false)["data"];
    };
    const json one = data();
    EXPECT_EQ(one["enabled"], true) << one;
    ASSERT_EQ(one["hosts"].size(), 1u) << one;
    EXPECT_EQ(one["hosts"][0]["this_host"], true);
    EXPECT_EQ(one["hosts"][0]["alive"], true);
    EXPECT_EQ(one["leader"], one["host_id"]);
    EXPECT_EQ(one["this_host_leads"], true);

    start({{"MOOLAI_CLUSTER", "off"}});
    const json alone = data();
    EXPECT_EQ(alone["enabled"], false) << alone;
    EXPECT_TRUE(alone["leader"].is_null());
    EXPECT_TRUE(alone["hosts"].empty());
}

TEST_F(Observability, JsonLogsAreOneObjectALineWithFields) {
    start({{"MOOLAI_LOG_FORMAT", "json"}});
    const HttpResult refused =
        http_request(port(), "POST", "/api/v1/internal/auth/login",
                     R"({"username":"root","password":"wrong-password"})");
    ASSERT_EQ(refused.status, 401);
    const std::string request_id = refused.header("x-request-id");
    ASSERT_FALSE(request_id.empty());
    const std::string cred = issue(port(), admin, "acme", "obs-2");
    ASSERT_FALSE(cred.empty());
    controller->stop();

    std::istringstream in(controller->log());
    size_t lines = 0;
    bool failed_login = false, created = false;
    for (std::string line; std::getline(in, line);) {
        const json j = json::parse(line, nullptr, false);
        ASSERT_TRUE(j.is_object()) << "not one JSON object: " << line;
        ++lines;
        for (const char* key : {"time", "level", "component", "message"})
            ASSERT_TRUE(j.contains(key) && j[key].is_string()) << key << " missing: " << line;
        EXPECT_TRUE(std::regex_match(j["time"].get<std::string>(),
                                     std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
            << line;
        if (j.value("username", "") == "root" && j["level"] == "warn") {
            failed_login = true;
            EXPECT_EQ(j.value("request_id", ""), request_id) << line;  // the answer's id
        }
        if (j.value("orchestrator_id", "") == "obs-2" && j.value("organization_id", "") == "acme")
            created = true;
    }
    EXPECT_GT(lines, 5u);
    EXPECT_TRUE(failed_login) << controller->log();
    EXPECT_TRUE(created) << controller->log();
}

TEST(FirstStart, WithoutAPasswordARandomOneIsLoggedOnceAndWorks) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("moolai-first-" + std::to_string(::getpid()));
    const std::map<std::string, std::string> env = {{"MOOLAI_DATA_DIR", dir.string()}};
    std::string password;
    {
        ControllerProcess c(env);
        ASSERT_TRUE(c.wait_ready()) << c.log();
        std::smatch m;
        const std::string log = c.log();
        ASSERT_TRUE(std::regex_search(
            log, m, std::regex(R"re(created the superadmin "admin" with the password "([A-Za-z0-9_-]{24})")re")))
            << log;
        password = m[1];
        EXPECT_FALSE(login_token(c.rest_port(), "admin", password).empty());
    }
    ControllerProcess again(env);
    ASSERT_TRUE(again.wait_ready()) << again.log();
    EXPECT_EQ(again.log().find("with the password"), std::string::npos) << again.log();
    EXPECT_FALSE(login_token(again.rest_port(), "admin", password).empty());
    again.stop();
    std::filesystem::remove_all(dir);
}

// The dashboard's live stream behind a proxy: ui-config tells the REST port
// (a page from another port is proxied) and the configured public URL.
TEST_F(Observability, UiConfigTellsRestPortAndPublicStreamUrl) {
    start({{"MOOLAI_PUBLIC_WS_URL", "wss://moolai.example/api/v1/events"}});
    HttpResult r = http_request(port(), "GET", "/api/v1/internal/ui-config", "", bearer(admin));
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = json::parse(r.body);
    EXPECT_EQ(j["rest_port"], port());
    EXPECT_EQ(j["ws_port"], controller->ws_port());
    EXPECT_EQ(j["events_url"], "wss://moolai.example/api/v1/events");
    EXPECT_EQ(j["events_path"], "/api/v1/events");
}

TEST(ObservabilityConfig, PublicStreamUrlMustBeAWebSocketUrl) {
    const RunResult r =
        run_controller({"--check-config"}, {{"MOOLAI_PUBLIC_WS_URL", "http://moolai.example/x"}});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("must start with ws:// or wss://"), std::string::npos) << r.output;
}

TEST(ObservabilityConfig, UnknownLogFormatIsRefusedWithOneLine) {
    const RunResult r = run_controller({"--check-config"}, {{"MOOLAI_LOG_FORMAT", "xml"}});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("MOOLAI_LOG_FORMAT=\"xml\" must be text or json"), std::string::npos)
        << r.output;
}

}  // namespace
}  // namespace moolai::test
