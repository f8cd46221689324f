// moolai_orchestrator_client against a scripted controller: a real WebSocket
// server (the host's WsServer) whose answers each test sets, for what the
// real controller cannot be made to send -- provisioning without a heartbeat
// interval or with a bad one, heartbeat_ack naming the next interval, a
// redelivery of an acknowledged message, an upgrade held up while the client
// stops.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "moolai/orchestrator_client.hpp"
#include "net/ws_server.hpp"

namespace moolai::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using orchestrator::ClientOptions;
using orchestrator::ClientRuntime;
using orchestrator::ClientState;
using orchestrator::OrchestratorClient;

const bool kSigpipeIgnored = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
}();

// Answers register with provisioning (`config`), every i_am_alive with a
// heartbeat_ack (plus `ack_extra`'s fields), and records what arrives.
class ScriptedController {
public:
    explicit ScriptedController(json config = json::object()) : config_(std::move(config)) {
        host::WsOptions o;
        o.host = "127.0.0.1";
        o.port = 0;
        o.logger = [](int, std::string_view) {};
        host::WsHandlers h;
        h.on_validate = [this](const host::WsUpgrade&) {
            std::unique_lock<std::mutex> lk(m_);
            ++upgrades_;
            cv_.notify_all();
            cv_.wait(lk, [this] { return !hold_upgrades_; });
            return refuse_upgrades_ ? 503 : 0;
        };
        h.on_open = [this](host::WsConnection& c) {
            c.send(R"({"type":"handshake_ack"})");
            note([&] { open_.insert(c.id()); });
        };
        h.on_message = [this](host::WsConnection& c, std::string_view text) { on_frame(c, text); };
        h.on_close = [this](host::WsConnection& c, uint16_t) {
            note([&] { open_.erase(c.id()); });
        };
        server_ = std::make_unique<host::WsServer>(o, h);
        server_->start();
    }
    ~ScriptedController() { stop(); }

    std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_()) + "/ws"; }
    // Closes every connection with 1001 and stops listening.
    void stop() {
        release_upgrades();
        server_->stop();
    }
    void set_config(json config) {
        note([&] { config_ = std::move(config); });
    }
    void set_ack_extra(json extra) {
        note([&] { ack_extra_ = std::move(extra); });
    }
    // Sent right after each provisioning.
    void set_after_register(std::vector<json> frames) {
        note([&] { after_register_ = std::move(frames); });
    }
    void refuse_upgrades(bool refuse) {
        note([&] { refuse_upgrades_ = refuse; });
    }
    // register is answered with 1008, as a controller does for a credential
    // it does not know.
    void refuse_registers(bool refuse) {
        note([&] { refuse_registers_ = refuse; });
    }
    void close_all(uint16_t code, const std::string& reason) {
        std::vector<host::ConnectionId> ids;
        note([&] { ids.assign(open_.begin(), open_.end()); });
        for (const host::ConnectionId id : ids) server_->close(id, code, reason);
    }
    void hold_upgrades() {
        note([&] { hold_upgrades_ = true; });
    }
    void release_upgrades() {
        note([&] { hold_upgrades_ = false; });
    }
    void send_to_all(const json& frame) {
        std::vector<host::ConnectionId> ids;
        note([&] { ids.assign(open_.begin(), open_.end()); });
        for (const host::ConnectionId id : ids) server_->send(id, frame.dump());
    }

    bool wait(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
        std::unique_lock<std::mutex> lk(m_);
        return cv_.wait_for(lk, timeout, done);
    }
    template <class F>
    auto locked(F f) {
        std::lock_guard<std::mutex> lk(m_);
        return f();
    }

    // Under the lock (locked() / wait()).
    int upgrades_ = 0;
    int registers_ = 0;
    std::vector<Clock::time_point> heartbeats_;
    std::vector<std::string> acks_;  // message ids, in arrival order

private:
    uint16_t port_() const { return server_->port(); }
    void note(const std::function<void()>& f) {
        std::lock_guard<std::mutex> lk(m_);
        f();
        cv_.notify_all();
    }
    void on_frame(host::WsConnection& c, std::string_view text) {
        const json j = json::parse(text, nullptr, false);
        const std::string type = j.is_object() ? j.value("type", "") : "";
        const std::string id = j.is_object() ? j.value("orchestrator_id", "") : "";
        std::vector<std::string> out;
        bool refuse = false;
        note([&] {
            if (type == "register") {
                ++registers_;
                refuse = refuse_registers_;
                if (refuse) return;
                out.push_back(
                    json{{"type", "provisioning"}, {"orchestrator_id", id}, {"config", config_}}
                        .dump());
                for (const json& f : after_register_) out.push_back(f.dump());
            } else if (type == "i_am_alive") {
                heartbeats_.push_back(Clock::now());
                json ack = {
                    {"type", "heartbeat_ack"}, {"orchestrator_id", id}, {"processed", true}};
                ack.update(ack_extra_);
                out.push_back(ack.dump());
            } else if (type == "message_ack") {
                acks_.push_back(j.value("message_id", ""));
            }
        });
        if (refuse) c.close(1008, "invalid orchestrator credentials");
        for (const std::string& f : out) c.send(f);
    }

    std::mutex m_;
    std::condition_variable cv_;
    json config_;
    json ack_extra_ = json::object();
    std::vector<json> after_register_;
    std::set<host::ConnectionId> open_;
    bool refuse_upgrades_ = false;
    bool refuse_registers_ = false;
    bool hold_upgrades_ = false;
    std::unique_ptr<host::WsServer> server_;
};

// What the client reported.
struct Seen {
    std::mutex m;
    std::condition_variable cv;
    std::vector<orchestrator::Provisioning> registered;
    std::vector<orchestrator::Disconnect> disconnects;
    std::vector<std::string> messages, refused;
    int connected = 0, acks = 0;

    orchestrator::ClientHandlers handlers() {
        orchestrator::ClientHandlers h;
        h.on_connected = [this] { note([&] { ++connected; }); };
        h.on_registered = [this](const orchestrator::Provisioning& p) {
            note([&] { registered.push_back(p); });
        };
        h.on_disconnected = [this](const orchestrator::Disconnect& d) {
            note([&] { disconnects.push_back(d); });
        };
        h.on_heartbeat_ack = [this](bool) { note([&] { ++acks; }); };
        h.on_refused = [this](const std::string& r) { note([&] { refused.push_back(r); }); };
        h.on_message = [this](const orchestrator::ForwardedMessage& msg) {
            note([&] { messages.push_back(msg.message_id); });
        };
        return h;
    }
    void note(const std::function<void()>& f) {
        std::lock_guard<std::mutex> lk(m);
        f();
        cv.notify_all();
    }
    bool wait(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
        std::unique_lock<std::mutex> lk(m);
        return cv.wait_for(lk, timeout, done);
    }
    template <class F>
    auto locked(F f) {
        std::lock_guard<std::mutex> lk(m);
        return f();
    }
};

ClientOptions options_for(const std::string& url, const std::string& id = "orch-1") {
    ClientOptions o;
    o.url = url;
    o.orchestrator_id = id;
    o.token = "t";
    o.backoff.base = 50ms;
    o.backoff.cap = 200ms;
    return o;
}

bool eventually(const std::function<bool()>& check, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        if (check()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return check();
}

TEST(ScriptedController, TheProvisionedIntervalIsClampedAndABadOneIgnored) {
    ScriptedController controller;
    ClientRuntime runtime(1);
    // The config's heartbeat_interval_sec -> the interval used, and what
    // Provisioning reports of it (whole seconds, 0 = none valid).
    const std::vector<std::tuple<json, std::chrono::milliseconds, int>> cases = {
        {json::object(), 30000ms, 0},
        {{{"heartbeat_interval_sec", 7}}, 7000ms, 7},
        {{{"heartbeat_interval_sec", 2.5}}, 2500ms, 3},
        {{{"heartbeat_interval_sec", 0.2}}, 1000ms, 1},
        {{{"heartbeat_interval_sec", 86400}}, 600000ms, 600},
        {{{"heartbeat_interval_sec", 0}}, 30000ms, 0},
        {{{"heartbeat_interval_sec", -5}}, 30000ms, 0},
        {{{"heartbeat_interval_sec", "10"}}, 30000ms, 0},
        {{{"heartbeat_interval_sec", true}}, 30000ms, 0},
        {{{"heartbeat_interval_sec", nullptr}}, 30000ms, 0},
    };
    for (const auto& [config, interval, reported] : cases) {
        controller.set_config(config);
        Seen seen;
        OrchestratorClient client(runtime, options_for(controller.url()), seen.handlers());
        EXPECT_EQ(client.heartbeat_interval(), 30000ms) << "before any controller named one";
        client.start();
        ASSERT_TRUE(seen.wait([&] { return !seen.registered.empty(); })) << config;
        const orchestrator::Provisioning p = seen.locked([&] { return seen.registered[0]; });
        EXPECT_EQ(p.heartbeat_interval, interval) << config;
        EXPECT_EQ(p.heartbeat_interval_sec, reported) << config;
        EXPECT_EQ(client.heartbeat_interval(), interval) << config;
    }
}

TEST(ScriptedController, AHeartbeatAckNamesTheNextInterval) {
    ScriptedController controller(json{{"heartbeat_interval_sec", 1}});
    ClientRuntime runtime(1);
    Seen seen;
    OrchestratorClient client(runtime, options_for(controller.url()), seen.handlers());
    // A caller's own interval wins over the controller's.
    ClientOptions fixed_options = options_for(controller.url(), "orch-fixed");
    fixed_options.heartbeat_interval = 1500ms;
    Seen fixed_seen;
    OrchestratorClient fixed(runtime, fixed_options, fixed_seen.handlers());
    client.start();
    fixed.start();
    ASSERT_TRUE(seen.wait([&] { return seen.acks >= 2; }));
    EXPECT_EQ(client.heartbeat_interval(), 1000ms);

    controller.set_ack_extra({{"heartbeat_interval_sec", 2}});
    ASSERT_TRUE(eventually([&] { return client.heartbeat_interval() == 2000ms; }));
    const int fixed_acks = fixed_seen.locked([&] { return fixed_seen.acks; });
    ASSERT_TRUE(fixed_seen.wait([&] { return fixed_seen.acks >= fixed_acks + 2; }));
    EXPECT_EQ(fixed.heartbeat_interval(), 1500ms) << "ClientOptions::heartbeat_interval wins";
    fixed.stop();
    ASSERT_TRUE(eventually([&] { return fixed.state() == ClientState::stopped; }));
    // Only `client` heartbeats from here on.
    const size_t mark = controller.locked([&] { return controller.heartbeats_.size(); });
    ASSERT_TRUE(controller.wait([&] { return controller.heartbeats_.size() >= mark + 3; }, 10s));
    controller.locked([&] {
        for (size_t i = mark + 1; i < mark + 3; ++i)
            EXPECT_GE(controller.heartbeats_[i] - controller.heartbeats_[i - 1], 1900ms) << i;
    });

    // A bad value or none keeps the interval in use.
    for (const json& extra : {json{{"heartbeat_interval_sec", "fast"}},
                              json{{"heartbeat_interval_sec", -1}}, json::object()}) {
        controller.set_ack_extra(extra);
        const int acks = seen.locked([&] { return seen.acks; });
        ASSERT_TRUE(seen.wait([&] { return seen.acks >= acks + 1; })) << extra;
        EXPECT_EQ(client.heartbeat_interval(), 2000ms) << extra;
    }
    seen.locked([&] { EXPECT_TRUE(seen.disconnects.empty()); });
}

// An older controller names no interval: the one the fleet had stays,
// rather than falling back to 30 s.
TEST(ScriptedController, AnIntervalOutlivesAFailoverToAControllerThatNamesNone) {
    ScriptedController first(json{{"heartbeat_interval_sec", 2}});
    ScriptedController older;
    ClientRuntime runtime(1);
    Seen seen;
    ClientOptions o = options_for("");
    o.urls = {first.url(), older.url()};
    o.first_url = 0;
    OrchestratorClient client(runtime, o, seen.handlers());
    client.start();
    ASSERT_TRUE(seen.wait([&] { return !seen.registered.empty(); }));
    EXPECT_EQ(client.current_url(), first.url());
    EXPECT_EQ(client.heartbeat_interval(), 2000ms);
    first.stop();
    ASSERT_TRUE(seen.wait([&] { return seen.registered.size() >= 2; }));
    const orchestrator::Provisioning p = seen.locked([&] { return seen.registered[1]; });
    EXPECT_EQ(p.url, older.url());
    EXPECT_EQ(p.heartbeat_interval_sec, 0);
    EXPECT_EQ(p.heartbeat_interval, 2000ms);
    EXPECT_EQ(client.current_url(), older.url());
    seen.locked([&] {
        ASSERT_EQ(seen.disconnects.size(), 1u);
        EXPECT_EQ(seen.disconnects[0].close_code, 1001);
        EXPECT_EQ(seen.disconnects[0].url, first.url());
        EXPECT_EQ(seen.disconnects[0].next_url, older.url());
    });
}

// With several URLs a 1008 moves on to the next (one host may not know a
// credential yet); the client is refused once every URL refused it. A
// session ended on purpose (1000) is not tried elsewhere.
TEST(ScriptedController, ARefusalMovesOnAndOnlyAllRefusingIsFinal) {
    ScriptedController lagging, knowing, also_lagging;
    lagging.refuse_registers(true);
    also_lagging.refuse_registers(true);
    ClientRuntime runtime(1);
    {
        Seen seen;
        ClientOptions o = options_for("");
        o.urls = {lagging.url(), knowing.url()};
        o.first_url = 0;
        OrchestratorClient client(runtime, o, seen.handlers());
        client.start();
        ASSERT_TRUE(seen.wait([&] { return !seen.registered.empty(); }));
        EXPECT_EQ(client.current_url(), knowing.url());
        seen.locked([&] {
            ASSERT_EQ(seen.disconnects.size(), 1u);
            EXPECT_EQ(seen.disconnects[0].close_code, 1008);
            EXPECT_TRUE(seen.disconnects[0].will_retry);
            EXPECT_EQ(seen.disconnects[0].next_url, knowing.url());
        });
        knowing.close_all(1000, "replaced by a newer connection");
        ASSERT_TRUE(seen.wait([&] { return !seen.refused.empty(); }));
        EXPECT_EQ(client.state(), ClientState::refused);
        EXPECT_EQ(lagging.locked([&] { return lagging.registers_; }), 1)
            << "not tried elsewhere after a deliberate 1000";
    }
    Seen seen;
    ClientOptions o = options_for("");
    o.urls = {lagging.url(), also_lagging.url()};
    o.first_url = 1;
    OrchestratorClient client(runtime, o, seen.handlers());
    client.start();
    ASSERT_TRUE(seen.wait([&] { return !seen.refused.empty(); }));
    EXPECT_EQ(client.state(), ClientState::refused);
    seen.locked([&] {
        ASSERT_EQ(seen.disconnects.size(), 2u);
        EXPECT_EQ(seen.disconnects[0].url, also_lagging.url());
        EXPECT_TRUE(seen.disconnects[0].will_retry);
        EXPECT_EQ(seen.disconnects[1].url, lagging.url());
        EXPECT_FALSE(seen.disconnects[1].will_retry);
        EXPECT_EQ(seen.refused[0], "invalid orchestrator credentials");
    });
}

// A message acknowledged while the link was down reaches the next
// controller; one whose ack was lost and that comes again is acknowledged
// again by the library and not handed to the caller twice.
TEST(ScriptedController, AcksReachTheNextControllerAndRedeliveriesAreAckedAgain) {
    const json m1 = {{"type", "recommendation"}, {"message_id", "m-1"}, {"content", "one"}};
    const json m2 = {{"type", "recommendation"}, {"message_id", "m-2"}, {"content", "two"}};
    ScriptedController first(json{{"heartbeat_interval_sec", 1}});
    ScriptedController second(json{{"heartbeat_interval_sec", 1}});
    first.set_after_register({m1, m2});
    second.set_after_register({m1, m2});  // as a controller redelivers what it has no ack for
    second.refuse_upgrades(true);
    ClientRuntime runtime(1);
    Seen seen;
    ClientOptions o = options_for("");
    o.urls = {first.url(), second.url()};
    o.first_url = 0;
    OrchestratorClient client(runtime, o, seen.handlers());
    client.start();
    ASSERT_TRUE(seen.wait([&] { return seen.messages.size() == 2; }));
    EXPECT_TRUE(client.ack_message("m-1"));
    ASSERT_TRUE(first.wait([&] { return first.acks_.size() == 1; }));
    // The controller dies before m-2 is acknowledged; the other one refuses
    // upgrades for now, so the client is certainly between connections.
    first.stop();
    ASSERT_TRUE(seen.wait([&] { return !seen.disconnects.empty(); }));
    EXPECT_NE(client.state(), ClientState::registered);
    EXPECT_FALSE(client.ack_message("m-2")) << "not sent now: kept for the next connection";
    ASSERT_TRUE(second.wait([&] { return second.upgrades_ >= 1; }));
    second.refuse_upgrades(false);
    ASSERT_TRUE(seen.wait([&] { return seen.registered.size() >= 2; }, 15s));
    EXPECT_EQ(client.current_url(), second.url());
    // m-2 once as the kept ack; m-1 and m-2 again as redelivered.
    ASSERT_TRUE(second.wait([&] { return second.acks_.size() >= 3; }));
    second.locked([&] {
        EXPECT_EQ(second.acks_[0], "m-2") << "the kept ack goes first, right after provisioning";
        EXPECT_EQ(std::multiset<std::string>(second.acks_.begin(), second.acks_.end()),
                  (std::multiset<std::string>{"m-1", "m-2", "m-2"}));
    });
    seen.locked([&] {
        EXPECT_EQ(seen.messages, (std::vector<std::string>{"m-1", "m-2"}))
            << "redeliveries of acknowledged messages are not reported again";
    });
}

// Each on_connected is paired with one on_disconnected that says was_open,
// and no other does -- also when stop() comes while the upgrade is under way
// and the upgrade completes after it.
TEST(ScriptedController, AStopDuringTheUpgradeReportsNoConnection) {
    ScriptedController controller;
    controller.hold_upgrades();
    ClientRuntime runtime(1);
    Seen seen;
    OrchestratorClient client(runtime, options_for(controller.url()), seen.handlers());
    client.start();
    ASSERT_TRUE(controller.wait([&] { return controller.upgrades_ >= 1; }));
    EXPECT_EQ(client.state(), ClientState::connecting);
    client.stop();  // queued on the client's strand before the upgrade can complete
    controller.release_upgrades();
    ASSERT_TRUE(eventually([&] { return client.state() == ClientState::stopped; }));
    ASSERT_TRUE(seen.wait([&] { return !seen.disconnects.empty(); }));
    seen.locked([&] {
        EXPECT_EQ(seen.connected, 0);
        ASSERT_EQ(seen.disconnects.size(), 1u);
        EXPECT_FALSE(seen.disconnects[0].was_open) << "no on_connected came before it";
        EXPECT_FALSE(seen.disconnects[0].will_retry);
    });
    EXPECT_EQ(controller.locked([&] { return controller.registers_; }), 0);
}

}  // namespace
}  // namespace moolai::test
