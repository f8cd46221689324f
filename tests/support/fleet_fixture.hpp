#pragma once
// A running controller with a superadmin, plus the steps most black-box
// tests take: log in, issue orchestrator credentials, make org_admins,
// connect and register an orchestrator.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "net/http_test_client.hpp"
#include "net/ws_test_client.hpp"
#include "support/controller_process.hpp"

namespace moolai::test {

extern const std::map<std::string, std::string> kAdminEnv;  // superadmin root / root-Password-1

// A session token of `username`, "" when the login fails.
std::string login_token(uint16_t port, const std::string& username, const std::string& password);
std::string admin_token(uint16_t port);
// Creates organization `org` (once) and orchestrator `id`; returns its credential.
std::string issue(uint16_t port, const std::string& admin, const std::string& org,
                  const std::string& id);
// Creates org_admin `username` of `org` (which must exist) and returns their token.
std::string make_org_admin(uint16_t port, const std::string& admin, const std::string& username,
                           const std::string& org);
HttpHeaders bearer(const std::string& token);
// The next frame as JSON; null on timeout.
nlohmann::json next(WsTestClient& ws, int timeout_ms = 5000);
// Polls `probe` until it holds or `timeout` passes: for what the controller
// writes behind (orchestrator writes go through its storage queue).
bool eventually(const std::function<bool()>& probe,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Unix ms of a UTC time as the API writes it (YYYY-MM-DDTHH:MM:SS[.mmm]Z).
int64_t unix_ms_of(const std::string& rfc3339);

class ControllerTest : public ::testing::Test {
protected:
    void start(std::map<std::string, std::string> env = {});
    uint16_t port() const { return controller->rest_port(); }
    std::string url(const std::string& path = "/ws") const;
    // Connects and registers; returns the provisioning frame.
    nlohmann::json connect_and_register(WsTestClient& ws, const std::string& id,
                                        const std::string& token);

    std::unique_ptr<ControllerProcess> controller;
    std::string admin;
};

}  // namespace moolai::test
