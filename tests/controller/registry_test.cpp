// What exists: organizations and orchestrators created, read and removed
// through every path spelling the controller serves for them, credentials issued
// and rotated, single users read. Real controller, real sockets; SQLite
// here and PostgreSQL via scripts/with-postgres.sh.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/fleet_fixture.hpp"

namespace moolai::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class Registry : public ControllerTest {
protected:
    HttpResult call(const std::string& method, const std::string& path, const std::string& body = "",
                    const std::string& token = "") {
        return http_request(port(), method, path, body, bearer(token.empty() ? admin : token));
    }
    static json data(const HttpResult& r) { return json::parse(r.body)["data"]; }
};

TEST_F(Registry, OrganizationsCreateReadDelete) {
    start();
    HttpResult made = call("POST", "/api/v1/internal/organizations",
                           R"({"organization_id":"reg-org","name":"Reg Org","location":"Lisbon"})");
    ASSERT_EQ(made.status, 201) << made.body;
    EXPECT_EQ(data(made)["location"], "Lisbon");
    EXPECT_EQ(call("POST", "/api/v1/controller/organizations", R"({"organization_id":"reg-org"})")
                  .status,
              409);
    for (const char* path :
         {"/api/v1/internal/organizations/reg-org", "/api/v1/controller/organizations/reg-org"}) {
        HttpResult got = call("GET", path);
        ASSERT_EQ(got.status, 200) << path << got.body;
        EXPECT_EQ(data(got)["name"], "Reg Org");
    }
    issue(port(), admin, "reg-org", "reg-o1");
    const std::string carol = make_org_admin(port(), admin, "carol", "reg-org");
    EXPECT_EQ(call("DELETE", "/api/v1/internal/organizations/reg-org", "", carol).status, 403);

    HttpResult busy = call("DELETE", "/api/v1/internal/organizations/reg-org");
    EXPECT_EQ(busy.status, 409) << busy.body;
    EXPECT_NE(busy.body.find("1 orchestrator(s) and 1 user(s)"), std::string::npos) << busy.body;
    ASSERT_EQ(call("DELETE", "/api/v1/internal/orchestrators/reg-o1").status, 200);
    ASSERT_EQ(call("DELETE", "/api/v1/internal/users/carol").status, 200);
    HttpResult gone = call("DELETE", "/api/v1/internal/organizations/reg-org");
    EXPECT_EQ(gone.status, 200) << gone.body;
    EXPECT_EQ(call("GET", "/api/v1/internal/organizations/reg-org").status, 404);
    EXPECT_EQ(call("DELETE", "/api/v1/internal/organizations/reg-org").status, 404);

    const json trail =
        data(call("GET", "/api/v1/internal/audit?organization_id=reg-org&page_size=20"));
    std::multiset<std::string> actions;
    for (const json& row : trail["items"]) actions.insert(row["action"].get<std::string>());
    EXPECT_EQ(actions.count("organization_created"), 1u) << trail;
    EXPECT_EQ(actions.count("orchestrator_created"), 1u) << trail;
    EXPECT_EQ(actions.count("orchestrator_deregistered"), 1u) << trail;
    EXPECT_EQ(actions.count("organization_deleted"), 1u) << trail;
}

TEST_F(Registry, OrchestratorDetailIsLiveAndTenantScoped) {
    start();
    const std::string token = issue(port(), admin, "det-a", "det-1");
    issue(port(), admin, "det-b", "det-2");
    const std::string dora = make_org_admin(port(), admin, "dora", "det-b");

    HttpResult before = call("GET", "/api/v1/controller/orchestrators/det-1");
    ASSERT_EQ(before.status, 200) << before.body;
    EXPECT_EQ(data(before)["status"], "inactive");
    EXPECT_EQ(data(before)["connected"], false);
    EXPECT_FALSE(data(before).contains("credential_hash"));
    EXPECT_FALSE(data(before).contains("token"));

    WsTestClient ws;
    ASSERT_EQ(connect_and_register(ws, "det-1", token)["type"], "provisioning");
    ws.send(R"({"type":"i_am_alive"})");
    ASSERT_EQ(next(ws)["processed"], true);
    json after;
    // The register's metadata is written behind, through the storage queue.
    EXPECT_TRUE(eventually([&] {
        after = data(call("GET", "/api/v1/internal/orchestrators/det-1"));
        return after["metadata"].value("version", "") == "2.1";
    })) << after;
    EXPECT_EQ(after["status"], "active");
    EXPECT_EQ(after["connected"], true);
    EXPECT_TRUE(after["last_seen"].is_string());
    EXPECT_EQ(after["metadata"]["version"], "2.1");

    EXPECT_EQ(call("GET", "/api/v1/controller/orchestrators/det-1", "", dora).status, 404)
        << "another tenant's id is not confirmed";
    EXPECT_EQ(call("GET", "/api/v1/controller/orchestrators/det-2", "", dora).status, 200);
    EXPECT_EQ(call("GET", "/api/v1/controller/orchestrators/nope").status, 404);
    EXPECT_EQ(call("GET", "/api/v1/controller/orchestrators/live").status, 200)
        << "the literal route still wins";
}

TEST_F(Registry, SeedInstancesAndInternalRegister) {
    start();
    issue(port(), admin, "inst-org", "inst-seed");
    HttpResult placeholder = call("POST", "/api/v1/controller/orchestrator-instances",
                                  R"({"organization_id":"inst-org","name":"spare"})");
    ASSERT_EQ(placeholder.status, 201) << placeholder.body;
    const std::string id = data(placeholder)["orchestrator_id"].get<std::string>();
    EXPECT_EQ(id.rfind("orch-", 0), 0u) << id;
    EXPECT_EQ(data(placeholder)["status"], "inactive");
    EXPECT_FALSE(data(placeholder)["token"].get<std::string>().empty());
    EXPECT_EQ(call("DELETE", "/api/v1/controller/orchestrator-instances/" + id).status, 200);
    EXPECT_EQ(call("GET", "/api/v1/controller/orchestrators/" + id).status, 404);

    // The admin-side register creates the organization when it is missing.
    HttpResult reg = call("POST", "/api/v1/internal/orchestrators/register",
                          R"({"orchestrator_id":"reg-new","organization_id":"reg-new-org",
                              "organization_name":"New Org","name":"Fresh"})");
    ASSERT_EQ(reg.status, 201) << reg.body;
    EXPECT_EQ(data(call("GET", "/api/v1/internal/organizations/reg-new-org"))["name"], "New Org");
    WsTestClient ws;
    EXPECT_EQ(connect_and_register(ws, "reg-new", data(reg)["token"])["type"], "provisioning");
    EXPECT_EQ(call("POST", "/api/v1/internal/orchestrators/register",
                   R"({"orchestrator_id":"reg-new","organization_id":"reg-new-org"})")
                  .status,
              409);
    const std::string erin = make_org_admin(port(), admin, "erin", "inst-org");
    EXPECT_EQ(call("POST", "/api/v1/internal/orchestrators/register",
                   R"({"orchestrator_id":"x1","organization_id":"elsewhere"})", erin)
                  .status,
              403);
    EXPECT_EQ(call("POST", "/api/v1/internal/orchestrators/register",
                   R"({"orchestrator_id":"x2","organization_id":"inst-org"})", erin)
                  .status,
              201);
    EXPECT_EQ(call("POST", "/api/v1/internal/orchestrators/register", R"({"orchestrator_id":"x3"})")
                  .status,
              400);
}

TEST_F(Registry, CredentialRotationCutsOffTheOldOne) {
    start();
    const std::string old_token = issue(port(), admin, "rot-org", "rot-1");
    WsTestClient before;
    ASSERT_EQ(connect_and_register(before, "rot-1", old_token)["type"], "provisioning");

    HttpResult rotated = call("POST", "/api/v1/internal/orchestrators/rot-1/credentials");
    ASSERT_EQ(rotated.status, 200) << rotated.body;
    const std::string new_token = data(rotated)["token"].get<std::string>();
    EXPECT_NE(new_token, old_token);
    EXPECT_EQ(before.wait_closed(3000ms), std::optional<uint16_t>(1008));

    WsTestClient with_old;
    ASSERT_TRUE(with_old.connect(url()));
    EXPECT_EQ(next(with_old)["type"], "handshake_ack");
    with_old.send(json{{"type", "register"}, {"orchestrator_id", "rot-1"}, {"token", old_token}}.dump());
    EXPECT_EQ(with_old.wait_closed(3000ms), std::optional<uint16_t>(1008));
    WsTestClient with_new;
    EXPECT_EQ(connect_and_register(with_new, "rot-1", new_token)["type"], "provisioning");

    const json trail = data(call("GET", "/api/v1/internal/audit?action=credential_rotated"));
    ASSERT_EQ(trail["total"], 1) << trail;
    EXPECT_EQ(trail["items"][0]["orchestrator_id"], "rot-1");
    EXPECT_EQ(trail["items"][0]["actor"], "root");
    EXPECT_EQ(call("POST", "/api/v1/internal/orchestrators/nope/credentials").status, 404);
}

TEST_F(Registry, SingleUsers) {
    start();
    issue(port(), admin, "usr-a", "usr-o1");
    issue(port(), admin, "usr-b", "usr-o2");
    const std::string fay = make_org_admin(port(), admin, "fay", "usr-a");
    make_org_admin(port(), admin, "gus", "usr-b");
    HttpResult got = call("GET", "/api/v1/internal/users/fay");
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(data(got)["role"], "org_admin");
    EXPECT_EQ(data(got)["organization_id"], "usr-a");
    EXPECT_FALSE(data(got).contains("password_hash"));
    EXPECT_EQ(call("GET", "/api/v1/internal/users/fay", "", fay).status, 200);
    EXPECT_EQ(call("GET", "/api/v1/internal/users/gus", "", fay).status, 404);
    EXPECT_EQ(call("GET", "/api/v1/internal/users/root", "", fay).status, 404);
    EXPECT_EQ(call("GET", "/api/v1/internal/users/nobody").status, 404);
}

}  // namespace
}  // namespace moolai::test
