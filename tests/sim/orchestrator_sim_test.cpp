// moolai-orchestrator-sim, black-box, against the real controller binary:
// provisioning over REST, orchestrators active, usage in /costs, a forwarded
// recommendation acknowledged, the independence toggle obeyed, reconnecting
// after a controller restart, bad credentials, open mode, two controllers
// (spread, failover), a stop during the upgrade, bad options. Runs on
// SQLite and, via scripts/with-postgres.sh, on PostgreSQL.
#include <gtest/gtest.h>

#include <unistd.h>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "credentials_file.hpp"
#include "sim_process.hpp"
#include "support/fleet_fixture.hpp"

namespace moolai::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Short intervals keep the tests fast: a heartbeat a second, inactive after 3 s.
const std::map<std::string, std::string> kFastEnv = {{"HEARTBEAT_INTERVAL_SEC", "1"},
                                                     {"HEARTBEAT_TTL_SEC", "3"}};

class SimAgainstController : public ControllerTest {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() /
              ("moolai-simtest-" + std::to_string(::getpid()) + "-" + prefix());
        fs::create_directories(dir);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    void start(std::map<std::string, std::string> env = {}) {
        for (const auto& kv : kFastEnv) env.emplace(kv);
        ControllerTest::start(std::move(env));
        auth = bearer(admin);
    }
    uint16_t rest_port() const { return rest_override ? rest_override : controller->rest_port(); }
    // PostgreSQL runs share one database: each test has its own organization.
    static std::string prefix() {
        std::string p = ::testing::UnitTest::GetInstance()->current_test_info()->name();
        for (char& c : p) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return p;
    }
    std::string credentials_path() const { return (dir / "credentials.txt").string(); }
    std::string id(int n) const {
        char digits[8];
        std::snprintf(digits, sizeof digits, "%05d", n);
        return prefix() + "-" + digits;
    }

    std::vector<std::string> provision_args(int count) const {
        return {"--url",
                url(),
                "--provision",
                "--api",
                "http://127.0.0.1:" + std::to_string(controller->rest_port()),
                "--username",
                "root",
                "--password",
                "root-Password-1",
                "--organization",
                prefix(),
                "--id-prefix",
                prefix() + "-",
                "--count",
                std::to_string(count),
                "--credentials-out",
                credentials_path(),
                "--usage-interval",
                "0.5",
                "--metadata-interval",
                "1",
                "--stats-interval",
                "0.5",
                "--backoff-cap",
                "1"};
    }

    json orchestrators() {
        HttpResult r = http_request(
            rest_port(), "GET",
            "/api/v1/controller/orchestrators?page_size=1000&organization_id=" + prefix(), "",
            auth);
        if (r.status != 200) return json::object();
        return json::parse(r.body)["data"];
    }
    // true when exactly `n` orchestrators of this test's organization are
    // active and connected.
    bool all_active(size_t n) {
        const json d = orchestrators();
        if (!d.is_object() || d.value("total", 0u) != n) return false;
        for (const json& item : d["items"])
            if (item.value("status", "") != "active" || !item.value("connected", false))
                return false;
        return true;
    }
    bool eventually(const std::function<bool()>& check, std::chrono::milliseconds timeout = 15s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (check()) return true;
            std::this_thread::sleep_for(100ms);
        }
        return check();
    }
    // The last value of "<label> N" in the sim's stats lines, -1 if none.
    static long long stat(const std::string& log, const std::string& label) {
        return last_match(log, label + " (\\d+)");
    }
    // The heartbeats acked processed:false, from "(N not processed)".
    static long long not_processed(const std::string& log) {
        return last_match(log, "\\((\\d+) not processed\\)");
    }
    static long long last_match(const std::string& log, const std::string& pattern) {
        const std::regex re(pattern);
        long long last = -1;
        for (auto it = std::sregex_iterator(log.begin(), log.end(), re);
             it != std::sregex_iterator(); ++it)
            last = std::stoll((*it)[1]);
        return last;
    }

    fs::path dir;
    uint16_t rest_override = 0;
    HttpHeaders auth;
};

TEST_F(SimAgainstController, ProvisionedFleetBecomesActiveReportsUsageAndIsReused) {
    start();
    {
        SimProcess sim(provision_args(5));
        ASSERT_TRUE(sim.wait_for("all 5 orchestrators registered")) << sim.log();
        const std::string log = sim.log();
        EXPECT_NE(log.find("created organization \"" + prefix() + "\""), std::string::npos) << log;
        EXPECT_NE(log.find("0 reused, 5 created"), std::string::npos) << log;
        EXPECT_NE(log.find("heartbeat every 1 s (provisioned by the controller)"),
                  std::string::npos)
            << log;
        ASSERT_TRUE(eventually([&] { return all_active(5); })) << orchestrators().dump();
        std::set<std::string> ids;
        const json listing = orchestrators();
        for (const json& item : listing["items"]) ids.insert(item["orchestrator_id"]);
        EXPECT_EQ(ids, (std::set<std::string>{id(1), id(2), id(3), id(4), id(5)}));

        // Usage reports of every orchestrator reach /costs; metadata updates land.
        json costs;
        EXPECT_TRUE(eventually([&] {
            HttpResult r =
                http_request(rest_port(), "GET",
                             "/api/v1/controller/costs?organization_id=" + prefix(), "", auth);
            costs = json::parse(r.body)["data"];
            return costs["by_orchestrator"].size() == 5;
        })) << costs.dump();
        EXPECT_GT(costs["total"]["requests"].get<long long>(), 0);
        EXPECT_GT(costs["total"]["input_tokens"].get<long long>(), 0);
        EXPECT_GT(costs["total"]["cost_usd"].get<double>(), 0.0);
        for (const json& m : costs["by_model"])
            EXPECT_TRUE(std::set<std::string>(
                            {"gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "llama-3.1-70b"})
                            .count(m["key"].get<std::string>()))
                << m;
        EXPECT_TRUE(eventually([&] {
            const json listing = orchestrators();
            for (const json& item : listing["items"])
                if (!item["metadata"].is_object() || !item["metadata"].contains("revision"))
                    return false;
            return true;
        })) << orchestrators().dump();
        EXPECT_TRUE(eventually([&] { return stat(sim.log(), "usage reports") >= 5; }));

        EXPECT_EQ(sim.stop(SIGTERM), 0) << sim.log();
        EXPECT_NE(sim.log().find("received SIGTERM, stopping"), std::string::npos);
        EXPECT_EQ(stat(sim.log(), "errors"), 0) << sim.log();
    }
    // Closed cleanly: the controller saw every connection go.
    EXPECT_TRUE(eventually([&] {
        const json listing = orchestrators();
        for (const json& item : listing["items"])
            if (item.value("connected", true)) return false;
        return true;
    }));
    const auto saved = sim::read_credentials_file(credentials_path());
    ASSERT_EQ(saved.size(), 5u);
    EXPECT_EQ(fs::status(credentials_path()).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);

    // A second run reuses the saved credentials: no new orchestrators, except
    // for one the controller no longer knows, which is created again.
    ASSERT_EQ(
        http_request(rest_port(), "DELETE", "/api/v1/internal/orchestrators/" + id(5), "", auth)
            .status,
        200);
    SimProcess again(provision_args(5));
    ASSERT_TRUE(again.wait_for("all 5 orchestrators registered")) << again.log();
    EXPECT_NE(again.log().find("4 reused, 1 created"), std::string::npos) << again.log();
    EXPECT_EQ(orchestrators()["total"], 5);
    const auto resaved = sim::read_credentials_file(credentials_path());
    ASSERT_EQ(resaved.size(), 5u) << "one line per orchestrator";
    EXPECT_EQ(resaved[0].token, saved[0].token);
    EXPECT_EQ(resaved[4].orchestrator_id, id(5));
    EXPECT_NE(resaved[4].token, saved[4].token) << "the new credential replaced the stale one";

    // Deregistered while connected: the controller ends the session with
    // 1000, and the sim does not come back with a credential that is gone.
    ASSERT_EQ(
        http_request(rest_port(), "DELETE", "/api/v1/internal/orchestrators/" + id(4), "", auth)
            .status,
        200);
    ASSERT_TRUE(
        again.wait_for(id(4) + ": refused by the controller (deregistered); giving up on it"))
        << again.log();
    EXPECT_EQ(again.stop(SIGINT), 0);
    EXPECT_NE(again.log().find("received SIGINT, stopping"), std::string::npos);
    EXPECT_EQ(stat(again.log(), "refused"), 1);
}

TEST_F(SimAgainstController, AnAcceptedRecommendationIsDeliveredAndAcknowledged) {
    start();
    SimProcess sim(provision_args(5));
    ASSERT_TRUE(sim.wait_for("all 5 orchestrators registered")) << sim.log();
    const std::string target = id(3);
    HttpResult made =
        http_request(rest_port(), "POST", "/api/v1/internal/orchestrators/" + target + "/messages",
                     R"({"message_type":"recommendation","content":"rotate keys"})", auth);
    ASSERT_EQ(made.status, 201) << made.body;
    const std::string mid = json::parse(made.body)["message_id"];
    ASSERT_EQ(http_request(rest_port(), "PUT", "/api/v1/internal/messages/" + mid + "/status",
                           R"({"status":"accepted"})", auth)
                  .status,
              200);
    ASSERT_TRUE(sim.wait_for(target + ": recommendation " + mid +
                             " (recommendation): "
                             "\"rotate keys\" -> acked"))
        << sim.log();
    json state;
    EXPECT_TRUE(eventually([&] {
        HttpResult r = http_request(
            rest_port(), "GET", "/api/v1/internal/messages?orchestrator_id=" + target, "", auth);
        const json body = json::parse(r.body);  // the loop must not outlive it
        for (const json& m : body["data"])
            if (m["id"] == mid) state = m;
        return state.value("delivery_state", "") == "acknowledged";
    })) << state.dump();
    EXPECT_TRUE(state["acknowledged_at"].is_string());
    // At least once: the redelivery queued when the fleet registered may send
    // the message a second time; every copy must be acknowledged.
    EXPECT_TRUE(eventually([&] {
        const std::string log = sim.log();
        return stat(log, "messages") >= 1 && stat(log, "acked") == stat(log, "messages");
    })) << sim.log();
    EXPECT_EQ(sim.stop(), 0);
}

TEST_F(SimAgainstController, TheIndependenceToggleIsObeyed) {
    start();
    SimProcess sim(provision_args(5));
    ASSERT_TRUE(sim.wait_for("all 5 orchestrators registered")) << sim.log();
    const std::string target = id(2);
    const std::string path = "/api/v1/internal/orchestrators/" + target + "/independence";
    ASSERT_EQ(http_request(rest_port(), "PUT", path, R"({"is_independent":true})", auth).status,
              200);
    ASSERT_TRUE(sim.wait_for(target + ": stop_monitoring (independence_enabled): independent now; "
                                      "heartbeats continue, acked processed:false"))
        << sim.log();
    // It keeps sending heartbeats; the controller acks them unprocessed.
    EXPECT_TRUE(eventually([&] { return not_processed(sim.log()) >= 2; }, 10s)) << sim.log();
    bool independent = false;
    const json listing = orchestrators();
    for (const json& item : listing["items"])
        if (item["orchestrator_id"] == target) independent = item["status"] == "independent";
    EXPECT_TRUE(independent) << orchestrators().dump();

    ASSERT_EQ(http_request(rest_port(), "PUT", path, R"({"is_independent":false})", auth).status,
              200);
    ASSERT_TRUE(sim.wait_for(target + ": config_update")) << sim.log();
    EXPECT_NE(sim.log().find("monitoring resumed"), std::string::npos) << sim.log();
    EXPECT_TRUE(eventually([&] { return all_active(5); }));
    EXPECT_EQ(sim.stop(), 0);
    EXPECT_EQ(stat(sim.log(), "stop_monitoring"), 1);
    EXPECT_EQ(stat(sim.log(), "config_update"), 1);
}

TEST_F(SimAgainstController, ReconnectsOnItsOwnAfterTheControllerRestarts) {
    start();
    SimProcess sim(provision_args(5));
    ASSERT_TRUE(sim.wait_for("all 5 orchestrators registered (0 reconnects so far)")) << sim.log();
    ASSERT_TRUE(eventually([&] { return all_active(5); }));
    const uint16_t rest = controller->rest_port(), ws = controller->ws_port();
    const std::string data_dir = controller->data_dir();
    ASSERT_EQ(controller->stop(), 0);
    ASSERT_TRUE(sim.wait_for("reconnecting with backoff")) << sim.log();
    std::this_thread::sleep_for(1s);  // a few failed attempts while it is down

    auto env = kAdminEnv;
    for (const auto& kv : kFastEnv) env.emplace(kv);
    env["MOOLAI_DATA_DIR"] = data_dir;
    env["CONTROLLER_PORT"] = std::to_string(rest);
    env["CONTROLLER_WS_PORT"] = std::to_string(ws);
    ControllerProcess again(env);
    ASSERT_TRUE(again.wait_ready()) << again.log();
    rest_override = again.rest_port();
    auth = bearer(admin_token(again.rest_port()));
    ASSERT_TRUE(sim.wait_for("all 5 orchestrators registered (5 reconnects so far)", 20s))
        << sim.log();
    EXPECT_TRUE(eventually([&] { return all_active(5); })) << orchestrators().dump();
    EXPECT_GE(stat(sim.log(), "retries"), 5) << sim.log();
    EXPECT_EQ(sim.stop(), 0);
}

TEST_F(SimAgainstController, BadCredentialsAreRefusedOnceAndTheSimGivesUp) {
    start();
    // A real orchestrator with the wrong credential, and one that does not exist.
    http_request(rest_port(), "POST", "/api/v1/internal/organizations",
                 json{{"organization_id", prefix()}, {"name", prefix()}}.dump(), auth);
    ASSERT_EQ(
        http_request(rest_port(), "POST", "/api/v1/internal/orchestrators",
                     json{{"orchestrator_id", id(1)}, {"organization_id", prefix()}}.dump(), auth)
            .status,
        201);
    std::ofstream(credentials_path()) << id(1) << " wrong-credential\n" << id(2) << " whatever\n";
    const SimRun r = run_sim({"--url", url(), "--credentials", credentials_path(), "--backoff-base",
                              "0.05", "--backoff-cap", "0.1"});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find(id(1) + ": refused by the controller (invalid orchestrator "
                                    "credentials); giving up on it"),
              std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("refused every orchestrator"), std::string::npos) << r.output;
    // The controller logs one refusal line per address a minute (the others
    // are counted into the next line), so both refusals here make one line,
    // whichever came first. That the client does not retry a refused
    // credential is asserted in orchestrator_client_test.
    const std::string log = controller->log();
    size_t refusals = 0;
    const std::string needle = "refused register of \"";
    for (size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1))
        ++refusals;
    EXPECT_EQ(refusals, 1u) << log;
}

TEST_F(SimAgainstController, OpenModeNeedsNoCredentialsAndDurationEndsTheRun) {
    start({{"MOOLAI_ORCHESTRATOR_AUTH", "open"}});
    SimProcess sim({"--url", url(), "--open", "--count", "3", "--organization", prefix(),
                    "--id-prefix", prefix() + "-", "--duration", "4", "--stats-interval", "1",
                    "--token-on-upgrade"});
    ASSERT_TRUE(sim.wait_for("all 3 orchestrators registered")) << sim.log();
    EXPECT_TRUE(eventually([&] { return all_active(3); })) << orchestrators().dump();
    EXPECT_EQ(sim.wait_exit(15s), 0) << sim.log();
    EXPECT_NE(sim.log().find("duration reached, stopping"), std::string::npos);
    EXPECT_GE(stat(sim.log(), "heartbeat acks"), 6) << sim.log();
}

// Orchestrators connected to each controller right now, from its memory.
size_t live_on(uint16_t rest_port, const std::string& organization) {
    HttpResult r = http_request(rest_port, "GET", "/api/v1/controller/orchestrators/live", "",
                                bearer(admin_token(rest_port)));
    const json body = json::parse(r.body, nullptr, false);
    if (r.status != 200 || !body.is_object()) return 0;
    size_t n = 0;
    for (const json& item : body["data"]["items"]) n += item["organization_id"] == organization;
    return n;
}

// Two controllers (open mode; on PostgreSQL they share the database): the
// sim spreads its orchestrators evenly over both, and when one is killed its
// orchestrators move to the other.
TEST_F(SimAgainstController, SpreadsOverTwoControllersAndLeavesAKilledOne) {
    start({{"MOOLAI_ORCHESTRATOR_AUTH", "open"}});
    auto env = kAdminEnv;
    for (const auto& kv : kFastEnv) env.emplace(kv);
    env["MOOLAI_ORCHESTRATOR_AUTH"] = "open";
    ControllerProcess other(env);
    ASSERT_TRUE(other.wait_ready()) << other.log();
    const std::string other_url = "ws://127.0.0.1:" + std::to_string(other.ws_port()) + "/ws";
    SimProcess sim({"--url", url() + "," + other_url, "--open", "--count", "6", "--organization",
                    prefix(), "--id-prefix", prefix() + "-", "--stats-interval", "0.3",
                    "--backoff-cap", "1"});
    ASSERT_TRUE(sim.wait_for("all 6 orchestrators registered")) << sim.log();
    EXPECT_NE(sim.log().find("against " + url() + ", " + other_url), std::string::npos)
        << sim.log();
    EXPECT_TRUE(eventually([&] {
        return live_on(port(), prefix()) == 3 && live_on(other.rest_port(), prefix()) == 3;
    })) << live_on(port(), prefix())
        << " + " << live_on(other.rest_port(), prefix());
    EXPECT_TRUE(sim.wait_for("connected 6/6 (" + url() + " 3, " + other_url + " 3)")) << sim.log();

    controller->stop(5s, SIGKILL);
    ASSERT_TRUE(eventually([&] { return live_on(other.rest_port(), prefix()) == 6; }, 20s))
        << sim.log() << other.log();
    EXPECT_TRUE(sim.wait_for("connected 6/6 (" + url() + " 0, " + other_url + " 6)")) << sim.log();
    EXPECT_TRUE(sim.wait_for("failovers 3")) << sim.log();
    EXPECT_NE(sim.log().find(": failed over from " + url() + " to " + other_url), std::string::npos)
        << sim.log();
    EXPECT_EQ(sim.stop(), 0);
}

// SIGTERM while every upgrade is still unanswered (the controller is
// stopped with SIGSTOP), the controller answering right after: the upgrades
// complete after the clients were told to stop. The connected count never
// goes past the fleet or below zero, and ends at 0.
TEST_F(SimAgainstController, TheConnectedCountStaysTrueWhenStoppedDuringTheUpgrade) {
    start({{"MOOLAI_ORCHESTRATOR_AUTH", "open"}});
    const pid_t controller_pid = controller->pid();
    ASSERT_EQ(kill(controller_pid, SIGSTOP), 0);
    struct Resume {
        pid_t pid;
        ~Resume() { kill(pid, SIGCONT); }
    } resume{controller_pid};
    SimProcess sim({"--url", url(), "--open", "--count", "20", "--ramp-rate", "0", "--organization",
                    prefix(), "--id-prefix", prefix() + "-", "--stats-interval", "0.2"});
    ASSERT_TRUE(sim.wait_for("stats ")) << sim.log();  // past the first tick: all started
    sim.signal(SIGTERM);
    ASSERT_TRUE(sim.wait_for("received SIGTERM, stopping")) << sim.log();
    ASSERT_EQ(kill(controller_pid, SIGCONT), 0);
    EXPECT_EQ(sim.wait_exit(15s), 0) << sim.log();
    const std::string log = sim.log();
    const std::regex connected(R"(connected (\d+)/20)");
    std::string last;  // as printed: an underflow is 20 digits long
    for (auto it = std::sregex_iterator(log.begin(), log.end(), connected);
         it != std::sregex_iterator(); ++it) {
        last = (*it)[1];
        EXPECT_LE(last.size(), 2u) << log;
        if (last.size() <= 2) {
            EXPECT_LE(std::stoi(last), 20) << log;
        }
    }
    EXPECT_EQ(last, "0") << log;
}

TEST(SimCommandLine, HelpAndBadInputGiveClearAnswers) {
    const SimRun help = run_sim({"--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.output.find("Usage: moolai-orchestrator-sim"), std::string::npos);
    EXPECT_NE(help.output.find("Several controllers: repeat --url"), std::string::npos);

    const SimRun none = run_sim({});
    EXPECT_EQ(none.exit_code, 2);
    EXPECT_NE(none.output.find("--credentials FILE, --provision or --open"), std::string::npos)
        << none.output;

    const SimRun count = run_sim({"--open", "--count", "many"});
    EXPECT_EQ(count.exit_code, 2);
    EXPECT_NE(count.output.find("--count needs a whole number"), std::string::npos);

    const SimRun missing = run_sim({"--credentials", "/nonexistent/creds.txt"});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_NE(missing.output.find("cannot read credentials file /nonexistent/creds.txt"),
              std::string::npos)
        << missing.output;

    const std::string bad =
        fs::temp_directory_path() / ("moolai-sim-bad-" + std::to_string(getpid()));
    std::ofstream(bad) << "orch-1 token\norch-2\n";
    const SimRun malformed = run_sim({"--credentials", bad});
    EXPECT_EQ(malformed.exit_code, 2);
    EXPECT_NE(malformed.output.find(bad + ":2: expected \"orchestrator_id token\""),
              std::string::npos)
        << malformed.output;
    const SimRun too_many = run_sim({"--credentials", bad, "--count", "5"});
    fs::remove(bad);
    EXPECT_EQ(too_many.exit_code, 2);

    // Nothing listens on port 1: provisioning says so and exits 1.
    const SimRun unreachable =
        run_sim({"--provision", "--api", "http://127.0.0.1:1", "--api-token", "t"});
    EXPECT_EQ(unreachable.exit_code, 1) << unreachable.output;
    EXPECT_NE(unreachable.output.find("http://127.0.0.1:1/api/v1/controller/organizations/sim-org"),
              std::string::npos)
        << unreachable.output;

    // An https CA file that cannot be read: said before any connection.
    const SimRun no_ca = run_sim({"--provision", "--api", "https://127.0.0.1:1", "--api-token", "t",
                                  "--ca", "/nonexistent/ca.pem"});
    EXPECT_EQ(no_ca.exit_code, 1) << no_ca.output;
    EXPECT_NE(no_ca.output.find("--ca \"/nonexistent/ca.pem\": cannot be read"), std::string::npos)
        << no_ca.output;
}

}  // namespace
}  // namespace moolai::test
