// The REST contract as a whole: the OpenAPI document matches the served
// route table exactly, every route but login and health refuses a missing
// or bad token, and an org_admin aimed at another tenant's resources gets
// 403/404 from every route -- or, for routes that scope themselves, an
// answer without a trace of the other tenant -- and changes nothing there.
// Walks the table the server reports, so a new route is covered (or the
// test fails until it is classified). SQLite here, PostgreSQL via
// scripts/with-postgres.sh.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "support/fleet_fixture.hpp"

namespace moolai::test {
namespace {

using nlohmann::json;
using Route = std::pair<std::string, std::string>;  // method, OpenAPI path

// Answer without a token: only these (health, login and the probes).
const std::set<Route> kPublic = {{"GET", "/api/v1/controller/health"},
                                 {"POST", "/api/v1/internal/auth/login"},
                                 {"GET", "/livez"},
                                 {"GET", "/readyz"}};
// Routes that take no tenant input, or scope what they return to the
// caller's organization: 200 is right for them, if the other tenant's ids
// appear nowhere in the answer.
const std::set<Route> kScopedOrNeutral = {
    {"GET", "/api/v1/openapi.json"},
    {"GET", "/api/v1/internal/auth/me"},
    {"GET", "/api/v1/internal/ui-config"},
    {"GET", "/api/v1/internal/plugins"},
    {"GET", "/api/v1/internal/events"},
    {"GET", "/api/v1/controller/overview"},
    {"GET", "/api/v1/controller/organizations"},
    {"GET", "/api/v1/controller/orchestrators/live"},
    // Names orchestrators by id: another tenant's are left out, not refused.
    {"GET", "/api/v1/controller/orchestrators/last-seen"},
};
// Ends the caller's own session: walked last, separately.
const Route kLogout = {"POST", "/api/v1/internal/auth/logout"};

std::set<Route> served_routes(uint16_t port, const std::string& admin) {
    HttpResult r = http_request(port, "GET", "/api/v1/internal/routes", "", bearer(admin));
    EXPECT_EQ(r.status, 200) << r.body;
    std::set<Route> out;
    const json page = json::parse(r.body);  // kept alive: the loop borrows from it
    for (const json& item : page["data"]["items"])
        out.emplace(item["method"].get<std::string>(), item["path"].get<std::string>());
    return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
    return s;
}

// Every "$ref" in `node` points at something in `doc`.
void expect_refs_resolve(const json& doc, const json& node, const std::string& where) {
    if (node.is_object()) {
        for (auto it = node.begin(); it != node.end(); ++it) {
            if (it.key() == "$ref" && it->is_string()) {
                const std::string ref = it->get<std::string>();
                ASSERT_EQ(ref.rfind("#/", 0), 0u) << where << ": " << ref;
                EXPECT_TRUE(doc.contains(json::json_pointer(ref.substr(1))))
                    << where << ": dangling " << ref;
            } else {
                expect_refs_resolve(doc, *it, where + "/" + it.key());
            }
        }
    } else if (node.is_array()) {
        for (const json& e : node) expect_refs_resolve(doc, e, where);
    }
}

class Routes : public ControllerTest {};

TEST_F(Routes, OpenApiDocumentMatchesTheServedRoutes) {
    start();
    HttpResult r = http_request(port(), "GET", "/api/v1/openapi.json", "", bearer(admin));
    ASSERT_EQ(r.status, 200) << r.body;
    const json doc = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(doc.is_object()) << "not JSON";
    EXPECT_EQ(doc["openapi"].get<std::string>().rfind("3.", 0), 0u);
    ASSERT_TRUE(doc["paths"].is_object());

    std::set<Route> documented;
    std::set<std::string> operation_ids;
    for (auto p = doc["paths"].begin(); p != doc["paths"].end(); ++p) {
        for (auto op = p->begin(); op != p->end(); ++op) {
            if (op.key() == "parameters") continue;
            std::string method = op.key();
            for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            documented.emplace(method, p.key());
            const std::string where = method + " " + p.key();
            EXPECT_TRUE(op->contains("responses")) << where;
            ASSERT_TRUE((*op)["operationId"].is_string()) << where;
            EXPECT_TRUE(operation_ids.insert((*op)["operationId"].get<std::string>()).second)
                << where << ": duplicate operationId";
        }
    }
    expect_refs_resolve(doc, doc, "#");

    const std::set<Route> served = served_routes(port(), admin);
    for (const Route& s : served)
        EXPECT_TRUE(documented.count(s)) << "served but not documented: " << s.first << " " << s.second;
    for (const Route& d : documented)
        EXPECT_TRUE(served.count(d)) << "documented but not served: " << d.first << " " << d.second;
}

TEST_F(Routes, EveryRouteButLoginAndHealthNeedsAValidToken) {
    start();
    const std::set<Route> served = served_routes(port(), admin);
    ASSERT_GT(served.size(), 40u);
    for (const auto& [method, path] : served) {
        if (kPublic.count({method, path})) continue;
        const std::string target =
            replace_all(replace_all(path, "{id}", "some-id"), "{username}", "someone");
        for (const HttpHeaders& auth :
             {HttpHeaders{}, bearer("not-a-token"), HttpHeaders{{"Authorization", "Basic cm9vdDp4"}}}) {
            HttpResult r = http_request(port(), method, target, method == "GET" ? "" : "{}", auth);
            EXPECT_EQ(r.status, 401) << method << " " << target << ": " << r.body;
            EXPECT_TRUE(json::parse(r.body, nullptr, false).is_object()) << method << " " << target;
            EXPECT_EQ(r.header("www-authenticate"), "Bearer") << method << " " << target;
        }
    }
    EXPECT_EQ(http_request(port(), "GET", "/api/v1/controller/health").status, 200);
}

TEST_F(Routes, AnOrgAdminCannotReachAnotherOrganization) {
    start();
    issue(port(), admin, "tn-a", "tn-a-1");
    issue(port(), admin, "tn-b", "tn-b-1");
    const std::string alice = make_org_admin(port(), admin, "tn-alice", "tn-a");
    make_org_admin(port(), admin, "tn-bob", "tn-b");
    HttpResult msg = http_request(port(), "POST", "/api/v1/internal/orchestrators/tn-b-1/messages",
                                  R"({"message_type":"recommendation","content":"scale up"})",
                                  bearer(admin));
    ASSERT_EQ(msg.status, 201) << msg.body;
    const std::string message_id = json::parse(msg.body)["data"]["id"].get<std::string>();

    // Whatever a route takes, aim it at tenant B.
    const json body = {{"organization_id", "tn-b"}, {"orchestrator_id", "tn-b-new"},
                       {"name", "x"},               {"username", "tn-new"},
                       {"password", "tn-new-Password-1"}, {"role", "org_admin"},
                       {"is_independent", true},    {"message_type", "recommendation"},
                       {"content", "x"},            {"status", "accepted"}};
    const std::set<Route> served = served_routes(port(), admin);
    for (const auto& [method, path] : served) {
        if (kPublic.count({method, path}) || Route{method, path} == kLogout) continue;
        std::string target = path;
        if (path.find("/organizations/{id}") != std::string::npos)
            target = replace_all(target, "{id}", "tn-b");
        else if (path.find("/messages/{id}") != std::string::npos)
            target = replace_all(target, "{id}", message_id);
        else
            target = replace_all(target, "{id}", "tn-b-1");
        target = replace_all(target, "{username}", "tn-bob");
        if (method == "GET") target += "?organization_id=tn-b&ids=tn-b-1";
        HttpResult r = http_request(port(), method, target, method == "GET" ? "" : body.dump(),
                                    bearer(alice));
        const std::string what = method + " " + target + " -> " + std::to_string(r.status);
        if (kScopedOrNeutral.count({method, path})) {
            EXPECT_EQ(r.status, 200) << what << ": " << r.body;
            for (const char* foreign : {"tn-b", "tn-bob", message_id.c_str()})
                EXPECT_EQ(r.body.find(foreign), std::string::npos)
                    << what << " shows " << foreign << ": " << r.body;
        } else {
            EXPECT_TRUE(r.status == 403 || r.status == 404) << what << ": " << r.body;
            EXPECT_TRUE(json::parse(r.body, nullptr, false).is_object()) << what;
        }
    }

    // Tenant B is untouched.
    auto get = [&](const std::string& target) {
        return http_request(port(), "GET", target, "", bearer(admin));
    };
    EXPECT_EQ(get("/api/v1/internal/organizations/tn-b").status, 200);
    EXPECT_EQ(get("/api/v1/internal/users/tn-bob").status, 200);
    EXPECT_EQ(get("/api/v1/internal/users/tn-new").status, 404);
    EXPECT_EQ(get("/api/v1/controller/orchestrators/tn-b-new").status, 404);
    const json orch = json::parse(get("/api/v1/controller/orchestrators/tn-b-1").body)["data"];
    EXPECT_EQ(orch["is_independent"], false) << orch;
    const json msgs = json::parse(get("/api/v1/internal/orchestrators/tn-b-1/messages").body);
    ASSERT_EQ(msgs["total"], 1) << msgs;
    EXPECT_EQ(msgs["data"][0]["status"], "pending");

    // Logout ends only the caller's own session.
    EXPECT_EQ(http_request(port(), "POST", "/api/v1/internal/auth/logout", "", bearer(alice)).status,
              200);
    EXPECT_EQ(http_request(port(), "GET", "/api/v1/internal/auth/me", "", bearer(alice)).status, 401);
    EXPECT_EQ(get("/api/v1/internal/auth/me").status, 200);
}

}  // namespace
}  // namespace moolai::test
