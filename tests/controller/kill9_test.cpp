// Issue 13, "nothing acknowledged is lost on kill -9": the controller is
// SIGKILLed while orchestrators send usage reports, then started again on
// the same data. Every report it provably took -- sent before a later
// heartbeat was answered, with no `busy` -- must be in storage afterwards,
// whether storage was answering (a) or down (b) when the process died.
// The PostgreSQL cases run under scripts/with-postgres.sh (MOOLAI_TEST_PG_CTL);
// (a) runs on SQLite too.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/fleet_fixture.hpp"

namespace moolai::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string usage_report() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char period[32];
    std::strftime(period, sizeof period, "%Y-%m-%dT%H:00:00Z", &tm);
    return json{{"type", "usage_report"}, {"period", period},   {"model", "gpt-4o"},
                {"requests", 1},          {"input_tokens", 10}, {"cost_usd", 0.01}}
        .dump();
}

// One orchestrator's connection and what the controller provably took from it.
struct Sender {
    WsTestClient ws;
    long sent = 0;
    long taken = 0;  // sent before an answered heartbeat, minus `busy` answers

    // Sends `n` reports and a heartbeat; once the heartbeat is answered, the
    // reports before it were read and answered (taken, or `busy`).
    bool batch(int n) {
        for (int i = 0; i < n; ++i) {
            if (!ws.send(usage_report())) return false;
            ++sent;
        }
        if (!ws.send(R"({"type":"i_am_alive"})")) return false;
        long busy = 0;
        for (json f = next(ws, 5000); f.is_object(); f = next(ws, 5000)) {
            if (f["type"] == "heartbeat_ack") {
                taken += n - busy;
                return true;
            }
            if (f["type"] == "error" && f["code"] == "busy") ++busy;
        }
        return false;
    }
};

class Kill9 : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/moolai-kill9.XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        data_dir = std::string(tmpl) + "/data";
    }
    void TearDown() override {
        controller.reset();
        if (!pg_ctl().empty()) run_pg_ctl("start");  // whatever a test left stopped
        std::error_code ec;
        fs::remove_all(fs::path(data_dir).parent_path(), ec);
    }

    // Starts (or starts again) the controller on the same data dir.
    void start() {
        std::map<std::string, std::string> env = kAdminEnv;
        env["MOOLAI_DATA_DIR"] = data_dir;
        controller = std::make_unique<ControllerProcess>(env);
        ASSERT_TRUE(controller->wait_ready(60s)) << controller->log();
        admin = admin_token(controller->rest_port());
        ASSERT_FALSE(admin.empty()) << controller->log();
    }
    void kill9() {
        ASSERT_EQ(controller->stop(10s, SIGKILL), -1) << "killed by the signal";
        last_log = controller->log();
    }
    std::unique_ptr<Sender> connect(const std::string& org, const std::string& id) {
        const std::string token = issue(controller->rest_port(), admin, org, id);
        auto s = std::make_unique<Sender>();
        EXPECT_TRUE(
            s->ws.connect("ws://127.0.0.1:" + std::to_string(controller->ws_port()) + "/ws"));
        EXPECT_EQ(next(s->ws)["type"], "handshake_ack");
        s->ws.send(json{
            {"type", "register"},
            {"orchestrator_id", id},
            {"organization_id", org},
            {"metadata", {{"version", "2.1"}}},
            {"token",
             token}}.dump());
        EXPECT_EQ(next(s->ws)["type"], "provisioning");
        return s;
    }
    // Requests stored for `org`, -1 when the costs cannot be read.
    long stored_requests(const std::string& org) {
        HttpResult r = http_request(controller->rest_port(), "GET",
                                    "/api/v1/controller/costs?organization_id=" + org, "",
                                    bearer(admin), 15000);
        const json j = json::parse(r.body, nullptr, false);
        if (r.status != 200 || !j.is_object()) return -1;
        return j["data"]["total"].value("requests", -1L);
    }

    // Case (a): two orchestrators report without pause; the kill lands right
    // after a confirmed batch (still in the queue: rounds are 50 ms apart)
    // while a further one is on the wire.
    void killed_while_storage_answers() {
        start();
        std::vector<std::unique_ptr<Sender>> fleet;
        fleet.push_back(connect("kill-org", "kill-1"));
        fleet.push_back(connect("kill-org", "kill-2"));
        const auto until = std::chrono::steady_clock::now() + 2s;
        while (std::chrono::steady_clock::now() < until)
            for (auto& s : fleet) ASSERT_TRUE(s->batch(5));
        for (auto& s : fleet) ASSERT_TRUE(s->batch(20));
        for (auto& s : fleet)
            for (int i = 0; i < 20; ++i, ++s->sent) s->ws.send(usage_report());
        kill9();

        long sent = 0, taken = 0;
        for (auto& s : fleet) {
            sent += s->sent;
            taken += s->taken;
        }
        start();
        long stored = -1;
        // At least every report taken; more are fine (sent on the wire
        // before the kill and read by the server), up to all that were sent
        // and a round stored before its segments were deleted.
        EXPECT_TRUE(
            eventually([&] { return (stored = stored_requests("kill-org")) >= taken; }, 60s))
            << "stored " << stored << " of " << taken << " taken (" << sent << " sent)\n"
            << "before the kill:\n"
            << last_log << "\nafter:\n"
            << controller->log();
        RecordProperty("taken", std::to_string(taken));
        RecordProperty("stored", std::to_string(stored_requests("kill-org")));
        RecordProperty("sent", std::to_string(sent));
    }

    std::string data_dir;
    std::unique_ptr<ControllerProcess> controller;
    std::string admin;
    std::string last_log;
};

class Kill9Postgres : public Kill9 {
protected:
    void SetUp() override {
        if (pg_ctl().empty() || std::getenv("DATABASE_HOST") == nullptr)
            GTEST_SKIP() << "needs scripts/with-postgres.sh (MOOLAI_TEST_PG_CTL)";
        Kill9::SetUp();
    }
};

TEST_F(Kill9Postgres, EveryReportTakenWhileStorageAnswersIsStoredAfterTheRestart) {
    killed_while_storage_answers();
}

// Case (b): PostgreSQL is down, so every report waits in the queue (and the
// journal); the controller is killed, PostgreSQL comes back, the controller
// starts again: all of them land, once each (none was stored before).
TEST_F(Kill9Postgres, ReportsTakenDuringAnOutageLandAfterAKillAndARestart) {
    start();
    auto s = connect("outage-kill-org", "outage-kill-1");
    // The register's metadata has been stored: only the reports will wait.
    ASSERT_TRUE(eventually([&] {
        const json o = json::parse(
            http_request(controller->rest_port(), "GET",
                         "/api/v1/internal/orchestrators/outage-kill-1", "", bearer(admin))
                .body,
            nullptr, false);
        return o.is_object() && o["data"]["metadata"].value("version", "") == "2.1";
    }));
    ASSERT_EQ(run_pg_ctl("stop"), 0);
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(s->batch(5));
    ASSERT_EQ(s->taken, 30);
    // They met the stopped database: queued, not stored.
    ASSERT_TRUE(eventually(
        [&] {
            return controller->log().find("storage unavailable: orchestrator writes are queued") !=
                   std::string::npos;
        },
        10s))
        << controller->log();
    kill9();

    ASSERT_EQ(run_pg_ctl("start"), 0);
    start();
    long stored = -1;
    EXPECT_TRUE(
        eventually([&] { return (stored = stored_requests("outage-kill-org")) == s->taken; }, 60s))
        << "stored " << stored << " of " << s->taken << " taken\nbefore the kill:\n"
        << last_log << "\nafter:\n"
        << controller->log();
    EXPECT_NE(controller->log().find("orchestrator writes from before replayed"), std::string::npos)
        << controller->log();
    // Stored once: the replayed segments were deleted with the round that
    // stored them, so a further restart adds nothing.
    EXPECT_TRUE(eventually([&] {
        std::error_code ec;
        long files = 0;
        for (fs::directory_iterator it(data_dir + "/storage-journal", ec), end; !ec && it != end;
             it.increment(ec))
            files += it->path().filename().string().rfind("segment-", 0) == 0;
        return !ec && files == 1;  // the new, empty segment
    }));
    EXPECT_EQ(controller->stop(), 0) << controller->log();
    start();
    EXPECT_TRUE(eventually([&] { return stored_requests("outage-kill-org") == 30; }, 5s));
    EXPECT_EQ(stored_requests("outage-kill-org"), 30);
}

class Kill9Sqlite : public Kill9 {
protected:
    void SetUp() override {
        if (const char* h = std::getenv("DATABASE_HOST"); h != nullptr && *h != '\0')
            GTEST_SKIP() << "the SQLite case (DATABASE_HOST is set)";
        Kill9::SetUp();
    }
};

TEST_F(Kill9Sqlite, EveryReportTakenWhileStorageAnswersIsStoredAfterTheRestart) {
    killed_while_storage_answers();
}

TEST(StorageJournalConfig, AJournalDirectoryThatCannotBeWrittenEndsStartWithOneLine) {
    char tmpl[] = "/tmp/moolai-kill9-cfg.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    const std::string file = std::string(tmpl) + "/not-a-dir";
    std::ofstream(file) << "x";
    const std::string bad = file + "/journal";
    const RunResult r = run_controller({}, {{"MOOLAI_STORAGE_JOURNAL_DIR", bad}});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("storage journal: cannot create " + bad), std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("or be off"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("controller ready"), std::string::npos) << r.output;
    std::error_code ec;
    fs::remove_all(tmpl, ec);
}

TEST_F(Kill9Sqlite, TheJournalDirectoryComesFromTheConfigFileAndOffTurnsItOff) {
    const std::string journal = fs::path(data_dir).parent_path().string() + "/elsewhere";
    const std::string config = fs::path(data_dir).parent_path().string() + "/config.json";
    std::ofstream(config) << json{{"storage_journal_dir", journal}}.dump();
    {
        ControllerProcess c({{"MOOLAI_DATA_DIR", data_dir}}, {"--config", config});
        ASSERT_TRUE(c.wait_ready()) << c.log();
        EXPECT_NE(c.log().find("storage journal in " + journal + " (0 segments from before"),
                  std::string::npos)
            << c.log();
        EXPECT_TRUE(fs::exists(journal + "/LOCK"));
        EXPECT_FALSE(fs::exists(data_dir + "/storage-journal"));
        EXPECT_EQ(c.stop(), 0) << c.log();
    }
    ControllerProcess off({{"MOOLAI_DATA_DIR", data_dir}, {"MOOLAI_STORAGE_JOURNAL_DIR", "off"}});
    ASSERT_TRUE(off.wait_ready()) << off.log();
    EXPECT_NE(off.log().find("storage journal off (MOOLAI_STORAGE_JOURNAL_DIR=off)"),
              std::string::npos)
        << off.log();
    EXPECT_FALSE(fs::exists(data_dir + "/storage-journal"));
}

}  // namespace
}  // namespace moolai::test
