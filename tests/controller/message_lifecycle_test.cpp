// Message delivery has an end: a message not acknowledged by its expiry turns
// `expired`, an operator can cancel one still in delivery, and neither is
// ever sent again. Redelivery finds an old unacknowledged message however
// many acknowledged ones came after it. Every change is audited and on the
// dashboard's stream. A real controller, real WebSocket clients; SQLite, and
// PostgreSQL through scripts/with-postgres.sh.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "support/fleet_fixture.hpp"

namespace moolai::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class MessageLifecycle : public ControllerTest {
protected:
    // Creates a recommendation for `orch` with `extra` fields; returns its id.
    std::string create(const std::string& orch, json extra = json::object()) {
        extra["message_type"] = "recommendation";
        extra["content"] = "lifecycle of " + orch;
        HttpResult r =
            http_request(port(), "POST", "/api/v1/internal/orchestrators/" + orch + "/messages",
                         extra.dump(), bearer(admin));
        EXPECT_EQ(r.status, 201) << r.body;
        return json::parse(r.body)["message_id"].get<std::string>();
    }
    HttpResult review(const std::string& id, const std::string& status) {
        return http_request(port(), "PUT", "/api/v1/internal/messages/" + id + "/status",
                            json{{"status", status}}.dump(), bearer(admin));
    }
    HttpResult cancel(const std::string& id, const std::string& token) {
        return http_request(port(), "POST", "/api/v1/internal/messages/" + id + "/cancel", "",
                            bearer(token));
    }
    // The stored record of message `id` of orchestrator `orch`.
    json message(const std::string& orch, const std::string& id) {
        const json page = json::parse(
            http_request(port(), "GET",
                         "/api/v1/internal/orchestrators/" + orch + "/messages?page_size=1000", "",
                         bearer(admin))
                .body);
        for (const json& m : page["data"])
            if (m["id"] == id) return m;
        return json::object();
    }
    std::string state(const std::string& orch, const std::string& id) {
        return message(orch, id).value("delivery_state", "missing");
    }
    // Audit rows about message `id`, as "old->new by actor".
    std::set<std::string> audited(const std::string& id) {
        std::set<std::string> out;
        const json page = json::parse(http_request(port(), "GET",
                                                   "/api/v1/internal/audit?action=message_changed"
                                                   "&page_size=1000",
                                                   "", bearer(admin))
                                          .body);
        for (const json& row : page["data"]["items"]) {
            if (row["detail"].value("message_id", "") != id) continue;
            auto text = [&](const char* k) {  // absent values read as null
                return row[k].is_string() ? row[k].get<std::string>() : std::string();
            };
            out.insert(text("old_value") + "->" + text("new_value") + " by " + text("actor"));
        }
        return out;
    }
    // Waits on the dashboard stream for message_changed of `id` to `to`.
    static json wait_event(WsTestClient& stream, const std::string& id, const std::string& to) {
        const auto until = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < until) {
            const json e = next(stream, 1000);
            if (e.is_object() && e.value("kind", "") == "message_changed" &&
                e.value("subject_id", "") == id && e.value("new_value", "") == to)
                return e;
        }
        return json();
    }
    void subscribe(WsTestClient& stream) {
        ASSERT_TRUE(stream.connect(url("/api/v1/events")));
        stream.send(json{{"type", "subscribe"}, {"token", admin}}.dump());
        ASSERT_EQ(next(stream)["type"], "subscribed");
    }
    // No forwarded message arrives within `window` (what the orchestrator
    // would get after register: held ones come right after provisioning).
    static bool nothing_forwarded(WsTestClient& ws, std::chrono::milliseconds window = 800ms) {
        const auto until = std::chrono::steady_clock::now() + window;
        while (std::chrono::steady_clock::now() < until) {
            auto f = ws.receive(std::chrono::duration_cast<std::chrono::milliseconds>(
                until - std::chrono::steady_clock::now()));
            if (!f) return true;
            if (json::parse(*f).contains("message_id")) return false;
        }
        return true;
    }
};

TEST_F(MessageLifecycle, ANeverAcknowledgedMessageExpiresAndIsNeverSentAgain) {
    start();
    const std::string token = issue(port(), admin, "acme", "exp-1");
    WsTestClient stream;
    subscribe(stream);
    WsTestClient ws;
    connect_and_register(ws, "exp-1", token);

    const std::string id = create("exp-1", {{"ttl_sec", 2}});
    EXPECT_TRUE(message("exp-1", id)["expires_at"].is_string()) << message("exp-1", id);
    ASSERT_EQ(review(id, "accepted").status, 200);
    EXPECT_EQ(next(ws)["message_id"], id);
    EXPECT_EQ(state("exp-1", id), "sent");

    // No ack: the sweep ends it.
    ASSERT_TRUE(eventually([&] { return state("exp-1", id) == "expired"; }, 10s))
        << message("exp-1", id) << controller->log();
    EXPECT_TRUE(message("exp-1", id)["ended_at"].is_string());
    const json e = wait_event(stream, id, "expired");
    ASSERT_TRUE(e.is_object()) << "no message_changed event to expired";
    EXPECT_EQ(e["old_value"], "sent");
    EXPECT_EQ(e["actor"], "system");
    EXPECT_EQ(e["organization_id"], "acme");

    // Registering again sends nothing; a late ack changes nothing.
    ws.close();
    ws.wait_closed();
    WsTestClient again;
    EXPECT_EQ(connect_and_register(again, "exp-1", token)["type"], "provisioning");
    EXPECT_TRUE(nothing_forwarded(again)) << "an expired message went out again";
    again.send(json{{"type", "message_ack"}, {"message_id", id}}.dump());
    again.send(R"({"type":"request_status"})");
    EXPECT_EQ(next(again)["type"], "status");
    EXPECT_FALSE(eventually([&] { return state("exp-1", id) != "expired"; }, 500ms));
    EXPECT_EQ(review(id, "dismissed").status, 409);

    const std::set<std::string> audit = audited(id);
    EXPECT_TRUE(audit.count("->pending by root")) << testing::PrintToString(audit);
    EXPECT_TRUE(audit.count("pending->accepted by root")) << testing::PrintToString(audit);
    EXPECT_TRUE(audit.count("none->sent by system")) << testing::PrintToString(audit);
    EXPECT_TRUE(audit.count("sent->expired by system")) << testing::PrintToString(audit);
}

TEST_F(MessageLifecycle, TheConfiguredDefaultTtlEndsAHeldMessage) {
    start({{"MOOLAI_MESSAGE_TTL_SEC", "1"}});
    const std::string token = issue(port(), admin, "acme", "exp-2");
    // Offline: accepted and held (queued), never acknowledged.
    const std::string id = create("exp-2");
    ASSERT_EQ(review(id, "accepted").status, 200);
    ASSERT_TRUE(eventually([&] { return state("exp-2", id) == "expired"; }, 10s))
        << message("exp-2", id);
    // A pending one expires too: nobody reviewed it in time.
    const std::string unreviewed = create("exp-2");
    ASSERT_TRUE(eventually([&] { return state("exp-2", unreviewed) == "expired"; }, 10s));
    EXPECT_EQ(review(unreviewed, "accepted").status, 409) << "an expired message is not reviewed";
    WsTestClient ws;
    EXPECT_EQ(connect_and_register(ws, "exp-2", token)["type"], "provisioning");
    EXPECT_TRUE(nothing_forwarded(ws));
}

TEST_F(MessageLifecycle, ExpiryOnCreationIsChecked) {
    start();
    issue(port(), admin, "acme", "exp-3");
    const std::string path = "/api/v1/internal/orchestrators/exp-3/messages";
    auto post = [&](json extra) {
        extra["message_type"] = "recommendation";
        extra["content"] = "x";
        return http_request(port(), "POST", path, extra.dump(), bearer(admin));
    };
    EXPECT_EQ(post({{"ttl_sec", 0}}).status, 400);
    EXPECT_EQ(post({{"ttl_sec", "60"}}).status, 400);
    EXPECT_EQ(post({{"expires_at", "tomorrow"}}).status, 400);
    EXPECT_EQ(post({{"expires_at", "2001-01-01T00:00:00Z"}}).status, 400);
    EXPECT_EQ(post({{"ttl_sec", 60}, {"expires_at", "2099-01-01T00:00:00Z"}}).status, 400);
    HttpResult at = post({{"expires_at", "2099-01-01T00:00:00Z"}});
    ASSERT_EQ(at.status, 201) << at.body;
    EXPECT_EQ(json::parse(at.body)["data"]["expires_at"], "2099-01-01T00:00:00Z");
    // Without either: the default (7 days) from now.
    HttpResult plain = post(json::object());
    ASSERT_EQ(plain.status, 201);
    EXPECT_TRUE(json::parse(plain.body)["data"]["expires_at"].is_string()) << plain.body;
}

TEST_F(MessageLifecycle, CancelBeforeSendAndAfterSendBeforeAck) {
    start();
    const std::string token = issue(port(), admin, "acme", "can-1");
    WsTestClient stream;
    subscribe(stream);

    // Before send: held while offline, cancelled, never sent.
    const std::string held = create("can-1");
    ASSERT_EQ(review(held, "accepted").status, 200);
    EXPECT_EQ(state("can-1", held), "queued");
    HttpResult c = cancel(held, admin);
    ASSERT_EQ(c.status, 200) << c.body;
    EXPECT_EQ(json::parse(c.body)["data"]["delivery_state"], "cancelled");
    EXPECT_TRUE(json::parse(c.body)["data"]["ended_at"].is_string());
    const json e = wait_event(stream, held, "cancelled");
    ASSERT_TRUE(e.is_object());
    EXPECT_EQ(e["old_value"], "queued");
    EXPECT_EQ(e["actor"], "root");

    WsTestClient ws;
    EXPECT_EQ(connect_and_register(ws, "can-1", token)["type"], "provisioning");
    EXPECT_TRUE(nothing_forwarded(ws)) << "a cancelled message went out";

    // After send, before ack: not sent again at the next register; a late
    // ack does not revive it.
    const std::string sent = create("can-1");
    ASSERT_EQ(review(sent, "accepted").status, 200);
    EXPECT_EQ(next(ws)["message_id"], sent);
    ASSERT_EQ(cancel(sent, admin).status, 200);
    ws.close();
    ws.wait_closed();
    WsTestClient again;
    EXPECT_EQ(connect_and_register(again, "can-1", token)["type"], "provisioning");
    EXPECT_TRUE(nothing_forwarded(again)) << "a cancelled message went out again";
    again.send(json{{"type", "message_ack"}, {"message_id", sent}}.dump());
    again.send(R"({"type":"request_status"})");
    EXPECT_EQ(next(again)["type"], "status");
    EXPECT_FALSE(eventually([&] { return state("can-1", sent) != "cancelled"; }, 500ms));

    // A pending one can be cancelled; it cannot be accepted afterwards.
    const std::string pending = create("can-1");
    ASSERT_EQ(cancel(pending, admin).status, 200);
    EXPECT_EQ(review(pending, "accepted").status, 409);
    EXPECT_TRUE(nothing_forwarded(again));

    const std::set<std::string> audit = audited(sent);
    EXPECT_TRUE(audit.count("sent->cancelled by root")) << testing::PrintToString(audit);
}

TEST_F(MessageLifecycle, CancelOfAnEndedMessageIs409) {
    start();
    const std::string token = issue(port(), admin, "acme", "can-2");
    WsTestClient ws;
    connect_and_register(ws, "can-2", token);

    const std::string acked = create("can-2");
    ASSERT_EQ(review(acked, "accepted").status, 200);
    EXPECT_EQ(next(ws)["message_id"], acked);
    ws.send(json{{"type", "message_ack"}, {"message_id", acked}}.dump());
    ASSERT_TRUE(eventually([&] { return state("can-2", acked) == "acknowledged"; }));
    HttpResult r = cancel(acked, admin);
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_NE(r.body.find("acknowledged"), std::string::npos) << r.body;
    EXPECT_EQ(state("can-2", acked), "acknowledged");

    const std::string twice = create("can-2");
    ASSERT_EQ(cancel(twice, admin).status, 200);
    r = cancel(twice, admin);
    EXPECT_EQ(r.status, 409);
    EXPECT_NE(r.body.find("cancelled"), std::string::npos) << r.body;

    const std::string expired = create("can-2", {{"ttl_sec", 1}});
    ASSERT_TRUE(eventually([&] { return state("can-2", expired) == "expired"; }, 10s));
    r = cancel(expired, admin);
    EXPECT_EQ(r.status, 409);
    EXPECT_NE(r.body.find("expired"), std::string::npos) << r.body;

    const std::string dismissed = create("can-2");
    ASSERT_EQ(review(dismissed, "dismissed").status, 200);
    r = cancel(dismissed, admin);
    EXPECT_EQ(r.status, 409);
    EXPECT_NE(r.body.find("dismissed"), std::string::npos) << r.body;

    EXPECT_EQ(cancel("msg-no-such-message", admin).status, 404);
    EXPECT_EQ(http_request(port(), "POST", "/api/v1/internal/messages/" + twice + "/cancel", "", {})
                  .status,
              401);
}

TEST_F(MessageLifecycle, CancelKeepsToTheCallersOrganization) {
    start();
    issue(port(), admin, "tenant-a", "ten-a");
    issue(port(), admin, "tenant-b", "ten-b");
    const std::string alice = make_org_admin(port(), admin, "alice", "tenant-a");
    const std::string bob = make_org_admin(port(), admin, "bob", "tenant-b");
    const std::string id = create("ten-a");

    HttpResult r = cancel(id, bob);
    EXPECT_EQ(r.status, 404) << "another organization's message is not found: " << r.body;
    EXPECT_EQ(state("ten-a", id), "none");
    r = cancel(id, alice);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(state("ten-a", id), "cancelled");
    const std::set<std::string> audit = audited(id);
    EXPECT_TRUE(audit.count("none->cancelled by alice")) << testing::PrintToString(audit);
}

// The newest 1000 accepted messages used to be all redelivery looked at,
// acknowledged ones included: an older unacknowledged one behind 1000
// acknowledged ones was never sent again.
TEST_F(MessageLifecycle, RedeliveryFindsAnOldUnacknowledgedMessageBehindAThousandAcknowledged) {
    // 2,000 REST calls from one address in seconds: past the per-address
    // limit, which is not what this test is about.
    start({{"MOOLAI_REST_RATE_PER_ADDRESS", "0"}});
    const std::string token = issue(port(), admin, "acme", "red-1");
    WsTestClient ws;
    connect_and_register(ws, "red-1", token);

    const std::string old = create("red-1");
    ASSERT_EQ(review(old, "accepted").status, 200);
    EXPECT_EQ(next(ws)["message_id"], old);  // sent, never acknowledged

    std::string last;
    for (int i = 0; i < 1001; ++i) {
        last = create("red-1");
        // Once seen on PostgreSQL in CI: a 503 here; the log says why.
        ASSERT_EQ(review(last, "accepted").status, 200) << "message " << i << "\n"
                                                        << controller->log();
        json frame = next(ws);
        // At least once: the redelivery the register queued may run after
        // `old` went out, and send it again.
        while (frame.is_object() && frame.value("message_id", "") == old) frame = next(ws);
        ASSERT_EQ(frame["message_id"], last) << frame;
        ws.send(json{{"type", "message_ack"}, {"message_id", last}}.dump());
    }
    // Acks are stored in order: the last one stored means all are.
    ASSERT_TRUE(eventually([&] { return state("red-1", last) == "acknowledged"; }, 30s));

    ws.close();
    ws.wait_closed();
    WsTestClient again;
    EXPECT_EQ(connect_and_register(again, "red-1", token)["type"], "provisioning");
    const json resent = next(again);
    EXPECT_EQ(resent["message_id"], old) << resent;
    EXPECT_TRUE(nothing_forwarded(again)) << "only the unacknowledged one goes again";
}

}  // namespace
}  // namespace moolai::test
