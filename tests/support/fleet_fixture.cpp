#include "support/fleet_fixture.hpp"

#include <ctime>
#include <thread>

namespace moolai::test {
using nlohmann::json;

const std::map<std::string, std::string> kAdminEnv = {
    {"MOOLAI_SUPERADMIN_USERNAME", "root"}, {"MOOLAI_SUPERADMIN_PASSWORD", "root-Password-1"}};

std::string login_token(uint16_t port, const std::string& username, const std::string& password) {
    HttpResult r = http_request(port, "POST", "/api/v1/internal/auth/login",
                                json{{"username", username}, {"password", password}}.dump());
    const json j = json::parse(r.body, nullptr, false);
    if (r.status != 200 || !j.is_object()) return "";
    return j["user"]["token"].get<std::string>();
}

std::string admin_token(uint16_t port) {
    return login_token(port, "root", "root-Password-1");
}

HttpHeaders bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
}

std::string issue(uint16_t port, const std::string& admin, const std::string& org,
                  const std::string& id) {
    http_request(port, "POST", "/api/v1/internal/organizations",
                 json{{"organization_id", org}, {"name", "Org " + org}}.dump(), bearer(admin));
    HttpResult r = http_request(port, "POST", "/api/v1/internal/orchestrators",
                                json{{"orchestrator_id", id}, {"organization_id", org},
                                     {"name", "Orchestrator " + id}}
                                    .dump(),
                                bearer(admin));
    EXPECT_EQ(r.status, 201) << r.body;
    const json j = json::parse(r.body, nullptr, false);
    return r.status == 201 ? j["data"]["token"].get<std::string>() : std::string();
}

std::string make_org_admin(uint16_t port, const std::string& admin, const std::string& username,
                           const std::string& org) {
    const std::string password = username + "-Password-1";
    HttpResult made = http_request(port, "POST", "/api/v1/internal/users",
                                   json{{"username", username}, {"password", password},
                                        {"role", "org_admin"}, {"organization_id", org}}
                                       .dump(),
                                   bearer(admin));
    EXPECT_EQ(made.status, 201) << made.body;
    return login_token(port, username, password);
}

json next(WsTestClient& ws, int timeout_ms) {
    auto f = ws.receive(std::chrono::milliseconds(timeout_ms));
    return f ? json::parse(*f, nullptr, false) : json();
}

bool eventually(const std::function<bool()>& probe, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (probe()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return probe();
}

void ControllerTest::start(std::map<std::string, std::string> env) {
    for (const auto& kv : kAdminEnv) env.emplace(kv);
    controller = std::make_unique<ControllerProcess>(env);
    ASSERT_TRUE(controller->wait_ready()) << controller->log();
    admin = admin_token(controller->rest_port());
    ASSERT_FALSE(admin.empty());
}

std::string ControllerTest::url(const std::string& path) const {
    return "ws://127.0.0.1:" + std::to_string(controller->ws_port()) + path;
}

json ControllerTest::connect_and_register(WsTestClient& ws, const std::string& id,
                                          const std::string& token) {
    EXPECT_TRUE(ws.connect(url()));
    EXPECT_EQ(next(ws)["type"], "handshake_ack");
    ws.send(json{{"type", "register"}, {"orchestrator_id", id}, {"organization_id", "acme"},
                 {"metadata", {{"version", "2.1"}}}, {"token", token}}
                .dump());
    return next(ws);
}

int64_t unix_ms_of(const std::string& rfc3339) {
    std::tm tm{};
    strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
    const auto dot = rfc3339.find('.');
    if (dot != std::string::npos) ms += std::stoi(rfc3339.substr(dot + 1, 3));
    return ms;
}

}  // namespace moolai::test
