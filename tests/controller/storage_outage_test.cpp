// Issue 13's first fault: PostgreSQL stops while orchestrators send usage
// reports. Heartbeats must go on being acknowledged (nothing on an io thread
// waits for storage), every report the controller took must be stored once
// PostgreSQL is back, and a full storage queue answers `busy` rather than
// blocking. Runs under scripts/with-postgres.sh, which hands over
// MOOLAI_TEST_PG_CTL to stop and start the server.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "support/fleet_fixture.hpp"

namespace moolai::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string this_hour() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%dT%H:00:00Z", &tm);
    return b;
}

std::string usage_report(const std::string& period) {
    return json{{"type", "usage_report"}, {"period", period},   {"model", "gpt-4o"},
                {"requests", 1},          {"input_tokens", 10}, {"cost_usd", 0.01}}
        .dump();
}

class StorageOutage : public ControllerTest {
protected:
    void SetUp() override {
        if (pg_ctl().empty() || std::getenv("DATABASE_HOST") == nullptr)
            GTEST_SKIP() << "needs scripts/with-postgres.sh (MOOLAI_TEST_PG_CTL)";
    }
    void TearDown() override {
        if (!pg_ctl().empty()) run_pg_ctl("start");  // whatever a test left stopped
    }

    // Requests stored for `org`, -1 when the costs cannot be read.
    long stored_requests(const std::string& org) {
        HttpResult r =
            http_request(port(), "GET", "/api/v1/controller/costs?organization_id=" + org, "",
                         bearer(admin), 15000);
        const json j = json::parse(r.body, nullptr, false);
        if (r.status != 200 || !j.is_object()) return -1;
        return j["data"]["total"].value("requests", -1L);
    }
};

// The issue's fault: 30 s of outage under heartbeats, usage reports and
// admin traffic -- reads answered from memory, writes 503 with Retry-After,
// dashboard subscribes that need storage (they must not hold an io thread),
// no orchestrator disconnected, every report stored afterwards.
TEST_F(StorageOutage, HeartbeatAcksFlowAndEveryUsageReportLandsAfterwards) {
    start();
    const std::string token = issue(port(), admin, "outage-org", "outage-1");
    WsTestClient ws;
    ASSERT_EQ(connect_and_register(ws, "outage-1", token)["type"], "provisioning");
    const std::string period = this_hour();

    ASSERT_EQ(run_pg_ctl("stop"), 0);
    // 30 s of outage at the issue's rate (20 reports a second): each round a
    // report and a heartbeat, whose ack must come within 1 s.
    int sent = 0, rounds = 0, reads_ok = 0, writes_503 = 0, subscribes_1013 = 0;
    std::vector<std::unique_ptr<WsTestClient>> dashboards;
    auto slowest = Clock::duration::zero();
    const auto outage_end = Clock::now() + 30s;
    auto next_round = Clock::now();
    while (Clock::now() < outage_end) {
        if (++rounds % 20 == 0) {  // admin traffic, once a second
            // Reads served from memory: the overview (marked degraded) and
            // the live connections.
            HttpResult overview = http_request(port(), "GET", "/api/v1/controller/overview", "",
                                               bearer(admin), 5000);
            HttpResult live = http_request(port(), "GET", "/api/v1/controller/orchestrators/live",
                                           "", bearer(admin), 5000);
            reads_ok += overview.status == 200 && live.status == 200 &&
                        overview.body.find("\"degraded\":true") != std::string::npos;
            HttpResult write = http_request(
                port(), "POST", "/api/v1/internal/organizations",
                json{{"organization_id", "during-" + std::to_string(rounds)}, {"name", "x"}}.dump(),
                bearer(admin), 5000);
            EXPECT_EQ(write.status, 503) << write.body;
            EXPECT_EQ(write.body.find("5432"), std::string::npos)
                << "names no port: " << write.body;
            writes_503 += write.status == 503 && !write.header("retry-after").empty();
            // A session storage has never seen: its check needs storage.
            auto d = std::make_unique<WsTestClient>();
            if (d->connect(url("/api/v1/events"))) {
                d->send(json{{"type", "subscribe"}, {"token", "unknown-" + std::to_string(rounds)}}
                            .dump());
                dashboards.push_back(std::move(d));
            }
        }

        ASSERT_TRUE(ws.send(usage_report(period)));
        ++sent;
        const auto asked = Clock::now();
        ASSERT_TRUE(ws.send(R"({"type":"i_am_alive"})"));
        const json ack = next(ws, 1000);
        const auto took = Clock::now() - asked;
        ASSERT_EQ(ack["type"], "heartbeat_ack")
            << "after " << sent << " reports, "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms: " << ack
            << "\n"
            << controller->log();
        slowest = std::max(slowest, took);
        next_round += 50ms;
        std::this_thread::sleep_until(next_round);  // the reporting rate, not a wait for a result
    }
    EXPECT_LT(slowest, 1s);
    const int admin_rounds = rounds / 20;
    EXPECT_GE(reads_ok, admin_rounds - 1) << "reads are answered from memory";
    EXPECT_GE(writes_503, admin_rounds - 1) << "writes answer 503 with Retry-After";
    for (auto& d : dashboards)
        subscribes_1013 += d->wait_closed(10s) == std::optional<uint16_t>(1013);
    EXPECT_EQ(subscribes_1013, static_cast<int>(dashboards.size()))
        << "a subscribe that cannot be checked is told to come back later";
    // The reports really met a stopped database (they were queued, not stored).
    EXPECT_NE(controller->log().find("storage unavailable: orchestrator writes are queued"),
              std::string::npos)
        << controller->log();

    ASSERT_EQ(run_pg_ctl("start"), 0);
    long stored = -1;
    EXPECT_TRUE(eventually([&] { return (stored = stored_requests("outage-org")) == sent; }, 60s))
        << "stored " << stored << " of " << sent << "\n"
        << controller->log();
    // The connection lived through it all.
    ws.send(R"({"type":"request_status"})");
    EXPECT_EQ(next(ws)["type"], "status");
    EXPECT_NE(controller->log().find("storage available again"), std::string::npos);
    // Writes succeed again.
    EXPECT_TRUE(eventually(
        [&] {
            return http_request(port(), "POST", "/api/v1/internal/organizations",
                                json{{"organization_id", "after-outage"}, {"name", "x"}}.dump(),
                                bearer(admin))
                       .status == 201;
        },
        30s));
}

// SIGTERM while storage is down: orchestrators are told 1001 (going away)
// at once, and the process exits within a bound although its queued writes
// cannot land (the log names how many were dropped).
TEST_F(StorageOutage, SigtermWithStorageDownExitsWithinItsBound) {
    start();
    const std::string token = issue(port(), admin, "term-org", "term-1");
    WsTestClient ws;
    ASSERT_EQ(connect_and_register(ws, "term-1", token)["type"], "provisioning");
    ASSERT_EQ(run_pg_ctl("stop"), 0);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(ws.send(usage_report(this_hour())));
    ws.send(R"({"type":"i_am_alive"})");
    ASSERT_EQ(next(ws, 2000)["type"], "heartbeat_ack");

    const auto t0 = Clock::now();
    const int code = controller->stop(30s);
    const auto took = Clock::now() - t0;
    EXPECT_EQ(code, 0) << controller->log();
    EXPECT_LT(took, 15s) << controller->log();
    EXPECT_EQ(ws.wait_closed(1s), std::optional<uint16_t>(1001));
    EXPECT_NE(controller->log().find("stopping with storage unavailable"), std::string::npos)
        << controller->log();
}

// The dashboard's subscribe checks wait in a bounded queue (1024) for the
// stream's one thread. A browser flooding subscribes while every check is
// slow (storage stopped) is closed with 1013 at the bound -- at once, not
// after its checks -- orchestrators never notice, and the queue drains.
TEST_F(StorageOutage, FloodedSubscribeChecksAreRefusedAtTheBoundAndTheQueueDrains) {
    start();
    const std::string token = issue(port(), admin, "flood-org", "flood-1");
    WsTestClient ws;
    ASSERT_EQ(connect_and_register(ws, "flood-1", token)["type"], "provisioning");
    ASSERT_EQ(run_pg_ctl("stop"), 0);

    WsTestClient flood;
    ASSERT_TRUE(flood.connect(url("/api/v1/events")));
    const std::string subscribe = json{{"type", "subscribe"}, {"token", "never-seen"}}.dump();
    for (int i = 0; i < 1500; ++i)
        if (!flood.send(subscribe)) break;  // closed at the bound meanwhile
    EXPECT_EQ(flood.wait_closed(10s), std::optional<uint16_t>(1013)) << controller->log();
    EXPECT_NE(flood.close_reason().find("too many subscribes waiting"), std::string::npos)
        << "closed at the bound, not by a check: " << flood.close_reason();

    ws.send(R"({"type":"i_am_alive"})");
    EXPECT_EQ(next(ws, 1000)["type"], "heartbeat_ack") << "no io thread waited";

    // The waiting checks find their connection gone; a new subscribe is
    // checked again (and told storage is unavailable).
    EXPECT_TRUE(eventually(
        [&] {
            WsTestClient d;
            if (!d.connect(url("/api/v1/events")) || !d.send(subscribe)) return false;
            return d.wait_closed(10s) == std::optional<uint16_t>(1013) &&
                   d.close_reason().find("storage unavailable") != std::string::npos;
        },
        60s))
        << controller->log();
}

TEST_F(StorageOutage, AFullQueueAnswersBusyAndKeepsWhatItTook) {
    start({{"MOOLAI_STORAGE_QUEUE_MAX", "5"}});
    const std::string token = issue(port(), admin, "busy-org", "busy-1");
    WsTestClient ws;
    ASSERT_EQ(connect_and_register(ws, "busy-1", token)["type"], "provisioning");
    // The register's metadata has left the queue before the outage starts.
    ASSERT_TRUE(eventually([&] {
        HttpResult r =
            http_request(port(), "GET", "/api/v1/internal/orchestrators/busy-1", "", bearer(admin));
        // The value the register sent: a new orchestrator's record already
        // has an (empty) metadata object.
        const json o = json::parse(r.body, nullptr, false);
        return o.is_object() && o["data"]["metadata"].value("version", "") == "2.1";
    }));
    const std::string period = this_hour();

    ASSERT_EQ(run_pg_ctl("stop"), 0);
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(ws.send(usage_report(period)));
    ASSERT_TRUE(ws.send(R"({"type":"message_ack","message_id":"msg-full"})"));
    ASSERT_TRUE(ws.send(R"({"type":"i_am_alive"})"));
    std::vector<json> busy;
    json f;
    for (f = next(ws, 1000); f.is_object() && f["type"] == "error"; f = next(ws, 1000)) {
        EXPECT_EQ(f["code"], "busy") << f;
        busy.push_back(f);
    }
    EXPECT_EQ(f["type"], "heartbeat_ack") << f << "\n" << controller->log();
    ASSERT_EQ(busy.size(), 4u) << "5 reports taken, 3 and the ack refused; got: "
                               << json(busy).dump() << "\n"
                               << controller->log();
    EXPECT_EQ(busy.back()["message_id"], "msg-full") << busy.back();
    EXPECT_EQ(busy.back()["retry_after_ms"], 1000);
    EXPECT_NE(busy.front()["message"].get<std::string>().find("usage_report"), std::string::npos);

    ASSERT_EQ(run_pg_ctl("start"), 0);
    long stored = -1;
    EXPECT_TRUE(eventually([&] { return (stored = stored_requests("busy-org")) == 5; }, 60s))
        << "stored " << stored << "\n"
        << controller->log();
    // Room again: a report is taken without `busy`.
    ws.send(usage_report(period));
    ws.send(R"({"type":"request_status"})");
    EXPECT_EQ(next(ws)["type"], "status");
    EXPECT_TRUE(eventually([&] { return stored_requests("busy-org") == 6; }, 30s));
}

TEST(StorageQueueConfig, AnOutOfRangeBoundIsRefusedWithOneLine) {
    const RunResult r = run_controller({"--check-config"}, {{"MOOLAI_STORAGE_QUEUE_MAX", "0"}});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("MOOLAI_STORAGE_QUEUE_MAX=\"0\""), std::string::npos) << r.output;
}

}  // namespace
}  // namespace moolai::test
