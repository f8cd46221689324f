// Several controller hosts on one real PostgreSQL (scripts/with-postgres.sh):
// what is done on one host reaches an orchestrator connected to another,
// every host's dashboard stream sees every host's events, and a host killed
// with SIGKILL leaves nothing lost and no status wrong.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/fleet_fixture.hpp"

namespace moolai::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class MultiHost : public ::testing::Test {
protected:
    void SetUp() override {
        const char* db = std::getenv("DATABASE_HOST");
        if (db == nullptr || *db == '\0')
            GTEST_SKIP() << "DATABASE_HOST unset: run via scripts/with-postgres.sh";
        a = host("host-a");
        b = host("host-b");
        admin = admin_token(a->rest_port());
        ASSERT_FALSE(admin.empty());
    }
    void TearDown() override {
        if (stopped_postgres) run_pg_ctl("start");  // what a failed test left stopped
    }
    void stop_postgres() {
        stopped_postgres = true;
        ASSERT_EQ(run_pg_ctl("stop"), 0);
    }

    // A host on the shared database; short TTL and lease so deaths show fast.
    static std::unique_ptr<ControllerProcess> host(
        const std::string& id, const std::map<std::string, std::string>& extra = {}) {
        std::map<std::string, std::string> env = kAdminEnv;
        env["MOOLAI_HOST_ID"] = id;
        env["HEARTBEAT_TTL_SEC"] = "3";
        env["MOOLAI_CLUSTER_LEASE_SEC"] = "3";
        for (const auto& [k, v] : extra) env[k] = v;
        auto p = std::make_unique<ControllerProcess>(env);
        EXPECT_TRUE(p->wait_ready()) << p->log();
        return p;
    }
    static std::string ws_url(const ControllerProcess& p, const std::string& path = "/ws") {
        return "ws://127.0.0.1:" + std::to_string(p.ws_port()) + path;
    }
    static json registered(WsTestClient& ws, const ControllerProcess& p, const std::string& id,
                           const std::string& token) {
        EXPECT_TRUE(ws.connect(ws_url(p)));
        EXPECT_EQ(next(ws)["type"], "handshake_ack");
        ws.send(json{
            {"type", "register"},
            {"orchestrator_id", id},
            {"organization_id", "acme"},
            {"metadata", json::object()},
            {"token",
             token}}.dump());
        return next(ws);
    }
    // Creates `id` (through A), registers it on A and waits until B knows
    // A holds it. Returns its credential.
    std::string connected_to_a(WsTestClient& ws, const std::string& id) {
        const std::string token = issue(a->rest_port(), admin, "acme", id);
        EXPECT_EQ(registered(ws, *a, id, token)["type"], "provisioning") << a->log();
        EXPECT_TRUE(eventually([&] { return seen_by(*b, id).value("connected", false); }, 10s))
            << seen_by(*b, id) << b->log();
        return token;
    }
    // connected_to_a, then one heartbeat that A processed.
    std::string beating_on_a(WsTestClient& ws, const std::string& id) {
        const std::string token = connected_to_a(ws, id);
        ws.send(R"({"type":"i_am_alive"})");
        EXPECT_EQ(next_of(ws, "heartbeat_ack")["processed"], true);
        return token;
    }
    // The orchestrator as host `p` lists it.
    json seen_by(const ControllerProcess& p, const std::string& id) const {
        const HttpResult r =
            http_request(p.rest_port(), "GET", "/api/v1/controller/orchestrators?search=" + id, "",
                         bearer(admin));
        const json d = json::parse(r.body, nullptr, false);
        if (!d.is_object() || d["data"]["total"] != 1) return json::object();
        return d["data"]["items"][0];
    }
    // The value of one metric series on `p` (name with its labels); 0 when absent.
    double metric(const ControllerProcess& p, const std::string& series) const {
        const HttpResult m = http_request(p.rest_port(), "GET", "/metrics", "", bearer(admin));
        const std::string key = series + " ";
        const size_t at = m.body.find("\n" + key);
        return at == std::string::npos ? 0.0 : std::stod(m.body.substr(at + 1 + key.size()));
    }
    // A recommendation for `orch` made and accepted through `p`; its id.
    std::string accepted_on(const ControllerProcess& p, const std::string& orch) const {
        const HttpResult made = http_request(
            p.rest_port(), "POST", "/api/v1/internal/orchestrators/" + orch + "/messages",
            json{{"message_type", "recommendation"}, {"content", "scale down"}}.dump(),
            bearer(admin));
        EXPECT_EQ(made.status, 201) << made.body;
        const std::string id = json::parse(made.body).value("message_id", "");
        EXPECT_EQ(http_request(p.rest_port(), "PUT", "/api/v1/internal/messages/" + id + "/status",
                               R"({"status":"accepted"})", bearer(admin))
                      .status,
                  200);
        return id;
    }
    std::string delivery_state(const ControllerProcess& p, const std::string& orch,
                               const std::string& id) const {
        const json page = json::parse(
            http_request(p.rest_port(), "GET",
                         "/api/v1/internal/orchestrators/" + orch + "/messages", "", bearer(admin))
                .body);
        for (const json& m : page["data"])
            if (m["id"] == id) return m.value("delivery_state", "");
        return "missing";
    }
    // GET /api/v1/internal/cluster on `p`: its "data".
    json cluster_seen_by(const ControllerProcess& p) const {
        const HttpResult r =
            http_request(p.rest_port(), "GET", "/api/v1/internal/cluster", "", bearer(admin));
        EXPECT_EQ(r.status, 200) << r.body;
        return json::parse(r.body, nullptr, false)["data"];
    }
    // Runs `sql` on the shared database with psql; its exit code (non-zero
    // when a lock is not granted within 3 s: a stopped host may hold one).
    static int psql(const std::string& sql) { return std::system(psql_command(sql).c_str()); }
    // What `sql` printed (unaligned, no header); empty on failure.
    static std::string psql_out(const std::string& sql) {
        std::string out;
        if (FILE* f = popen(psql_command(sql, "").c_str(), "r")) {
            char buf[256];
            while (const size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
            if (pclose(f) != 0) out.clear();
        }
        while (!out.empty() && out.back() == '\n') out.pop_back();
        return out;
    }
    static std::string psql_command(const std::string& sql, const std::string& to = " >/dev/null") {
        return "PGPASSWORD='" + std::string(std::getenv("DATABASE_PASSWORD")) +
               "' PGOPTIONS='-c lock_timeout=3000' timeout 30 psql -qAt -v ON_ERROR_STOP=1 -h " +
               std::getenv("DATABASE_HOST") + " -p " + std::getenv("DATABASE_PORT") + " -U " +
               std::getenv("DATABASE_USER") + " -d " + std::getenv("DATABASE_NAME") + " -c \"" +
               sql + "\"" + to;
    }
    // Status changes to inactive on `stream`, per orchestrator, for `within`;
    // once `watched` turned inactive, for `after` more (a second one would be
    // flapping). `each` runs every turn (e.g. a heartbeat).
    static std::map<std::string, int> inactive_events(WsTestClient& stream,
                                                      const std::string& watched,
                                                      std::chrono::seconds within,
                                                      std::chrono::seconds after,
                                                      const std::function<void()>& each = {}) {
        std::map<std::string, int> count;
        auto until = std::chrono::steady_clock::now() + within;
        bool extended = false;
        while (std::chrono::steady_clock::now() < until) {
            if (each) each();
            const json e = next(stream, 500);
            if (e.is_object() && e.value("kind", "") == "status_changed" &&
                e.value("new_value", "") == "inactive")
                ++count[e.value("orchestrator_id", "")];
            if (count[watched] > 0 && !extended) {
                until = std::chrono::steady_clock::now() + after;
                extended = true;
            }
        }
        return count;
    }
    // The dashboard's live stream on `p`, subscribed as the superadmin.
    void subscribe(WsTestClient& stream, const ControllerProcess& p) const {
        ASSERT_TRUE(stream.connect(ws_url(p, "/api/v1/events")));
        stream.send(json{{"type", "subscribe"}, {"token", admin}}.dump());
        ASSERT_EQ(next(stream)["type"], "subscribed");
    }
    // The next frame of `type` within `timeout`, skipping others; null if none.
    static json next_of(WsTestClient& ws, const std::string& type,
                        std::chrono::milliseconds timeout = 10s) {
        const auto until = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < until) {
            const json f = next(ws, 500);
            if (f.is_object() && f.value("type", "") == type) return f;
        }
        return json();
    }
    // The frame forwarding message `id`, within 10 s.
    static bool forwarded(WsTestClient& ws, const std::string& id) {
        return eventually([&] { return next(ws, 500).value("message_id", "") == id; }, 10s);
    }

    std::unique_ptr<ControllerProcess> a, b;
    std::string admin;
    bool stopped_postgres = false;
};

// A toggle on B reaches the orchestrator connected to A at once, and A's
// heartbeat answers follow it; an orchestrator created on B registers on A
// at once (A's register waits for B's notice that it exists).
TEST_F(MultiHost, AToggleOnBStopsMonitoringAtTheOrchestratorOnA) {
    const std::string token = issue(b->rest_port(), admin, "acme", "mh-1");  // made on B
    WsTestClient ws;
    ASSERT_EQ(registered(ws, *a, "mh-1", token)["type"], "provisioning") << a->log();
    ws.send(R"({"type":"i_am_alive"})");
    EXPECT_EQ(next_of(ws, "heartbeat_ack")["processed"], true);
    ASSERT_TRUE(eventually([&] { return seen_by(*b, "mh-1").value("connected", false); }, 10s))
        << seen_by(*b, "mh-1") << b->log();

    const HttpResult put =
        http_request(b->rest_port(), "PUT", "/api/v1/internal/orchestrators/mh-1/independence",
                     R"({"is_independent":true})", bearer(admin));
    ASSERT_EQ(put.status, 200) << put.body;
    const json stop = next_of(ws, "stop_monitoring");
    ASSERT_TRUE(stop.is_object()) << "no stop_monitoring at A\n" << a->log() << b->log();
    EXPECT_EQ(stop["orchestrator_id"], "mh-1");
    // A's own memory follows: the next heartbeat is not processed.
    ASSERT_TRUE(eventually(
        [&] {
            ws.send(R"({"type":"i_am_alive"})");
            const json ack = next_of(ws, "heartbeat_ack", 2s);
            return ack.is_object() && ack["processed"] == false;
        },
        10s));
    EXPECT_EQ(seen_by(*a, "mh-1")["status"], "independent");
}

// A host whose fleet beats renews its lease in its heartbeat batches
// (ABI 1.5), not in transactions of its own.
TEST_F(MultiHost, TheLeaseRidesOnTheHeartbeatBatches) {
    WsTestClient ws;
    connected_to_a(ws, "mh-11");
    const auto renewals = [&](const std::string& with) {
        return metric(*a, "moolai_cluster_lease_renewals_total{with=\"" + with + "\"}");
    };
    const double batch0 = renewals("batch"), alone0 = renewals("none");
    // Heartbeats for 6 s, one a second (the test lease is 3 s, renewed each 1 s).
    const auto until = std::chrono::steady_clock::now() + 6s;
    while (std::chrono::steady_clock::now() < until) {
        ws.send(R"({"type":"i_am_alive"})");
        ASSERT_EQ(next_of(ws, "heartbeat_ack")["processed"], true);
        next(ws, 1000);  // paces the heartbeats; nothing else is sent to it
    }
    const double by_batch = renewals("batch") - batch0, alone = renewals("none") - alone0;
    EXPECT_GE(by_batch, 3) << "alone: " << alone << "\n" << a->log();
    EXPECT_LT(alone, by_batch) << a->log();
}

// A storage plugin built for ABI 1.4 has no heartbeats_write_leased: hosts
// on it write their heartbeat batches alone and renew their leases apart,
// and still make one cluster.
TEST_F(MultiHost, WithAStoragePluginBuiltFor14TheLeaseIsRenewedApart) {
    const std::string config = a->data_dir() + "/storage-as-1.4.json";  // a folder this test owns
    {
        std::ofstream out(config);
        out << json{{"plugins",
                     {{{"name", "storage_postgres"}, {"path", STORAGE_AS_1_4}},
                      {{"name", "auth_local"}},
                      {{"name", "independence_default"}},
                      {{"name", "messaging_default"}}}}}
                   .dump();
    }
    const auto old_host = [&](const std::string& id) {
        std::map<std::string, std::string> env = kAdminEnv;
        env["MOOLAI_HOST_ID"] = id;
        env["HEARTBEAT_TTL_SEC"] = "3";
        env["MOOLAI_CLUSTER_LEASE_SEC"] = "3";
        auto p = std::make_unique<ControllerProcess>(env, std::vector<std::string>{"--config", config});
        EXPECT_TRUE(p->wait_ready()) << p->log();
        return p;
    };
    auto c = old_host("host-c14"), d = old_host("host-d14");
    ASSERT_NE(c->log().find("loaded plugin storage_postgres 1.0.0 (ABI 1.4, storage"),
              std::string::npos)
        << c->log();
    const auto renewals = [&](const std::string& with) {
        return metric(*c, "moolai_cluster_lease_renewals_total{with=\"" + with + "\"}");
    };
    const double alone0 = renewals("none");

    const std::string token = issue(d->rest_port(), admin, "acme", "mh-14");  // made on D
    WsTestClient ws;
    ASSERT_EQ(registered(ws, *c, "mh-14", token)["type"], "provisioning") << c->log();
    // Heartbeats for 4 s, one a second (the lease is 3 s, renewed each 1 s).
    const auto until = std::chrono::steady_clock::now() + 4s;
    while (std::chrono::steady_clock::now() < until) {
        ws.send(R"({"type":"i_am_alive"})");
        ASSERT_EQ(next_of(ws, "heartbeat_ack")["processed"], true);
        next(ws, 1000);  // paces the heartbeats; nothing else is sent to it
    }
    EXPECT_EQ(renewals("batch"), 0) << c->log();
    EXPECT_GE(renewals("none") - alone0, 2) << c->log();
    // Still one cluster: D sees C's orchestrator active and connected, and
    // C's batches stored its heartbeats.
    EXPECT_TRUE(eventually(
        [&] {
            const json o = seen_by(*d, "mh-14");
            return o.value("connected", false) && o.value("status", "") == "active";
        },
        10s))
        << seen_by(*d, "mh-14") << c->log() << d->log();
    EXPECT_EQ(c->log().find("batched heartbeat write failed"), std::string::npos) << c->log();
}

// Each host tells an operator the cluster as it sees it: both hosts alive,
// one leader, and who holds how many connections.
TEST_F(MultiHost, EachHostListsBothHostsOneLeaderAndWhoHoldsWhat) {
    WsTestClient ws;
    connected_to_a(ws, "mh-cl");
    const auto cluster = [&](const ControllerProcess& p) { return cluster_seen_by(p); };
    // A's connection as B counts it, from A's notifications.
    const auto a_on_b = [&]() -> json {
        const json seen = cluster(*b);  // kept: the loop borrows from it
        for (const json& h : seen["hosts"])
            if (h["host_id"] == "host-a") return h;
        return json::object();
    };
    ASSERT_TRUE(eventually([&] { return a_on_b().value("connected", 0) == 1; }, 10s))
        << cluster(*b);
    const json on_a = cluster(*a), on_b = cluster(*b);
    EXPECT_EQ(on_b["enabled"], true);
    EXPECT_EQ(on_b["host_id"], "host-b");
    EXPECT_EQ(on_b["lease_sec"], 3);
    ASSERT_EQ(on_b["hosts"].size(), 2u) << on_b;
    for (const json& h : on_b["hosts"]) {
        EXPECT_EQ(h["alive"], true) << h;
        EXPECT_EQ(h["this_host"], h["host_id"] == "host-b") << h;
        EXPECT_TRUE(h["info"]["version"].is_string()) << h;
        EXPECT_GT(unix_ms_of(h["lease_until"].get<std::string>()), 0) << h;
    }
    EXPECT_EQ(a_on_b()["connected"], 1);
    // One leader, the same on both, and only it says it leads.
    ASSERT_TRUE(on_a["leader"].is_string()) << on_a;
    EXPECT_EQ(on_a["leader"], on_b["leader"]);
    EXPECT_NE(on_a["this_host_leads"], on_b["this_host_leads"]);
    EXPECT_EQ(on_a["this_host_leads"], on_a["leader"] == "host-a");
}

// An id no host knows is still refused (1008), once the wait for another
// host's notice has passed.
TEST_F(MultiHost, AnIdNoHostKnowsIsRefusedAfterTheWait) {
    WsTestClient ws;
    const json answer = registered(ws, *a, "mh-nobody", "not-a-token");
    EXPECT_FALSE(answer.is_object() && answer.value("type", "") == "provisioning") << answer;
    EXPECT_EQ(ws.wait_closed(10s), std::optional<uint16_t>(1008)) << a->log();
}

// A recommendation accepted on B goes out through A, and A's record of the
// acknowledgement is what B reads.
TEST_F(MultiHost, ARecommendationAcceptedOnBIsDeliveredViaAAndAcknowledged) {
    WsTestClient ws;
    connected_to_a(ws, "mh-2");
    const std::string id = accepted_on(*b, "mh-2");
    ASSERT_TRUE(forwarded(ws, id)) << a->log() << b->log();
    ws.send(json{{"type", "message_ack"}, {"message_id", id}}.dump());
    EXPECT_TRUE(eventually([&] { return delivery_state(*b, "mh-2", id) == "acknowledged"; }, 10s))
        << delivery_state(*b, "mh-2", id);
}

// B's dashboard stream sees an orchestrator connected to A turn inactive
// (decided by A, its holder), and B's listing agrees.
TEST_F(MultiHost, TheDashboardStreamOnBSeesAnOrchestratorOnATurnInactive) {
    WsTestClient stream;
    subscribe(stream, *b);
    WsTestClient ws;
    beating_on_a(ws, "mh-3");
    bool saw_active = false, saw_inactive = false;
    const auto until = std::chrono::steady_clock::now() + 15s;
    while (!saw_inactive && std::chrono::steady_clock::now() < until) {
        const json e = next(stream, 500);
        if (!e.is_object() || e.value("orchestrator_id", "") != "mh-3") continue;
        if (e["kind"] == "status_changed" && e["new_value"] == "active") saw_active = true;
        if (e["kind"] == "status_changed" && e["new_value"] == "inactive") saw_inactive = true;
    }
    EXPECT_TRUE(saw_active) << b->log();
    EXPECT_TRUE(saw_inactive) << a->log() << b->log();
    EXPECT_EQ(seen_by(*b, "mh-3")["status"], "inactive");
}

// The dashboard's freshness poll on B tells the last heartbeat of an
// orchestrator connected to A, although B's memory never sees it (heartbeats
// move no event): B reads A's batch from storage.
TEST_F(MultiHost, BsLastSeenOfAnOrchestratorOnAFollowsItsHeartbeats) {
    WsTestClient ws;
    connected_to_a(ws, "mh-10");
    const auto last_seen_on_b = [&]() -> int64_t {
        const HttpResult r = http_request(b->rest_port(), "GET",
                                          "/api/v1/controller/orchestrators/last-seen?ids=mh-10",
                                          "", bearer(admin));
        const json d = json::parse(r.body, nullptr, false);
        if (!d.is_object() || d["data"]["items"].size() != 1) return -1;
        const json& seen = d["data"]["items"][0]["last_seen"];
        return seen.is_string() ? unix_ms_of(seen.get<std::string>()) : 0;
    };
    // Heartbeats for 4 s (one a second): the last one's time, to the second,
    // is what B must come to tell.
    int64_t sent_ms = 0;
    const auto until = std::chrono::steady_clock::now() + 4s;
    while (std::chrono::steady_clock::now() < until) {
        ws.send(R"({"type":"i_am_alive"})");
        ASSERT_EQ(next_of(ws, "heartbeat_ack")["processed"], true);
        sent_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
        next(ws, 1000);  // paces the heartbeats; nothing else is sent to it
    }
    EXPECT_TRUE(eventually([&] { return last_seen_on_b() >= sent_ms / 1000 * 1000 - 1000; }, 10s))
        << "B tells " << last_seen_on_b() << ", the last heartbeat was at " << sent_ms << "\n"
        << b->log();
}

// A credential rotated on B cuts the connection made with the old one on A
// (1008); a deregistration on B closes the orchestrator's connection on A.
TEST_F(MultiHost, RotationAndDeregistrationOnBCloseTheConnectionOnA) {
    WsTestClient w1, w2;
    const std::string t1 = connected_to_a(w1, "mh-6");
    connected_to_a(w2, "mh-7");

    const HttpResult rotated =
        http_request(b->rest_port(), "POST", "/api/v1/internal/orchestrators/mh-6/credentials", "",
                     bearer(admin));
    ASSERT_EQ(rotated.status, 200) << rotated.body;
    EXPECT_EQ(w1.wait_closed(10s), std::optional<uint16_t>(1008)) << a->log();
    // The old credential no longer opens a session on A; the new one does.
    WsTestClient again;
    EXPECT_NE(registered(again, *a, "mh-6", t1)["type"], "provisioning");
    WsTestClient fresh;
    const std::string t1b = json::parse(rotated.body)["data"]["token"].get<std::string>();
    EXPECT_EQ(registered(fresh, *a, "mh-6", t1b)["type"], "provisioning");

    ASSERT_EQ(http_request(b->rest_port(), "DELETE", "/api/v1/internal/orchestrators/mh-7", "",
                           bearer(admin))
                  .status,
              200);
    EXPECT_TRUE(w2.wait_closed(10s).has_value()) << a->log();
    EXPECT_EQ(http_request(a->rest_port(), "GET", "/api/v1/internal/orchestrators/mh-7", "",
                           bearer(admin))
                  .status,
              404);
}

// An orchestrator still connected to A, as far as A knows (half-open: its
// peer moved on and no close reached A), registers on B. A closes what it
// held, as one host does for a newer connection, and leaves the status to
// B: with heartbeats on B, nobody turns it inactive, and both hosts list
// it as connected.
TEST_F(MultiHost, ARegisterOnBReplacesAConnectionStillHeldOnA) {
    WsTestClient stream;
    subscribe(stream, *a);
    WsTestClient stale;
    const std::string token = connected_to_a(stale, "mh-9");
    WsTestClient moved;
    ASSERT_EQ(registered(moved, *b, "mh-9", token)["type"], "provisioning") << b->log();
    EXPECT_EQ(stale.wait_closed(10s), std::optional<uint16_t>(1000)) << a->log();

    // Three TTLs of heartbeats on B (one a second) while A's stream is read.
    int inactive = 0;
    const auto until = std::chrono::steady_clock::now() + 9s;
    while (std::chrono::steady_clock::now() < until) {
        moved.send(R"({"type":"i_am_alive"})");
        ASSERT_EQ(next_of(moved, "heartbeat_ack")["processed"], true);
        for (json e = next(stream, 1000); e.is_object(); e = next(stream, 0))
            if (e.value("orchestrator_id", "") == "mh-9" &&
                e.value("kind", "") == "status_changed" && e.value("new_value", "") == "inactive")
                ++inactive;
    }
    EXPECT_EQ(inactive, 0) << a->log() << b->log();
    for (const auto* p : {a.get(), b.get()}) {
        const json seen = seen_by(*p, "mh-9");
        EXPECT_EQ(seen["status"], "active") << seen;
        EXPECT_EQ(seen["connected"], true) << seen;
    }
}

// PostgreSQL restarts: what was sent meanwhile is lost, so each host
// listens again and reads the shared state anew; what is done afterwards
// crosses hosts as before.
TEST_F(MultiHost, AfterAPostgresRestartTheHostsListenAgainAndResynchronise) {
    if (pg_ctl().empty()) GTEST_SKIP() << "needs scripts/with-postgres.sh's pg_ctl wrapper";
    WsTestClient ws;
    connected_to_a(ws, "mh-8");
    ASSERT_EQ(run_pg_ctl("restart"), 0);
    const auto resyncs = [&](const ControllerProcess& p) {
        return metric(p, "moolai_cluster_resyncs_total");
    };
    EXPECT_TRUE(eventually([&] { return resyncs(*a) >= 1 && resyncs(*b) >= 1; }, 30s))
        << a->log() << b->log();
    // Still one fleet: a toggle on B reaches A.
    ASSERT_TRUE(eventually(
        [&] {
            return http_request(b->rest_port(), "PUT",
                                "/api/v1/internal/orchestrators/mh-8/independence",
                                R"({"is_independent":true})", bearer(admin))
                       .status == 200;
        },
        20s));
    EXPECT_TRUE(next_of(ws, "stop_monitoring", 10s).is_object()) << a->log() << b->log();
}

// While PostgreSQL is away a host's notifications wait; past
// MOOLAI_CLUSTER_QUEUE_MAX the oldest are dropped, and the other hosts,
// told so first when it is back, read the shared state anew.
TEST_F(MultiHost, PastTheQueueBoundWhileStorageIsAwayTheOthersResynchronise) {
    if (pg_ctl().empty()) GTEST_SKIP() << "needs scripts/with-postgres.sh's pg_ctl wrapper";
    // A lease that outlasts the outage, so B still counts C as alive.
    auto c = host("host-c", {{"MOOLAI_CLUSTER_QUEUE_MAX", "5"}, {"MOOLAI_CLUSTER_LEASE_SEC", "30"}});
    const std::string token = issue(c->rest_port(), admin, "acme", "mh-q");
    ASSERT_TRUE(eventually([&] { return !seen_by(*b, "mh-q").empty(); }, 10s)) << b->log();

    stop_postgres();
    // Each register and close is an event for the other hosts: 16 of them.
    for (int i = 0; i < 8; ++i) {
        WsTestClient ws;
        ASSERT_EQ(registered(ws, *c, "mh-q", token)["type"], "provisioning") << c->log();
        ws.close();
        ASSERT_TRUE(ws.wait_closed(5s).has_value());
    }
    WsTestClient ws;
    ASSERT_EQ(registered(ws, *c, "mh-q", token)["type"], "provisioning") << c->log();
    EXPECT_TRUE(eventually(
        [&] { return c->log().find("(MOOLAI_CLUSTER_QUEUE_MAX); the oldest are dropped") !=
                     std::string::npos; },
        5s))
        << c->log();
    ASSERT_EQ(run_pg_ctl("start"), 0);

    // B ends where C is: C holds mh-q's connection. (C's notice that it
    // dropped some may reach B before B listens again; B reads the state
    // anew either way.)
    EXPECT_TRUE(eventually([&] { return seen_by(*b, "mh-q").value("connected", false); }, 15s))
        << seen_by(*b, "mh-q") << b->log() << c->log();
    EXPECT_GE(metric(*b, "moolai_cluster_resyncs_total"), 1) << b->log();
}

// A spilled notification whose row is gone when the listener reads it:
// each host is told the channel lost something, and reads the shared state
// anew. A status change it missed with the notification reaches its
// dashboards then.
TEST_F(MultiHost, ASpilledNotificationGoneBeforeItIsReadMakesTheHostsResynchronise) {
    const auto resyncs = [&](const ControllerProcess& p) {
        return metric(p, "moolai_cluster_resyncs_total");
    };
    WsTestClient stream;
    subscribe(stream, *b);
    issue(a->rest_port(), admin, "acme", "mh-missed");
    ASSERT_TRUE(
        eventually([&] { return seen_by(*b, "mh-missed").value("status", "") == "inactive"; }));
    const double a0 = resyncs(*a), b0 = resyncs(*b);
    // A change whose notification was lost (the row as a holder would write
    // it), then what storage_postgres sends for a payload in
    // notification_spill row 999999999, which does not exist.
    ASSERT_EQ(psql("UPDATE orchestrator_instances SET status = 'active' "
                   "WHERE orchestrator_id = 'mh-missed'; "
                   "INSERT INTO orchestrator_liveness (orchestrator_id, last_seen) "
                   "VALUES ('mh-missed', now())"),
              0);
    ASSERT_EQ(psql("SELECT pg_notify('moolai_cluster', 's999999999')"), 0);
    EXPECT_TRUE(eventually([&] { return resyncs(*a) > a0 && resyncs(*b) > b0; }, 10s))
        << a->log() << b->log();
    EXPECT_NE(a->log().find("was gone before it was read"), std::string::npos) << a->log();
    EXPECT_TRUE(eventually(
        [&] {
            const json e = next(stream, 500);
            return e.is_object() && e.value("kind", "") == "status_changed" &&
                   e.value("orchestrator_id", "") == "mh-missed" &&
                   e.value("new_value", "") == "active";
        },
        10s))
        << b->log();
    // Still one fleet afterwards.
    WsTestClient ws;
    connected_to_a(ws, "mh-spill");
}

// A dies (SIGKILL): its orchestrator reconnects to B and gets what was
// accepted meanwhile; one that does not come back is turned inactive by
// the host that leads once A's lease ends -- once, with no flapping.
TEST_F(MultiHost, WhenAHostIsKilledItsOrchestratorsMoveAndNothingIsLost) {
    WsTestClient stream;
    subscribe(stream, *b);
    std::string t4;
    {
        WsTestClient w1, w2;
        t4 = beating_on_a(w1, "mh-4");
        beating_on_a(w2, "mh-5");
        // B has heard they are active (a host killed within milliseconds of
        // a change takes its notification with it).
        ASSERT_TRUE(eventually([&] {
            return seen_by(*b, "mh-4").value("status", "") == "active" &&
                   seen_by(*b, "mh-5").value("status", "") == "active";
        }));
        EXPECT_EQ(a->stop(2s, SIGKILL), -1);
    }
    // Accepted on B while mh-4 has no connection anywhere: it waits.
    const std::string id = accepted_on(*b, "mh-4");

    // mh-4 comes back on B and gets it; mh-5 never comes back.
    WsTestClient moved;
    ASSERT_EQ(registered(moved, *b, "mh-4", t4)["type"], "provisioning") << b->log();
    ASSERT_TRUE(forwarded(moved, id)) << b->log();
    moved.send(json{{"type", "message_ack"}, {"message_id", id}}.dump());

    // Keep mh-4 alive while mh-5 is decided: inactive once, mh-4 never.
    // After the flip, two more TTLs are watched for a second one.
    auto inactive =
        inactive_events(stream, "mh-5", 25s, 6s, [&] { moved.send(R"({"type":"i_am_alive"})"); });
    EXPECT_EQ(inactive["mh-5"], 1) << b->log();
    EXPECT_EQ(inactive["mh-4"], 0) << b->log();
    const json m4 = seen_by(*b, "mh-4"), m5 = seen_by(*b, "mh-5");
    EXPECT_EQ(m4["status"], "active") << m4;
    EXPECT_EQ(m4["connected"], true) << m4;
    EXPECT_EQ(m5["status"], "inactive") << m5;
    EXPECT_EQ(m5["connected"], false) << m5;
    EXPECT_TRUE(eventually([&] { return delivery_state(*b, "mh-4", id) == "acknowledged"; }))
        << delivery_state(*b, "mh-4", id);
    // B's operators still see A, not alive (an hour), and B leading.
    const json seen = cluster_seen_by(*b);
    EXPECT_EQ(seen["leader"], "host-b") << seen;
    ASSERT_EQ(seen["hosts"].size(), 2u) << seen;
    for (const json& h : seen["hosts"]) EXPECT_EQ(h["alive"], h["host_id"] == "host-b") << seen;
}

// A killed host may have told a heartbeat and died before its batch wrote
// it (here: A paused, and its row set back as if that batch never came).
// B keeps what it heard: the orchestrator gets its TTL, then turns inactive
// once, where B's dashboards see it. (Taking the older row turned it
// inactive at once and silently.) A TTL longer than the lease, so that B
// finds A gone before the heartbeat's TTL ends.
TEST_F(MultiHost, AHostKilledBeforeItsLastWriteLeavesWhatTheOthersHeard) {
    a.reset();
    b.reset();
    a = host("host-a", {{"HEARTBEAT_TTL_SEC", "8"}});
    b = host("host-b", {{"HEARTBEAT_TTL_SEC", "8"}});
    WsTestClient stream;
    subscribe(stream, *b);
    {
        WsTestClient w;
        beating_on_a(w, "mh-late");
        ASSERT_TRUE(
            eventually([&] { return seen_by(*b, "mh-late").value("status", "") == "active"; }));
        // Stopped inside a heartbeat batch, A holds mh-late's rows until a
        // commit that never comes (a CI run hung here): the write then times
        // out on its lock; A goes on until no transaction is open, and is
        // stopped again.
        bool forgotten = false;
        for (int tries = 0; tries < 10; ++tries) {
            ASSERT_EQ(kill(a->pid(), SIGSTOP), 0);
            forgotten = psql(
                            "UPDATE orchestrator_instances SET status = 'inactive' "
                            "WHERE orchestrator_id = 'mh-late'; "
                            "DELETE FROM orchestrator_liveness "
                            "WHERE orchestrator_id = 'mh-late'") == 0;
            if (forgotten) break;
            ASSERT_EQ(kill(a->pid(), SIGCONT), 0);
            EXPECT_TRUE(eventually([] {
                return psql_out(
                           "SELECT count(*) FROM pg_stat_activity "
                           "WHERE state LIKE 'idle in transaction%'") == "0";
            }));
        }
        ASSERT_TRUE(forgotten) << "mh-late's rows stayed locked";
        EXPECT_EQ(a->stop(2s, SIGKILL), -1);
    }
    ASSERT_TRUE(
        eventually([&] { return b->log().find("host host-a is gone") != std::string::npos; }, 15s))
        << b->log();
    EXPECT_EQ(seen_by(*b, "mh-late")["status"], "active") << b->log();
    auto inactive = inactive_events(stream, "mh-late", 20s, 10s);
    EXPECT_EQ(inactive["mh-late"], 1) << b->log();
    EXPECT_EQ(seen_by(*b, "mh-late")["status"], "inactive");
}

}  // namespace
}  // namespace moolai::test
