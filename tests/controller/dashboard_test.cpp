// What the dashboard polls to stay fresh and truthful: the in-memory
// last-seen summary of the rows on a page and the rolling status history of
// the overview chart. Real controller, real sockets; both tenant-scoped.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "support/fleet_fixture.hpp"

namespace moolai::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class Dashboard : public ControllerTest {
protected:
    json get(const std::string& path, const std::string& token, int expect = 200) {
        const auto r = http_request(port(), "GET", path, "", bearer(token));
        EXPECT_EQ(r.status, expect) << path << ": " << r.body;
        return r.body.empty() ? json() : json::parse(r.body, nullptr, false);
    }
};

TEST_F(Dashboard, LastSeenSummaryIsFreshAndTenantScoped) {
    start();
    const std::string ta = issue(port(), admin, "tenant-a", "da-1");
    issue(port(), admin, "tenant-b", "db-1");
    const std::string alice = make_org_admin(port(), admin, "alice", "tenant-a");

    WsTestClient a;
    ASSERT_EQ(connect_and_register(a, "da-1", ta)["type"], "provisioning");
    a.send(R"({"type":"i_am_alive","orchestrator_id":"da-1"})");
    ASSERT_EQ(next(a)["processed"], true);

    const json root = get("/api/v1/controller/orchestrators/last-seen?ids=da-1,db-1,nope", admin);
    const json& items = root["data"]["items"];
    ASSERT_EQ(items.size(), 2u) << root;
    EXPECT_EQ(items[0]["orchestrator_id"], "da-1");
    EXPECT_EQ(items[0]["status"], "active");
    EXPECT_EQ(items[0]["connected"], true);
    EXPECT_EQ(items[1]["status"], "inactive");
    EXPECT_TRUE(items[1]["last_seen"].is_null());
    // The heartbeat just sent, not the last batch written to storage.
    const int64_t seen = unix_ms_of(items[0]["last_seen"].get<std::string>());
    const int64_t server = unix_ms_of(root["data"]["server_time"].get<std::string>());
    EXPECT_LE(server - seen, 2000) << root;
    EXPECT_GE(server - seen, 0) << root;
    EXPECT_GT(root["data"]["heartbeat_ttl_sec"].get<double>(), 0);

    // A second heartbeat moves it forward at once.
    a.send(R"({"type":"i_am_alive","orchestrator_id":"da-1"})");
    ASSERT_EQ(next(a)["processed"], true);
    const json again = get("/api/v1/controller/orchestrators/last-seen?ids=da-1", admin);
    EXPECT_GE(unix_ms_of(again["data"]["items"][0]["last_seen"].get<std::string>()), seen);

    // An org_admin sees their organization's rows only; others' ids are left out.
    const json scoped = get("/api/v1/controller/orchestrators/last-seen?ids=da-1,db-1", alice);
    ASSERT_EQ(scoped["data"]["items"].size(), 1u) << scoped;
    EXPECT_EQ(scoped["data"]["items"][0]["orchestrator_id"], "da-1");

    // Independence wins, as in the listings.
    ASSERT_EQ(http_request(port(), "PUT", "/api/v1/internal/orchestrators/da-1/independence",
                           R"({"is_independent":true})", bearer(admin))
                  .status,
              200);
    const json indep = get("/api/v1/controller/orchestrators/last-seen?ids=da-1", alice);
    EXPECT_EQ(indep["data"]["items"][0]["status"], "independent");
    EXPECT_EQ(indep["data"]["items"][0]["is_independent"], true);

    std::string many;
    for (int i = 0; i < 1001; ++i) many += "x" + std::to_string(i) + ",";
    get("/api/v1/controller/orchestrators/last-seen?ids=" + many, admin, 400);
    EXPECT_EQ(
        http_request(port(), "GET", "/api/v1/controller/orchestrators/last-seen?ids=da-1").status,
        401);
}

TEST_F(Dashboard, StatusHistoryKeepsRollingCountsPerTenant) {
    // Names of its own: on PostgreSQL the tests of one run share a database.
    start({{"MOOLAI_STATUS_HISTORY_INTERVAL_MS", "200"}});
    const std::string ta = issue(port(), admin, "hist-a", "ha-1");
    issue(port(), admin, "hist-a", "ha-2");
    issue(port(), admin, "hist-b", "hb-1");
    const std::string hal = make_org_admin(port(), admin, "hal", "hist-a");

    WsTestClient a;
    ASSERT_EQ(connect_and_register(a, "ha-1", ta)["type"], "provisioning");
    a.send(R"({"type":"i_am_alive","orchestrator_id":"ha-1"})");
    ASSERT_EQ(next(a)["processed"], true);
    ASSERT_EQ(http_request(port(), "PUT", "/api/v1/internal/orchestrators/hb-1/independence",
                           R"({"is_independent":true})", bearer(admin))
                  .status,
              200);

    // Samples taken after the changes show them, per organization ...
    json a_hist;
    ASSERT_TRUE(eventually(
        [&] {
            a_hist = get("/api/v1/controller/status-history?hours=1&organization_id=hist-a", admin);
            const json& items = a_hist["data"]["items"];
            return items.size() >= 3 && items[items.size() - 2]["active"] == 1 &&
                   items[items.size() - 2]["inactive"] == 1;
        },
        5s))
        << a_hist;
    EXPECT_DOUBLE_EQ(a_hist["data"]["interval_sec"].get<double>(), 0.2);
    EXPECT_EQ(a_hist["data"]["organization_id"], "hist-a");
    const json& last = a_hist["data"]["items"].back();  // "now"
    EXPECT_EQ(last["active"], 1);
    EXPECT_EQ(last["inactive"], 1);
    EXPECT_EQ(last["independent"], 0);
    // ... oldest first, and the first sample predates the heartbeat.
    const json& first = a_hist["data"]["items"].front();
    EXPECT_LE(first["time"].get<std::string>(), last["time"].get<std::string>());
    EXPECT_EQ(first["active"], 0);
    const json b_hist = get("/api/v1/controller/status-history?organization_id=hist-b", admin);
    EXPECT_EQ(b_hist["data"]["items"].back()["independent"], 1);
    EXPECT_EQ(b_hist["data"]["items"].back()["active"], 0);

    // ... summed over the fleet for a superadmin who names none ...
    const json fleet = get("/api/v1/controller/status-history?hours=1", admin);
    EXPECT_TRUE(fleet["data"]["organization_id"].is_null());
    EXPECT_GE(fleet["data"]["items"].back()["active"].get<int>(), 1);
    EXPECT_GE(fleet["data"]["items"].back()["independent"].get<int>(), 1);

    // ... and the org_admin's own organization whatever they ask.
    const json mine = get("/api/v1/controller/status-history?hours=1", hal);
    EXPECT_EQ(mine["data"]["organization_id"], "hist-a");
    EXPECT_EQ(mine["data"]["items"].back()["active"], 1);
    EXPECT_EQ(mine["data"]["items"].back()["inactive"], 1);
    EXPECT_EQ(mine["data"]["items"].back()["independent"], 0);
    get("/api/v1/controller/status-history?organization_id=hist-b", hal, 403);
    get("/api/v1/controller/status-history?hours=0", admin, 400);
    get("/api/v1/controller/status-history?hours=25", admin, 400);
}

TEST_F(Dashboard, StatusHistoryCarriesHeartbeatAckLatency) {
    start({{"MOOLAI_STATUS_HISTORY_INTERVAL_MS", "200"}});
    const std::string tok = issue(port(), admin, "lat-a", "lat-1");
    const std::string lena = make_org_admin(port(), admin, "lena", "lat-a");
    WsTestClient a;
    ASSERT_EQ(connect_and_register(a, "lat-1", tok)["type"], "provisioning");

    // Heartbeats all along: the newest samples (the last item is "now")
    // carry the mean ack latency of their interval.
    const auto newest_two = [](const json& items, auto&& holds) {
        const size_t n = items.size();
        return n >= 3 && holds(items[n - 3]) && holds(items[n - 2]);
    };
    const auto acked = [](const json& p) {
        return p["ack_ms"].is_number() && p["ack_ms"].get<double>() > 0;
    };
    json hist;
    ASSERT_TRUE(eventually(
        [&] {
            a.send(R"({"type":"i_am_alive","orchestrator_id":"lat-1"})");
            if (next(a)["processed"] != true) return false;
            hist = get("/api/v1/controller/status-history?hours=1", admin);
            return newest_two(hist["data"]["items"], acked);
        },
        10s))
        << hist;
    const json& items = hist["data"]["items"];
    // The first sample was taken at start, before any heartbeat.
    EXPECT_TRUE(items.front()["ack_ms"].is_null()) << hist;
    for (const json& p : items) {
        ASSERT_TRUE(p.contains("ack_ms") && p.contains("ack_p99_ms")) << p;
        EXPECT_TRUE(p["ack_ms"].is_null() || p["ack_ms"].is_number()) << p;
        // A percentile whenever there is a mean: the histogram has buckets.
        EXPECT_EQ(p["ack_ms"].is_null(), p["ack_p99_ms"].is_null()) << p;
    }
    const json& newest = items[items.size() - 2];
    EXPECT_LT(newest["ack_ms"].get<double>(), 250.0) << newest;  // the top bucket, in ms
    EXPECT_GT(newest["ack_p99_ms"].get<double>(), 0.0) << newest;
    EXPECT_LE(newest["ack_p99_ms"].get<double>(), 250.0) << newest;

    // Silence: the samples after it have none.
    ASSERT_TRUE(eventually(
        [&] {
            hist = get("/api/v1/controller/status-history?hours=1", admin);
            return newest_two(hist["data"]["items"],
                              [](const json& p) { return p["ack_ms"].is_null(); });
        },
        5s))
        << hist;

    // A fleet-wide number, like the metrics: not in an org_admin's history.
    const json mine = get("/api/v1/controller/status-history?hours=1", lena);
    ASSERT_GE(mine["data"]["items"].size(), 2u) << mine;
    for (const json& p : mine["data"]["items"]) {
        EXPECT_FALSE(p.contains("ack_ms")) << p;
        EXPECT_FALSE(p.contains("ack_p99_ms")) << p;
    }
}

TEST_F(Dashboard, AuditListingTakesADateRange) {
    start();
    issue(port(), admin, "range-a", "ra-1");
    ASSERT_EQ(http_request(port(), "PUT", "/api/v1/internal/orchestrators/ra-1/independence",
                           R"({"is_independent":true})", bearer(admin))
                  .status,
              200);
    const json all = get("/api/v1/internal/audit", admin);
    ASSERT_GE(all["data"]["total"].get<int>(), 1) << all;
    // Today and after: everything; up to yesterday: nothing.
    const std::time_t now = std::time(nullptr);
    char today[16], yesterday[16];
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(today, sizeof today, "%Y-%m-%d", &tm);
    const std::time_t before = now - 24 * 3600;
    gmtime_r(&before, &tm);
    std::strftime(yesterday, sizeof yesterday, "%Y-%m-%d", &tm);
    const json recent = get(std::string("/api/v1/internal/audit?from=") + yesterday, admin);
    EXPECT_EQ(recent["data"]["total"], all["data"]["total"]) << recent;
    const json old = get(std::string("/api/v1/internal/audit?to=") + yesterday, admin);
    EXPECT_EQ(old["data"]["total"], 0) << old;
    get(std::string("/api/v1/internal/audit?from=") + today + "&to=" + yesterday, admin, 400);
    get("/api/v1/internal/audit?from=yesterday", admin, 400);
}

TEST_F(Dashboard, OrganizationsAreEditedAndOnlyEmptyOnesDeleted) {
    start();
    issue(port(), admin, "edit-a", "ea-1");
    const std::string eve = make_org_admin(port(), admin, "eve", "edit-a");
    auto put = [&](const std::string& id, const std::string& body, const std::string& token) {
        return http_request(port(), "PUT", "/api/v1/internal/organizations/" + id, body,
                            bearer(token));
    };
    const auto edited = put("edit-a", R"({"name":"Edit A","location":"Lyon"})", admin);
    ASSERT_EQ(edited.status, 200) << edited.body;
    EXPECT_EQ(json::parse(edited.body)["data"]["name"], "Edit A");
    const json got = get("/api/v1/controller/organizations/edit-a", admin);
    EXPECT_EQ(got["data"]["name"], "Edit A");
    EXPECT_EQ(got["data"]["location"], "Lyon");
    EXPECT_EQ(put("edit-a", R"({"name":"x"})", eve).status, 403);
    EXPECT_EQ(put("nope", R"({"name":"x"})", admin).status, 404);
    EXPECT_EQ(put("edit-a", R"({"name":""})", admin).status, 400);
    EXPECT_EQ(put("edit-a", R"({"organization_id":"b"})", admin).status, 400);
    const json audit = get("/api/v1/internal/audit?action=organization_updated", admin);
    EXPECT_EQ(audit["data"]["total"], 1) << audit;

    // Not empty: the refusal names what is left.
    const auto refused =
        http_request(port(), "DELETE", "/api/v1/internal/organizations/edit-a", "", bearer(admin));
    EXPECT_EQ(refused.status, 409) << refused.body;
    EXPECT_NE(refused.body.find("1 orchestrator(s) and 1 user(s)"), std::string::npos)
        << refused.body;
}

TEST_F(Dashboard, UsersChangeRoleAndGetANewPassword) {
    start();
    issue(port(), admin, "user-a", "ua-1");
    issue(port(), admin, "user-b", "ub-1");
    const std::string ursula = make_org_admin(port(), admin, "ursula", "user-a");
    auto put = [&](const std::string& name, const std::string& body, const std::string& token) {
        return http_request(port(), "PUT", "/api/v1/internal/users/" + name, body, bearer(token));
    };
    // Another organization: the open session ends; the next one sees it.
    const auto moved = put("ursula", R"({"organization_id":"user-b"})", admin);
    ASSERT_EQ(moved.status, 200) << moved.body;
    EXPECT_EQ(json::parse(moved.body)["data"]["organization_id"], "user-b");
    EXPECT_FALSE(json::parse(moved.body)["data"].contains("password_hash"));
    EXPECT_EQ(json::parse(moved.body)["data"]["sessions_ended"], 1);
    get("/api/v1/internal/auth/me", ursula, 401);
    const std::string ursula2 = login_token(port(), "ursula", "ursula-Password-1");
    EXPECT_EQ(get("/api/v1/internal/auth/me", ursula2)["user"]["organization_id"], "user-b");
    // Superadmin: the organization goes.
    const auto promoted = put("ursula", R"({"role":"superadmin"})", admin);
    ASSERT_EQ(promoted.status, 200) << promoted.body;
    EXPECT_TRUE(json::parse(promoted.body)["data"]["organization_id"].is_null()) << promoted.body;
    get("/api/v1/internal/auth/me", ursula2, 401);
    const std::string ursula3 = login_token(port(), "ursula", "ursula-Password-1");
    EXPECT_EQ(get("/api/v1/internal/auth/me", ursula3)["user"]["role"], "superadmin");
    // A new password: the old one no longer signs in, the new one does.
    ASSERT_EQ(put("ursula", R"({"password":"ursula-New-Password-2"})", admin).status, 200);
    EXPECT_EQ(login_token(port(), "ursula", "ursula-Password-1"), "");
    EXPECT_NE(login_token(port(), "ursula", "ursula-New-Password-2"), "");

    EXPECT_EQ(put("ursula", R"({"password":"short"})", admin).status, 400);
    EXPECT_EQ(put("ursula", R"({"role":"org_admin","organization_id":"nope"})", admin).status, 400);
    EXPECT_EQ(put("ursula", R"({"role":"king"})", admin).status, 400);
    // Ursula is a superadmin now, whose organization is dropped: a malformed
    // one is still refused (schemathesis found it accepted).
    EXPECT_EQ(put("ursula", R"({"organization_id":{"a":1}})", admin).status, 400);
    EXPECT_EQ(put("ursula", R"({"organization_id":7})", admin).status, 400);
    EXPECT_EQ(put("ursula", R"({"username":"x"})", admin).status, 400);
    EXPECT_EQ(put("nobody", R"({"password":"long-enough-1"})", admin).status, 404);
    EXPECT_EQ(put("root", R"({"role":"org_admin","organization_id":"user-a"})", admin).status,
              409);  // not one's own role
    const std::string olga = make_org_admin(port(), admin, "olga", "user-a");
    EXPECT_EQ(put("olga", R"({"password":"long-enough-1"})", olga).status, 403);
    const json audit = get("/api/v1/internal/audit?action=user_updated", admin);
    EXPECT_EQ(audit["data"]["total"], 3) << audit;
    EXPECT_EQ(audit.dump().find("ursula-New-Password"), std::string::npos);
}

// A password reset and a role change end the user's open sessions at once
// (REST, WebSocket event stream and the degraded-mode cache); one's own new
// password keeps only the session it was set from.
TEST_F(Dashboard, ANewPasswordOrRoleEndsTheUsersOpenSessions) {
    start();
    issue(port(), admin, "sess-a", "sa-1");
    const std::string pia = make_org_admin(port(), admin, "pia", "sess-a");
    const std::string pia2 = login_token(port(), "pia", "pia-Password-1");
    const std::string other = make_org_admin(port(), admin, "otto", "sess-a");
    auto put = [&](const std::string& name, const std::string& body, const std::string& token) {
        const auto r =
            http_request(port(), "PUT", "/api/v1/internal/users/" + name, body, bearer(token));
        EXPECT_EQ(r.status, 200) << r.body;
        return json::parse(r.body, nullptr, false);
    };
    get("/api/v1/internal/auth/me", pia);
    get("/api/v1/internal/auth/me", pia2);

    const json reset = put("pia", R"({"password":"pia-New-Password-2"})", admin);
    EXPECT_EQ(reset["data"]["sessions_ended"], 2) << reset;
    get("/api/v1/internal/auth/me", pia, 401);
    get("/api/v1/internal/auth/me", pia2, 401);
    get("/api/v1/internal/auth/me", other);  // another user's session stays
    get("/api/v1/internal/auth/me", admin);  // and the caller's

    const std::string pia3 = login_token(port(), "pia", "pia-New-Password-2");
    ASSERT_NE(pia3, "");
    EXPECT_EQ(put("pia", R"({"role":"superadmin"})", admin)["data"]["sessions_ended"], 1);
    get("/api/v1/internal/auth/me", pia3, 401);

    // One's own password: this session stays, the other one ends.
    const std::string root2 = login_token(port(), "root", "root-Password-1");
    const json own = put("root", R"({"password":"root-New-Password-2"})", admin);
    // root2 at least (on PostgreSQL the database outlives each test, and root's older sessions with it).
    EXPECT_GE(own["data"]["sessions_ended"].get<int>(), 1) << own;
    get("/api/v1/internal/auth/me", admin);
    get("/api/v1/internal/auth/me", root2, 401);
    EXPECT_NE(login_token(port(), "root", "root-New-Password-2"), "");

    // Audited with the count, oldest first (ties by id).
    const json audit = get("/api/v1/internal/audit?action=user_updated&sort=time&order=asc", admin);
    std::vector<json> pias;
    for (const json& row : audit["data"]["items"])
        if (row["detail"]["username"] == "pia") pias.push_back(row["detail"]["changed"]);
    ASSERT_EQ(pias.size(), 2u) << audit;
    EXPECT_EQ(pias[0]["sessions_ended"], 2) << audit;
    EXPECT_EQ(pias[1]["sessions_ended"], 1) << audit;
    // The next tests sign in with root's usual password.
    put("root", R"({"password":"root-Password-1"})", admin);
}

// Sorting is the storage's, over the whole listing, with the REST answer
// saying what was applied; unknown fields and directions are refused.
TEST_F(Dashboard, ListingsSortOnTheServerAcrossPages) {
    start();
    // Names not in id order, with a tie.
    const std::vector<std::pair<std::string, std::string>> orchs = {
        {"so-1", "delta"}, {"so-2", "Alpha"}, {"so-3", "charlie"}, {"so-4", "bravo"},
        {"so-5", "alpha"}};
    issue(port(), admin, "sort-org", "so-0");  // the organization
    for (const auto& [id, name] : orchs) {
        const auto r = http_request(
            port(), "POST", "/api/v1/internal/orchestrators",
            json{{"orchestrator_id", id}, {"organization_id", "sort-org"}, {"name", name}}.dump(),
            bearer(admin));
        ASSERT_EQ(r.status, 201) << r.body;
    }
    auto page_ids = [&](const std::string& query) {
        // One organization: on PostgreSQL the database outlives each test.
        const json j =
            get("/api/v1/controller/orchestrators?organization_id=sort-org&" + query, admin);
        std::vector<std::string> out;
        for (const auto& o : j["data"]["items"]) out.push_back(o["orchestrator_id"]);
        return out;
    };
    using V = std::vector<std::string>;
    // alpha/Alpha tie on case: bytewise "Alpha" < "alpha".
    EXPECT_EQ(page_ids("sort=name&page_size=2"), (V{"so-2", "so-5"}));
    EXPECT_EQ(page_ids("sort=name&page_size=2&page=2"), (V{"so-4", "so-3"}));
    EXPECT_EQ(page_ids("sort=name&page_size=2&page=3"), (V{"so-1", "so-0"}));  // "Orchestrator so-0"
    EXPECT_EQ(page_ids("sort=name&order=desc&page_size=2"), (V{"so-0", "so-1"}));
    EXPECT_EQ(page_ids("sort=name&order=desc&page_size=2&page=2"), (V{"so-3", "so-4"}));
    EXPECT_EQ(page_ids("page_size=2"), (V{"so-0", "so-1"}));  // default: by id
    const json applied = get("/api/v1/controller/orchestrators?sort=name&order=desc", admin);
    EXPECT_EQ(applied["data"]["sort"], "name");
    EXPECT_EQ(applied["data"]["order"], "desc");
    const json plain = get("/api/v1/controller/orchestrators?order=desc", admin);
    EXPECT_TRUE(plain["data"]["sort"].is_null()) << plain["data"].dump();

    const json bad = get("/api/v1/controller/orchestrators?sort=connection", admin, 400);
    EXPECT_EQ(bad["error"]["message"],
              "\"sort\" must be one of orchestrator_id, name, organization_id, status, last_seen, "
              "created_at")
        << bad;
    get("/api/v1/controller/orchestrators?sort=name&order=up", admin, 400);
    get("/api/v1/controller/orchestrators?sort=", admin, 400);
    get("/api/v1/controller/organizations?sort=credential", admin, 400);
    get("/api/v1/internal/users?sort=password_hash", admin, 400);
    get("/api/v1/internal/messages?sort=content", admin, 400);
    get("/api/v1/internal/audit?sort=detail", admin, 400);

    // Every listing the dashboard sorts.
    make_org_admin(port(), admin, "zara", "sort-org");
    make_org_admin(port(), admin, "abe", "sort-org");
    const json users =
        get("/api/v1/internal/users?organization_id=sort-org&sort=username&order=desc", admin);
    ASSERT_EQ(users["data"]["items"].size(), 2u) << users;
    EXPECT_EQ(users["data"]["items"][0]["username"], "zara") << users;
    EXPECT_EQ(users["data"]["items"][1]["username"], "abe") << users;
    EXPECT_EQ(users["data"]["order"], "desc");
    const json orgs = get("/api/v1/controller/organizations?sort=name", admin);
    EXPECT_EQ(orgs["data"]["sort"], "name");
    for (const char* type : {"recommendation", "monitoring"})
        ASSERT_EQ(http_request(port(), "POST", "/api/v1/internal/orchestrators/so-4/messages",
                               json{{"message_type", type}, {"content", type}}.dump(),
                               bearer(admin))
                      .status,
                  201);
    const json msgs =
        get("/api/v1/internal/messages?orchestrator_id=so-4&sort=message_type&order=asc", admin);
    ASSERT_EQ(msgs["data"].size(), 2u) << msgs;
    EXPECT_EQ(msgs["data"][0]["message_type"], "monitoring");
    EXPECT_EQ(msgs["sort"], "message_type");
    EXPECT_EQ(msgs["order"], "asc");
    const json desc =
        get("/api/v1/internal/messages?orchestrator_id=so-4&sort=message_type&order=desc", admin);
    EXPECT_EQ(desc["data"][0]["message_type"], "recommendation");
    EXPECT_TRUE(get("/api/v1/internal/messages", admin)["sort"].is_null());
    const json audit = get("/api/v1/internal/audit?sort=actor&order=asc", admin);
    EXPECT_EQ(audit["data"]["sort"], "actor");
}

TEST_F(Dashboard, ShortCostRangesComeInHours) {
    start();
    const std::string token = issue(port(), admin, "cost-h", "ch-1");
    WsTestClient ws;
    ASSERT_EQ(connect_and_register(ws, "ch-1", token)["type"], "provisioning");
    const std::time_t now = std::time(nullptr);
    char hour[32], earlier[32];
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(hour, sizeof hour, "%Y-%m-%dT%H:00:00Z", &tm);
    const std::time_t before = now - 3 * 3600;
    gmtime_r(&before, &tm);
    std::strftime(earlier, sizeof earlier, "%Y-%m-%dT%H:00:00Z", &tm);
    for (const char* period : {hour, hour, earlier})
        ws.send(json{{"type", "usage_report"},
                     {"orchestrator_id", "ch-1"},
                     {"period", period},
                     {"model", "m"},
                     {"requests", 1},
                     {"input_tokens", 10},
                     {"output_tokens", 5},
                     {"cost_usd", 0.0125}}
                    .dump());
    std::string from;
    {
        const std::time_t day_ago = now - 24 * 3600;
        char b[32];
        gmtime_r(&day_ago, &tm);
        std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
        from = b;
    }
    json d;
    ASSERT_TRUE(eventually([&] {
        d = get("/api/v1/controller/costs?organization_id=cost-h&from=" + from, admin)["data"];
        return d["total"]["requests"] == 3;
    })) << d;
    ASSERT_TRUE(d.contains("by_hour")) << d;
    ASSERT_EQ(d["by_hour"].size(), 2u) << d;
    EXPECT_EQ(d["by_hour"][0]["key"], earlier);
    EXPECT_EQ(d["by_hour"][1]["key"], hour);
    EXPECT_EQ(d["by_hour"][1]["requests"], 2);
    // 30 days: days only, unless hours are asked for.
    const json month = get("/api/v1/controller/costs?organization_id=cost-h", admin)["data"];
    EXPECT_FALSE(month.contains("by_hour")) << month;
    const json asked =
        get("/api/v1/controller/costs?organization_id=cost-h&group_by=hour", admin)["data"];
    EXPECT_EQ(asked["by_hour"].size(), 2u) << asked;
}

}  // namespace
}  // namespace moolai::test
