// Issue 14's abuse limits, from outside against the real controller. Tests
// play several clients by connecting from different loopback addresses
// (127.0.0.x), or through a trusted proxy's X-Forwarded-For.
#include <gtest/gtest.h>

#include <poll.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/fleet_fixture.hpp"

namespace moolai::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kLogin = "/api/v1/internal/auth/login";

HttpResult login_from(uint16_t port, const std::string& source, const std::string& user,
                      const std::string& password, HttpHeaders headers = {}) {
    return http_request(port, "POST", kLogin, json{{"username", user}, {"password", password}}.dump(),
                        headers, 10000, "127.0.0.1", source);
}

size_t count_of(const std::string& haystack, const std::string& needle) {
    size_t n = 0;
    for (size_t at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + 1))
        ++n;
    return n;
}

// A WebSocket client on a raw socket from `source`: upgrades, sends one text
// frame, and answers what came back -- the first text frame after the
// greeting (handshake_ack), or "close:<code>
// <reason>", or "" on timeout.
std::string ws_exchange(uint16_t port, const std::string& source, const std::string& text,
                        const std::string& extra_header = "") {
    const int fd = tcp_connect(port, 3000, "127.0.0.1", source);
    if (fd < 0) return "no connection";
    const std::string upgrade =
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
        extra_header + "\r\n";
    std::string frame;
    frame.push_back(static_cast<char>(0x81));  // FIN, text
    // Masked with a zero key (allowed; the payload stays as it is).
    if (text.size() < 126) {
        frame.push_back(static_cast<char>(0x80 | text.size()));
    } else {
        frame.push_back(static_cast<char>(0x80 | 126));
        frame.push_back(static_cast<char>(text.size() >> 8));
        frame.push_back(static_cast<char>(text.size() & 0xff));
    }
    frame.append(4, '\0');
    frame += text;
    std::string got;
    const auto deadline = Clock::now() + 5s;
    const auto read_some = [&](size_t want) {
        while (got.size() < want) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                                    Clock::now());
            pollfd p{fd, POLLIN, 0};
            char buf[4096];
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) != 1)
                return false;
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0) return false;
            got.append(buf, static_cast<size_t>(n));
        }
        return true;
    };
    std::string out;
    if (::write(fd, upgrade.data(), upgrade.size()) == static_cast<ssize_t>(upgrade.size())) {
        while (got.find("\r\n\r\n") == std::string::npos && read_some(got.size() + 1)) {
        }
        const size_t end = got.find("\r\n\r\n");
        if (end != std::string::npos && got.rfind("HTTP/1.1 101", 0) == 0 &&
            ::write(fd, frame.data(), frame.size()) == static_cast<ssize_t>(frame.size())) {
            got.erase(0, end + 4);
            for (;;) {
                if (!read_some(2)) break;
                size_t len = static_cast<unsigned char>(got[1]) & 0x7f, head = 2;
                if (len == 126) {
                    if (!read_some(4)) break;
                    len = static_cast<size_t>(static_cast<unsigned char>(got[2])) << 8 |
                          static_cast<unsigned char>(got[3]);
                    head = 4;
                }
                if (!read_some(head + len)) break;
                const int opcode = got[0] & 0x0f;
                const std::string payload = got.substr(head, len);
                got.erase(0, head + len);
                if (opcode == 0x8) {
                    const int code = payload.size() >= 2
                                         ? static_cast<unsigned char>(payload[0]) << 8 |
                                               static_cast<unsigned char>(payload[1])
                                         : 1005;
                    out = "close:" + std::to_string(code) + " " +
                          (payload.size() > 2 ? payload.substr(2) : "");
                    break;
                }
                if (opcode == 0x1 && payload.find("handshake_ack") == std::string::npos) {
                    out = payload;
                    break;
                }
            }
        }
    }
    ::close(fd);
    return out;
}

std::string register_frame(const std::string& id, const std::string& token) {
    return json{{"type", "register"}, {"orchestrator_id", id}, {"token", token}}.dump();
}

class Security : public ControllerTest {};

// Five free failures per (username, address), then waits that double; the
// same user from another address is not affected.
TEST_F(Security, FailedLoginsSlowTheirAddressNeverTheAccount) {
    start();
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(login_from(port(), "127.0.0.2", "root", "wrong").status, 401) << i;
    HttpResult blocked = login_from(port(), "127.0.0.2", "root", "root-Password-1");
    ASSERT_EQ(blocked.status, 429) << blocked.body;
    const int retry = std::stoi(blocked.header("retry-after"));
    EXPECT_GE(retry, 1);
    EXPECT_LE(retry, 2);
    EXPECT_EQ(json::parse(blocked.body)["error"]["code"], "too_many_attempts");

    // The owner, elsewhere, logs in at once.
    EXPECT_EQ(login_from(port(), "127.0.0.3", "root", "root-Password-1").status, 200);
    // And the blocked address only waits: no hard lock.
    HttpResult later;
    EXPECT_TRUE(eventually(
        [&] {
            later = login_from(port(), "127.0.0.2", "root", "root-Password-1");
            return later.status == 200;
        },
        10s))
        << later.status << " " << later.body;
    // One failed-login line for that address, however many failures.
    EXPECT_EQ(count_of(controller->log(), "failed login for \"root\" from 127.0.0.2"), 1u)
        << controller->log();
}

// Counted before the password check: 40 concurrent guesses get the 5 free
// ones, not more.
TEST_F(Security, ConcurrentGuessesGetOnlyTheFreeAttempts) {
    start();
    std::atomic<int> denied{0}, limited{0}, other{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 40; ++i)
        threads.emplace_back([&] {
            const int s = login_from(port(), "127.0.0.4", "root", "wrong").status;
            (s == 401 ? denied : s == 429 ? limited : other)++;
        });
    for (auto& t : threads) t.join();
    EXPECT_LE(denied.load(), 5);
    EXPECT_GE(denied.load(), 1);
    EXPECT_EQ(limited.load() + denied.load(), 40);
    EXPECT_EQ(other.load(), 0);
}

// A spray of made-up usernames from one address is throttled per address
// after 30 failures.
TEST_F(Security, ManyUsernamesFromOneAddressAreThrottledPerAddress) {
    start();
    int limited = 0;
    for (int i = 0; i < 35; ++i)
        limited += login_from(port(), "127.0.0.5", "nobody-" + std::to_string(i), "x").status == 429;
    EXPECT_GE(limited, 4);
    EXPECT_LE(limited, 5);
    EXPECT_EQ(login_from(port(), "127.0.0.6", "root", "root-Password-1").status, 200);
}

// An unknown username costs the same password hash as a known one, so the
// answer's timing does not tell which names exist.
TEST_F(Security, UnknownUsernamesTakeAsLongAsKnownOnes) {
    start();
    const auto median_ms = [&](const std::string& user, const std::string& source) {
        std::vector<double> ms;
        for (int i = 0; i < 5; ++i) {
            const auto t0 = Clock::now();
            EXPECT_EQ(login_from(port(), source, user, "wrong-password").status, 401);
            ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        }
        std::sort(ms.begin(), ms.end());
        return ms[2];
    };
    median_ms("no-such-user", "127.0.0.7");  // warms the dummy hash
    const double known = median_ms("root", "127.0.0.8");
    const double unknown = median_ms("no-such-user-2", "127.0.0.9");
    EXPECT_GT(unknown, known * 0.5) << "known " << known << " ms, unknown " << unknown << " ms";
    EXPECT_LT(unknown, known * 2.0) << "known " << known << " ms, unknown " << unknown << " ms";
}

TEST_F(Security, RestRequestsAreLimitedPerAddressWithOneLogLine) {
    start({{"MOOLAI_REST_RATE_PER_ADDRESS", "5"}, {"MOOLAI_REST_BURST_PER_ADDRESS", "10"}});
    int limited = 0;
    HttpResult last;
    for (int i = 0; i < 30; ++i) {
        HttpResult r = http_request(port(), "GET", "/api/v1/controller/health", "", {}, 5000, "127.0.0.1",
                                    "127.0.0.10");
        if (r.status == 429) {
            ++limited;
            last = r;
        }
    }
    EXPECT_GE(limited, 15);
    ASSERT_EQ(last.status, 429);
    EXPECT_GE(std::stoi(last.header("retry-after")), 1);
    EXPECT_EQ(json::parse(last.body)["error"]["code"], "rate_limited");
    // Another address is served.
    EXPECT_EQ(http_request(port(), "GET", "/api/v1/controller/health", "", {}, 5000, "127.0.0.1", "127.0.0.11")
                  .status,
              200);
    EXPECT_EQ(count_of(controller->log(), "REST requests from 127.0.0.10 over"), 1u)
        << controller->log();
    // Every 429 is counted for the operator's dashboards.
    const std::string metrics = http_request(port(), "GET", "/metrics", "", bearer(admin), 5000,
                                             "127.0.0.1", "127.0.0.12")
                                    .body;
    const size_t at = metrics.find("\nmoolai_http_rate_limited_total ");
    ASSERT_NE(at, std::string::npos) << metrics;
    EXPECT_EQ(std::stol(metrics.substr(at + 32)), limited) << metrics.substr(at, 60);
}

// Behind a trusted proxy each client counts on its own; an untrusted peer's
// X-Forwarded-For is ignored (it cannot escape its limit by making one up).
TEST_F(Security, ATrustedProxysForwardedForNamesTheClient) {
    start({{"MOOLAI_REST_RATE_PER_ADDRESS", "1"},
           {"MOOLAI_REST_BURST_PER_ADDRESS", "3"},
           {"MOOLAI_TRUSTED_PROXIES", "192.0.2.1, 127.0.0.12/32"}});
    const auto get = [&](const std::string& source, const std::string& xff) {
        return http_request(port(), "GET", "/api/v1/controller/health", "", {{"X-Forwarded-For", xff}}, 5000,
                            "127.0.0.1", source)
            .status;
    };
    int limited = 0;
    for (int i = 0; i < 6; ++i) limited += get("127.0.0.12", "10.0.0.1, 203.0.113.9") == 429;
    EXPECT_GE(limited, 2);
    EXPECT_EQ(get("127.0.0.12", "203.0.113.10"), 200) << "another client behind the proxy";
    limited = 0;
    for (int i = 0; i < 6; ++i) limited += get("127.0.0.13", "198.51.100." + std::to_string(i)) == 429;
    EXPECT_GE(limited, 2) << "a made-up X-Forwarded-For from an untrusted peer";
}

TEST_F(Security, HeadersOver16KiBAre431) {
    start();
    const HttpResult big = http_request(port(), "GET", "/api/v1/controller/health", "",
                                        {{"X-Filler", std::string(20000, 'a')}});
    EXPECT_EQ(big.status, 431) << big.body;
    EXPECT_EQ(json::parse(big.body, nullptr, false)["error"]["code"], "headers_too_large");
    // Sent in pieces, headers still coming: refused as soon as they pass 16 KiB.
    const int fd = tcp_connect(port());
    ASSERT_GE(fd, 0);
    std::string head = "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n";
    ASSERT_EQ(::write(fd, head.data(), head.size()), static_cast<ssize_t>(head.size()));
    const std::string piece = "X-Filler: " + std::string(1000, 'b') + "\r\n";
    for (int i = 0; i < 20; ++i)
        if (::write(fd, piece.data(), piece.size()) < 0) break;
    const HttpResult r = read_response(fd);
    ::close(fd);
    EXPECT_EQ(r.status, 431) << r.error;
    const HttpResult fine = http_request(port(), "GET", "/api/v1/controller/health", "",
                                         {{"X-Filler", std::string(8000, 'a')}});
    EXPECT_EQ(fine.status, 200);
}

TEST_F(Security, UnknownMethodsAre405WithAllow) {
    start();
    const HttpResult r = http_raw(port(), "BREW /api/v1/controller/health HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.status, 405) << r.body;
    EXPECT_EQ(r.header("allow"), "GET, POST, PUT, PATCH, DELETE");
    EXPECT_EQ(json::parse(r.body, nullptr, false)["error"]["code"], "method_not_allowed");
    // A known method on a route without it keeps its route's Allow.
    const HttpResult put = http_request(port(), "PUT", "/api/v1/controller/health");
    EXPECT_EQ(put.status, 405);
    EXPECT_EQ(put.header("allow"), "GET");
}

TEST_F(Security, JsonBodiesNeedApplicationJson) {
    start();
    const std::string body = json{{"username", "root"}, {"password", "root-Password-1"}}.dump();
    for (const char* type : {"text/plain", "application/x-www-form-urlencoded", ""}) {
        HttpHeaders h;
        if (*type) h.emplace_back("Content-Type", type);
        else h.emplace_back("Content-Type", "");
        const HttpResult r = http_request(port(), "POST", kLogin, body, h);
        EXPECT_EQ(r.status, 415) << type << ": " << r.body;
    }
    EXPECT_EQ(http_request(port(), "POST", kLogin, body,
                           {{"Content-Type", "Application/JSON; charset=utf-8"}})
                  .status,
              200);
}

TEST_F(Security, EmptyFiltersAreRefusedLikeTheDocumentSays) {
    start();
    EXPECT_EQ(http_request(port(), "GET", "/api/v1/internal/logs?level=", "", bearer(admin)).status,
              400);
    EXPECT_EQ(
        http_request(port(), "GET", "/api/v1/controller/orchestrators?status=", "", bearer(admin))
            .status,
        400);
    EXPECT_EQ(http_request(port(), "GET", "/api/v1/controller/orchestrators?status=active", "",
                           bearer(admin))
                  .status,
              200);
    // The rule is one, shared by every route: a date too, named in the error.
    const HttpResult from =
        http_request(port(), "GET", "/api/v1/internal/audit?from=", "", bearer(admin));
    EXPECT_EQ(from.status, 400);
    EXPECT_EQ(nlohmann::json::parse(from.body)["error"]["message"],
              "\"from\" is empty: give a value or leave it out")
        << from.body;
    // A free-text filter may be empty: it filters nothing.
    EXPECT_EQ(
        http_request(port(), "GET", "/api/v1/internal/audit?actor=", "", bearer(admin)).status,
        200);
}

TEST_F(Security, PluginPathsAreShownToSuperadminsOnly) {
    start();
    issue(port(), admin, "acme-sec", "sec-1");  // makes the organization
    const std::string org_admin = make_org_admin(port(), admin, "alice", "acme-sec");
    const json as_root =
        json::parse(http_request(port(), "GET", "/api/v1/internal/plugins", "", bearer(admin)).body);
    const json as_org = json::parse(
        http_request(port(), "GET", "/api/v1/internal/plugins", "", bearer(org_admin)).body);
    ASSERT_FALSE(as_root["data"]["items"].empty());
    ASSERT_EQ(as_org["data"]["items"].size(), as_root["data"]["items"].size());
    for (const auto& p : as_root["data"]["items"]) EXPECT_TRUE(p.contains("path")) << p;
    for (const auto& p : as_org["data"]["items"]) EXPECT_FALSE(p.contains("path")) << p;
}

// Failed registers back off per source; a source that keeps failing is not
// even looked at (4429) and costs one log line a minute; an orchestrator
// elsewhere registers as usual.
TEST_F(Security, FailedRegistersBackOffPerSource) {
    start();
    const std::string token = issue(port(), admin, "acme", "sec-good");
    int refused = 0;
    std::string last;
    for (int i = 0; i < 30; ++i) {
        last = ws_exchange(controller->ws_port(), "127.0.0.20", register_frame("sec-good", "wrong"));
        refused += last.rfind("close:1008", 0) == 0;
    }
    EXPECT_EQ(refused, 30) << last;
    last = ws_exchange(controller->ws_port(), "127.0.0.20", register_frame("sec-good", token));
    EXPECT_EQ(last.rfind("close:4429 too many failed registrations from this address; retry in ", 0),
              0u)
        << last;
    const std::string ok = ws_exchange(controller->ws_port(), "127.0.0.21",
                                       register_frame("sec-good", token));
    EXPECT_EQ(json::parse(ok, nullptr, false).value("type", ""), "provisioning") << ok;
    const std::string log = controller->log();
    EXPECT_EQ(count_of(log, "refused register of \"sec-good\" from 127.0.0.20"), 1u) << log;
}

// Behind a trusted proxy the register backoff counts the client it names,
// so one client's failures do not hold back the others behind that proxy.
TEST_F(Security, FailedRegistersBehindATrustedProxyCountPerClient) {
    start({{"MOOLAI_TRUSTED_PROXIES", "127.0.0.30"}});
    const std::string token = issue(port(), admin, "acme", "sec-proxied");
    const std::string bad_client = "X-Forwarded-For: 203.0.113.5\r\n";
    for (int i = 0; i < 30; ++i)
        ws_exchange(controller->ws_port(), "127.0.0.30", register_frame("sec-proxied", "wrong"),
                    bad_client);
    const std::string held = ws_exchange(controller->ws_port(), "127.0.0.30",
                                         register_frame("sec-proxied", token), bad_client);
    EXPECT_EQ(held.rfind("close:4429", 0), 0u) << held;
    const std::string ok =
        ws_exchange(controller->ws_port(), "127.0.0.30", register_frame("sec-proxied", token),
                    "X-Forwarded-For: 203.0.113.6\r\n");
    EXPECT_EQ(json::parse(ok, nullptr, false).value("type", ""), "provisioning") << ok;
    EXPECT_NE(controller->log().find("from 203.0.113.5: invalid orchestrator credentials"),
              std::string::npos)
        << controller->log();
}

// The audit log is a hash chain: a row edited in the database directly is
// named by the superadmin endpoint and by `admin verify-audit`.
TEST_F(Security, AnAuditRowEditedInTheDatabaseIsReported) {
    start();
    for (const char* org : {"audit-a", "audit-b", "audit-c"})
        ASSERT_EQ(http_request(port(), "POST", "/api/v1/internal/organizations",
                               json{{"organization_id", org}, {"name", org}}.dump(), bearer(admin))
                      .status,
                  201);
    const auto verify = [&] {
        const HttpResult r = http_request(port(), "GET", "/api/v1/internal/audit/verify", "",
                                          bearer(admin));
        EXPECT_EQ(r.status, 200) << r.body;
        return json::parse(r.body, nullptr, false);
    };
    json v = verify();
    EXPECT_EQ(v["ok"], true) << v;
    EXPECT_GE(v["chained"].get<int64_t>(), 3) << v;

    const std::string org_admin = make_org_admin(port(), admin, "audit-reader", "audit-a");
    EXPECT_EQ(http_request(port(), "GET", "/api/v1/internal/audit/verify", "", bearer(org_admin))
                  .status,
              403);

    // The middle organization's row, rewritten as if it had been another.
    const json rows = json::parse(
        http_request(port(), "GET",
                     "/api/v1/internal/audit?action=organization_created&organization_id=audit-b",
                     "", bearer(admin))
            .body,
        nullptr, false);
    ASSERT_EQ(rows["data"]["items"].size(), 1u) << rows;
    const int64_t id = rows["data"]["items"][0]["id"];
    EXPECT_EQ(rows["data"]["items"][0]["hash"].get<std::string>().size(), 64u);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((controller->data_dir() + "/moolai.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    const std::string edit =
        "UPDATE audit_log SET organization_id = 'audit-z' WHERE id = " + std::to_string(id);
    EXPECT_EQ(sqlite3_exec(db, edit.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);

    v = verify();
    EXPECT_EQ(v["ok"], false) << v;
    EXPECT_EQ(v["first_broken"]["id"], id) << v;
    EXPECT_TRUE(eventually([&] {
        return controller->log().find("audit chain broken at row " + std::to_string(id)) !=
               std::string::npos;
    })) << controller->log();

    const std::string data_dir = controller->data_dir();
    ASSERT_EQ(controller->stop(), 0);
    const RunResult cli =
        run_controller({"admin", "verify-audit"}, {{"MOOLAI_DATA_DIR", data_dir}});
    EXPECT_EQ(cli.exit_code, 1) << cli.output;
    EXPECT_NE(cli.output.find("audit chain BROKEN at row " + std::to_string(id) + ": row " +
                              std::to_string(id) + "'s contents do not match its hash"),
              std::string::npos)
        << cli.output;
}

TEST_F(Security, AnUntouchedAuditLogVerifiesFromTheCommandLine) {
    start();
    ASSERT_EQ(http_request(port(), "POST", "/api/v1/internal/organizations",
                           json{{"organization_id", "audit-ok"}, {"name", "ok"}}.dump(),
                           bearer(admin))
                  .status,
              201);
    const std::string data_dir = controller->data_dir();
    ASSERT_EQ(controller->stop(), 0);
    const RunResult cli =
        run_controller({"admin", "verify-audit"}, {{"MOOLAI_DATA_DIR", data_dir}});
    EXPECT_EQ(cli.exit_code, 0) << cli.output;
    EXPECT_NE(cli.output.find("audit chain intact: "), std::string::npos) << cli.output;
}

// verify-audit never migrates: on a database the controller has not yet
// brought to the chain's schema it cannot check, and says so (exit 2).
TEST(SecurityConfig, VerifyAuditOnAnUnmigratedDatabaseCannotCheck) {
    char dir[] = "/tmp/moolai-verify-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    const RunResult cli = run_controller({"admin", "verify-audit"}, {{"MOOLAI_DATA_DIR", dir}});
    EXPECT_EQ(cli.exit_code, 2) << cli.output;
    EXPECT_NE(cli.output.find("cannot check the audit log"), std::string::npos) << cli.output;
    std::filesystem::remove_all(dir);
}

TEST(SecurityConfig, ShortStaticTokensAreRefusedAtStart) {
    const RunResult r = run_controller({"--check-config"}, {{"DEV_BEARER_TOKEN", "short"}});
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("DEV_BEARER_TOKEN is 5 bytes; a static token must have at least 32"),
              std::string::npos)
        << r.output;
    const RunResult m =
        run_controller({"--check-config"}, {{"MOOLAI_METRICS_TOKEN", std::string(31, 'm')}});
    EXPECT_NE(m.exit_code, 0) << m.output;
    const RunResult p = run_controller({"--check-config"}, {{"MOOLAI_TRUSTED_PROXIES", "proxy.lan"}});
    EXPECT_NE(p.exit_code, 0) << p.output;
    EXPECT_NE(p.output.find("is not an IP address or network"), std::string::npos) << p.output;
    EXPECT_NE(run_controller({"--check-config"}, {{"MOOLAI_TRUSTED_PROXIES", "10.0.0.0/33"}}).exit_code,
              0);
}

}  // namespace
}  // namespace moolai::test
