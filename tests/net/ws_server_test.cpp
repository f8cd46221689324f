// WsServer against real sockets (port 0, loopback).
#include <gtest/gtest.h>

#include <unistd.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "net/http_test_client.hpp"
#include "net/ws_log_line.hpp"
#include "net/ws_server.hpp"
#include "net/ws_test_client.hpp"

using namespace moolai::host;
using moolai::test::WsTestClient;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

const bool kSigpipeIgnored = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
}();

std::string url(const WsServer& s, const std::string& path = "/ws") {
    return "ws://127.0.0.1:" + std::to_string(s.port()) + path;
}

WsOptions local_options() {
    WsOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.logger = [](int, std::string_view) {};  // tests that look at logs set their own
    return o;
}

// What the server's handlers saw, with waits instead of sleeps.
struct Events {
    std::mutex m;
    std::condition_variable cv;
    std::vector<ConnectionId> opened;
    std::map<ConnectionId, WsUpgrade> upgrades;
    std::map<ConnectionId, uint16_t> closed;

    template <class Pred>
    bool wait(Pred p, milliseconds t = milliseconds(5000)) {
        std::unique_lock<std::mutex> lk(m);
        return cv.wait_for(lk, t, [&] { return p(); });
    }
};

// Echo server recording opens and closes.
WsHandlers echo_handlers(Events& ev) {
    WsHandlers h;
    h.on_open = [&ev](WsConnection& c) {
        std::lock_guard<std::mutex> lk(ev.m);
        ev.opened.push_back(c.id());
        ev.upgrades[c.id()] = c.upgrade();
        ev.cv.notify_all();
    };
    h.on_message = [](WsConnection& c, std::string_view msg) { c.send(msg); };
    h.on_close = [&ev](WsConnection& c, uint16_t code) {
        std::lock_guard<std::mutex> lk(ev.m);
        ev.closed[c.id()] = code;
        ev.cv.notify_all();
    };
    return h;
}

}  // namespace

TEST(WsServer, AcceptsUpgradeOnPathAndRejectsOtherPathsWith404) {
    Events ev;
    WsServer server(local_options(), echo_handlers(ev));
    server.start();
    ASSERT_NE(server.port(), 0);

    WsTestClient ok;
    ASSERT_TRUE(ok.connect(url(server) + "?ticket=abc"));
    ASSERT_TRUE(ev.wait([&] { return ev.opened.size() == 1; }));
    {
        std::lock_guard<std::mutex> lk(ev.m);
        const WsUpgrade& up = ev.upgrades[ev.opened[0]];
        EXPECT_EQ(up.path, "/ws");
        EXPECT_EQ(up.query, "ticket=abc");
        EXPECT_EQ(up.authorization, "");
        EXPECT_EQ(up.remote.rfind("127.0.0.1:", 0), 0u) << up.remote;
    }
    EXPECT_EQ(server.connection_count(), 1u);

    WsTestClient wrong;
    EXPECT_FALSE(wrong.connect(url(server, "/other")));
    EXPECT_EQ(wrong.http_status(), 404);
    auto body = nlohmann::json::parse(wrong.http_body());
    EXPECT_EQ(body["success"], false);
    EXPECT_EQ(body["error"]["code"], "not_found");
    EXPECT_EQ(ev.opened.size(), 1u);
}

TEST(WsServer, ValidateRejectsWith401AndJsonBody) {
    Events ev;
    WsHandlers h = echo_handlers(ev);
    h.on_validate = [](const WsUpgrade& up) { return up.authorization == "Bearer good" ? 0 : 401; };
    WsServer server(local_options(), h);
    server.start();

    WsTestClient anon;
    EXPECT_FALSE(anon.connect(url(server)));
    EXPECT_EQ(anon.http_status(), 401);
    auto body = nlohmann::json::parse(anon.http_body());
    EXPECT_EQ(body["success"], false);
    EXPECT_EQ(body["error"]["code"], "unauthorized");
    EXPECT_TRUE(body["error"]["message"].is_string());

    WsTestClient authed;
    ASSERT_TRUE(authed.connect(url(server), "Bearer good"));
    ASSERT_TRUE(ev.wait([&] { return ev.opened.size() == 1; }));
    std::lock_guard<std::mutex> lk(ev.m);
    EXPECT_EQ(ev.upgrades[ev.opened[0]].authorization, "Bearer good");
}

TEST(WsServer, PlainHttpOnTheWsPortGetsJsonError) {
    Events ev;
    WsServer server(local_options(), echo_handlers(ev));
    server.start();
    auto r = moolai::test::http_request(server.port(), "GET", "/ws");
    EXPECT_EQ(r.status, 426) << r.error;
    EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["code"], "upgrade_required");
    r = moolai::test::http_request(server.port(), "GET", "/elsewhere");
    EXPECT_EQ(r.status, 404) << r.error;
}

TEST(WsServer, EchoesTextAndBinaryFrames) {
    Events ev;
    WsServer server(local_options(), echo_handlers(ev));
    server.start();

    WsTestClient c;
    ASSERT_TRUE(c.connect(url(server)));
    ASSERT_TRUE(c.send("hello"));
    EXPECT_EQ(c.receive(), "hello");
    ASSERT_TRUE(c.send_binary("{\"binary\":1}"));
    EXPECT_EQ(c.receive(), "{\"binary\":1}");
    const std::string big(512 * 1024, 'x');  // under the 1 MiB default
    ASSERT_TRUE(c.send(big));
    EXPECT_EQ(c.receive(), big);
    EXPECT_FALSE(server.send(987654321, "nobody"));
}

TEST(WsServer, OversizedMessageClosesWith1009) {
    Events ev;
    WsOptions o = local_options();
    o.max_message_bytes = 1024;
    std::mutex log_m;
    std::vector<std::string> logs;
    o.logger = [&](int, std::string_view line) {
        std::lock_guard<std::mutex> lk(log_m);
        logs.emplace_back(line);
    };
    WsServer server(o, echo_handlers(ev));
    server.start();

    WsTestClient c;
    ASSERT_TRUE(c.connect(url(server)));
    ASSERT_TRUE(c.send(std::string(1024, 'a')));  // at the limit: fine
    EXPECT_EQ(c.receive(), std::string(1024, 'a'));
    ASSERT_TRUE(c.send(std::string(1025, 'a')));
    EXPECT_EQ(c.wait_closed(), uint16_t{1009});
    ASSERT_TRUE(ev.wait([&] { return ev.closed.size() == 1; }));
    EXPECT_EQ(ev.closed.begin()->second, 1009);
    EXPECT_EQ(server.connection_count(), 0u);
    std::lock_guard<std::mutex> lk(log_m);  // websocketpp's error log reaches our logger
    bool seen = false;
    for (const auto& l : logs) seen |= l.find("too large") != std::string::npos;
    EXPECT_TRUE(seen);
}

TEST(WsServer, ServerInitiatedCloseCodeReachesClient) {
    Events ev;
    WsServer server(local_options(), echo_handlers(ev));
    server.start();

    WsTestClient c;
    ASSERT_TRUE(c.connect(url(server)));
    ASSERT_TRUE(ev.wait([&] { return ev.opened.size() == 1; }));
    const ConnectionId id = ev.opened[0];
    server.close(id, 4001, "go away");
    EXPECT_EQ(c.wait_closed(), uint16_t{4001});
    ASSERT_TRUE(ev.wait([&] { return ev.closed.count(id) == 1; }));
    EXPECT_FALSE(server.send(id, "too late"));
    EXPECT_EQ(server.connection_count(), 0u);
}

// websocketpp's own log lines, as they come: a peer that left is routine
// (info), websocketpp's other "fatal" lines stay errors.
TEST(WsServer, WebsocketppLinesGetLevelsThatFitWhatHappened) {
    const auto line = [](const std::string& channel, const std::string& message) {
        return "[2026-12-04 21:27:56] [" + channel + "] " + message;
    };
    EXPECT_EQ(websocketpp_line_level(line(
                  "fatal", "handle_write_frame error: websocketpp.transport:2 (Underlying "
                           "Transport Error)")),
              kNetInfo);
    EXPECT_EQ(websocketpp_line_level(line("fatal", "handle_read_frame error: End of File")),
              kNetInfo);
    EXPECT_EQ(websocketpp_line_level(line("error", "handle_read_handshake error: timeout")),
              kNetInfo);
    EXPECT_EQ(websocketpp_line_level(line("fatal", "asio listen error: address in use")),
              kNetError);
    EXPECT_EQ(websocketpp_line_level(line("warning", "got frame in state closed")), kNetWarn);
}

TEST(WsServer, ThrowingMessageHandlerClosesWith1011AndServerLivesOn) {
    std::atomic<int> logged{0};
    WsOptions o = local_options();
    o.logger = [&logged](int level, std::string_view) {
        if (level >= kNetError) ++logged;
    };
    WsHandlers h;
    h.on_message = [](WsConnection& c, std::string_view msg) {
        if (msg == "boom") throw std::runtime_error("handler failure");
        c.send(msg);
    };
    WsServer server(o, h);
    server.start();

    WsTestClient bad;
    ASSERT_TRUE(bad.connect(url(server)));
    bad.send("boom");
    EXPECT_EQ(bad.wait_closed(), uint16_t{1011});
    EXPECT_GE(logged.load(), 1);

    WsTestClient good;
    ASSERT_TRUE(good.connect(url(server)));
    good.send("still here");
    EXPECT_EQ(good.receive(), "still here");
}

TEST(WsServer, ManyConcurrentConnectionsExchangeMessages) {
    constexpr int kClients = 200, kMessages = 20, kThreads = 8;
    Events ev;
    WsOptions o = local_options();
    o.threads = 4;
    WsServer server(o, echo_handlers(ev));
    server.start();

    std::vector<std::unique_ptr<WsTestClient>> clients(kClients);
    std::atomic<int> failures{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < kThreads; ++t) {
        workers.emplace_back([&, t] {
            for (int i = t; i < kClients; i += kThreads) {
                clients[i] = std::make_unique<WsTestClient>();
                if (!clients[i]->connect(url(server))) ++failures;
            }
            for (int n = 0; n < kMessages; ++n) {
                for (int i = t; i < kClients; i += kThreads) {
                    const std::string msg =
                        "client " + std::to_string(i) + " #" + std::to_string(n);
                    if (!clients[i]->send(msg) || clients[i]->receive() != msg) ++failures;
                }
            }
        });
    }
    for (auto& w : workers) w.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(server.connection_count(), size_t{kClients});
    {
        std::lock_guard<std::mutex> lk(ev.m);
        EXPECT_EQ(std::set<ConnectionId>(ev.opened.begin(), ev.opened.end()).size(),
                  size_t{kClients});  // ids are unique
    }
    clients.clear();  // each closes with 1000
    EXPECT_TRUE(ev.wait([&] { return ev.closed.size() == size_t{kClients}; }));
    EXPECT_EQ(server.connection_count(), 0u);
}

TEST(WsServer, HandlersOfOneConnectionNeverOverlap) {
    constexpr int kClients = 4, kMessages = 40;
    std::mutex m;
    std::set<ConnectionId> busy;
    std::atomic<int> overlaps{0}, handled{0};
    WsOptions o = local_options();
    o.threads = 4;
    WsHandlers h;
    h.on_message = [&](WsConnection& c, std::string_view msg) {
        const ConnectionId id = c.id();
        {
            std::lock_guard<std::mutex> lk(m);
            if (!busy.insert(id).second) ++overlaps;
        }
        std::this_thread::sleep_for(milliseconds(1));  // widen the window, not a sync
        {
            std::lock_guard<std::mutex> lk(m);
            busy.erase(id);
        }
        ++handled;
        c.send(msg);
    };
    WsServer server(o, h);
    server.start();

    std::vector<std::unique_ptr<WsTestClient>> clients;
    for (int i = 0; i < kClients; ++i) {
        clients.push_back(std::make_unique<WsTestClient>());
        ASSERT_TRUE(clients.back()->connect(url(server)));
    }
    for (int n = 0; n < kMessages; ++n)
        for (auto& c : clients) c->send("m" + std::to_string(n));  // pipelined, no waiting
    for (auto& c : clients)
        for (int n = 0; n < kMessages; ++n) EXPECT_EQ(c->receive(), "m" + std::to_string(n));
    EXPECT_EQ(handled.load(), kClients * kMessages);
    EXPECT_EQ(overlaps.load(), 0);
}

TEST(WsServer, StopWithOpenConnectionsIsPromptAndClientsSee1001) {
    constexpr int kClients = 20;
    Events ev;
    WsServer server(local_options(), echo_handlers(ev));
    server.start();

    std::vector<std::unique_ptr<WsTestClient>> clients;
    for (int i = 0; i < kClients; ++i) {
        clients.push_back(std::make_unique<WsTestClient>());
        ASSERT_TRUE(clients.back()->connect(url(server)));
    }
    const auto t0 = Clock::now();
    server.stop();
    const auto took = Clock::now() - t0;
    EXPECT_LT(took, milliseconds(1500));
    for (auto& c : clients) EXPECT_EQ(c->wait_closed(), uint16_t{1001});
    EXPECT_EQ(ev.closed.size(), size_t{kClients});  // on_close ran for every one
    EXPECT_EQ(server.connection_count(), 0u);
    server.stop();  // idempotent
}

TEST(WsServer, StopIsBoundedWithASilentHalfOpenSocket) {
    Events ev;
    WsOptions o = local_options();
    o.close_timeout_ms = 300;
    o.handshake_timeout_ms = 10000;  // longer than stop() may take
    WsServer server(o, echo_handlers(ev));
    server.start();
    const int fd = moolai::test::tcp_connect(server.port());  // never sends an upgrade
    ASSERT_GE(fd, 0);
    WsTestClient c;
    ASSERT_TRUE(c.connect(url(server)));
    const auto t0 = Clock::now();
    server.stop();
    EXPECT_LT(Clock::now() - t0, milliseconds(2000));
    EXPECT_EQ(c.wait_closed(), uint16_t{1001});
    ::close(fd);
}

TEST(WsServer, StartNamesHostAndPortWhenThePortIsTaken) {
    Events ev;
    WsServer first(local_options(), echo_handlers(ev));
    first.start();
    WsOptions o = local_options();
    o.port = first.port();
    WsServer second(o, WsHandlers{});
    try {
        second.start();
        FAIL() << "second server bound a port in use";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(o.port)),
                  std::string::npos)
            << e.what();
    }
}

TEST(WsServer, RejectsPongTimeoutNotShorterThanPingInterval) {
    WsOptions o = local_options();
    o.ping_interval_ms = 1000;
    o.pong_timeout_ms = 1000;
    EXPECT_THROW(WsServer(o, WsHandlers{}), std::invalid_argument);
    o.pong_timeout_ms = 500;
    EXPECT_NO_THROW(WsServer(o, WsHandlers{}));
}

TEST(WsServer, PingsSilentConnectionsAndClosesThoseThatNeverPong) {
    Events ev;
    WsOptions o = local_options();
    o.ping_interval_ms = 200;
    o.pong_timeout_ms = 100;
    WsServer server(o, echo_handlers(ev));
    server.start();

    WsTestClient mute;
    mute.set_answer_pings(false);
    ASSERT_TRUE(mute.connect(url(server)));
    WsTestClient alive;
    ASSERT_TRUE(alive.connect(url(server)));

    EXPECT_EQ(mute.wait_closed(milliseconds(3000)), uint16_t{1001});
    EXPECT_GE(mute.pings_received(), 1);
    // The answering client is pinged again and again but stays open.
    const auto deadline = Clock::now() + milliseconds(3000);
    while (alive.pings_received() < 3 && Clock::now() < deadline)
        std::this_thread::sleep_for(milliseconds(20));  // polling an observable, bounded
    EXPECT_GE(alive.pings_received(), 3);
    ASSERT_TRUE(alive.send("still open"));
    EXPECT_EQ(alive.receive(), "still open");
}

// The per-connection context: typed, the connection's own, there from
// on_open to on_close -- also for a close that stop() causes.
TEST(WsServer, ContextIsTypedAndKeptFromOpenToClose) {
    struct Counter {
        int frames = 0;
    };
    struct Other {};
    Events ev;
    std::atomic<int> wrong_type_found{0}, counted_at_close{-1};
    WsHandlers h;
    h.on_open = [&ev](WsConnection& c) {
        c.set_context(std::make_shared<Counter>());
        std::lock_guard<std::mutex> lk(ev.m);
        ev.opened.push_back(c.id());
        ev.cv.notify_all();
    };
    h.on_message = [&](WsConnection& c, std::string_view) {
        if (c.context<Other>() != nullptr) ++wrong_type_found;
        Counter* n = c.context<Counter>();
        c.send(n ? std::to_string(++n->frames) : "no context");
    };
    h.on_close = [&](WsConnection& c, uint16_t code) {
        Counter* n = c.context<Counter>();
        counted_at_close = n ? n->frames : -2;
        std::lock_guard<std::mutex> lk(ev.m);
        ev.closed[c.id()] = code;
        ev.cv.notify_all();
    };
    WsServer server(local_options(), h);
    server.start();

    WsTestClient c;
    ASSERT_TRUE(c.connect(url(server)));
    for (int i = 1; i <= 3; ++i) {
        ASSERT_TRUE(c.send("x"));
        EXPECT_EQ(c.receive(), std::to_string(i));
    }
    ASSERT_TRUE(ev.wait([&] { return ev.opened.size() == 1; }));
    const ConnectionId id = ev.opened[0];
    server.stop();
    EXPECT_EQ(c.wait_closed(), uint16_t{1001});
    ASSERT_EQ(ev.closed.count(id), 1u);
    EXPECT_EQ(counted_at_close.load(), 3);
    EXPECT_EQ(wrong_type_found.load(), 0);
}

// A handle taken in a handler sends later from another thread, and expires
// once the connection is gone.
TEST(WsServer, AHandleSendsFromAnotherThreadAndExpiresWithTheConnection) {
    Events ev;
    std::mutex m;
    std::weak_ptr<WsConnection> kept;
    WsHandlers h = echo_handlers(ev);
    auto record_open = h.on_open;
    h.on_open = [&, record_open](WsConnection& c) {
        {
            std::lock_guard<std::mutex> lk(m);
            kept = c.handle();
        }
        record_open(c);
    };
    WsServer server(local_options(), h);
    server.start();

    WsTestClient c;
    ASSERT_TRUE(c.connect(url(server)));
    ASSERT_TRUE(ev.wait([&] { return ev.opened.size() == 1; }));
    std::weak_ptr<WsConnection> handle;
    {
        std::lock_guard<std::mutex> lk(m);
        handle = kept;
        kept.reset();
    }
    {
        std::shared_ptr<WsConnection> conn = handle.lock();
        ASSERT_NE(conn, nullptr);
        EXPECT_EQ(conn->id(), ev.opened[0]);
        ASSERT_TRUE(conn->send("pushed"));
    }
    EXPECT_EQ(c.receive(), "pushed");

    c.close();
    ASSERT_TRUE(ev.wait([&] { return ev.closed.size() == 1; }));
    // websocketpp lets go of its last reference shortly after the close handler.
    const auto deadline = Clock::now() + milliseconds(5000);
    while (!handle.expired() && Clock::now() < deadline)
        std::this_thread::sleep_for(milliseconds(10));  // polling an observable, bounded
    EXPECT_TRUE(handle.expired());
}

// ------------------------------------------------------------ hygiene (#13)

namespace {

// A client that upgrades on a raw socket and then reads nothing more: the
// slow consumer. Returns the socket, -1 when the upgrade failed.
int raw_upgrade(uint16_t port, const std::string& path = "/ws") {
    const int fd = moolai::test::tcp_connect(port);
    if (fd < 0) return -1;
    const std::string req = "GET " + path +
                            " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                            "Sec-WebSocket-Version: 13\r\n\r\n";
    if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
        ::close(fd);
        return -1;
    }
    std::string got;
    char c = 0;
    while (got.find("\r\n\r\n") == std::string::npos && ::read(fd, &c, 1) == 1) got.push_back(c);
    if (got.rfind("HTTP/1.1 101", 0) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

}  // namespace

TEST(WsServer, CapsRefuseUpgradesWith503And429AndFreeTheirPlaceOnClose) {
    Events ev;
    WsOptions o = local_options();
    o.max_connections = 3;
    WsServer server(o, echo_handlers(ev));
    server.start();
    WsTestClient a, b, c, d;
    ASSERT_TRUE(a.connect(url(server)));
    ASSERT_TRUE(b.connect(url(server)));
    ASSERT_TRUE(c.connect(url(server)));
    ASSERT_FALSE(d.connect(url(server)));
    EXPECT_EQ(d.http_status(), 503);
    const auto body = nlohmann::json::parse(d.http_body(), nullptr, false);
    EXPECT_EQ(body["error"]["code"], "too_many_connections") << d.http_body();
    EXPECT_NE(body["error"]["message"].get<std::string>().find("3 connections"), std::string::npos);
    EXPECT_EQ(server.stats().refused_capacity, 1u);

    a.close();
    ASSERT_TRUE(ev.wait([&] { return ev.closed.size() == 1; }));
    WsTestClient e;
    EXPECT_TRUE(e.connect(url(server))) << "a closed connection frees its place";

    WsOptions p = local_options();
    p.max_connections_per_address = 2;
    Events ev2;
    WsServer per_address(p, echo_handlers(ev2));
    per_address.start();
    WsTestClient f, g, h;
    ASSERT_TRUE(f.connect(url(per_address)));
    ASSERT_TRUE(g.connect(url(per_address)));
    ASSERT_FALSE(h.connect(url(per_address)));
    EXPECT_EQ(h.http_status(), 429);
    EXPECT_NE(h.http_body().find("too_many_connections_from_address"), std::string::npos);
    EXPECT_EQ(per_address.stats().refused_per_address, 1u);
    // A refused upgrade holds no place: after one closes, the next gets in.
    f.close();
    ASSERT_TRUE(ev2.wait([&] { return ev2.closed.size() == 1; }));
    WsTestClient i;
    EXPECT_TRUE(i.connect(url(per_address)));
}

TEST(WsServer, ConnectionsNotAdmittedWithinTheDeadlineAreClosedWith4408) {
    Events ev;
    WsOptions o = local_options();
    o.admit_deadline_ms = 400;
    o.admit_deadline_reason = "no register within 0.4 s";
    WsHandlers h = echo_handlers(ev);
    h.on_message = [](WsConnection& c, std::string_view msg) {
        if (msg == "let me in") c.admit();
        c.send(msg);
    };
    WsServer server(o, h);
    server.start();
    WsTestClient silent, admitted;
    ASSERT_TRUE(silent.connect(url(server)));
    ASSERT_TRUE(admitted.connect(url(server)));
    admitted.send("let me in");
    ASSERT_EQ(admitted.receive(), std::optional<std::string>("let me in"));

    EXPECT_EQ(silent.wait_closed(milliseconds(3000)), std::optional<uint16_t>(4408));
    // The admitted one outlives the deadline by far.
    EXPECT_FALSE(admitted.wait_closed(milliseconds(800)).has_value());
    admitted.send("still here");
    EXPECT_EQ(admitted.receive(), std::optional<std::string>("still here"));
    EXPECT_EQ(server.stats().closed_admit_deadline, 1u);
}

TEST(WsServer, ASlowConsumerIsCutWhenItsSendBufferOverflows) {
    Events ev;
    WsOptions o = local_options();
    o.max_send_buffer_bytes = 256 * 1024;
    o.close_timeout_ms = 300;
    WsServer server(o, echo_handlers(ev));
    server.start();
    const int fd = raw_upgrade(server.port());  // reads nothing after the upgrade
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(ev.wait([&] { return ev.opened.size() == 1; }));
    const ConnectionId id = ev.opened[0];
    const std::string frame(64 * 1024, 'x');
    int sent = 0;
    while (sent < 4000 && server.send(id, frame)) ++sent;  // socket buffers, then ours
    EXPECT_LT(sent, 4000) << "sends were never refused";
    ASSERT_TRUE(ev.wait([&] { return ev.closed.count(id) == 1; }, milliseconds(5000)))
        << "the slow reader was not cut";
    EXPECT_EQ(server.stats().closed_slow_consumer, 1u);
    {
        // 1013 is sent behind the backlog the reader never reads, so the
        // close handshake times out: the report may say 1006.
        std::lock_guard<std::mutex> lk(ev.m);
        EXPECT_TRUE(ev.closed[id] == 1013 || ev.closed[id] == 1006) << ev.closed[id];
    }
    ::close(fd);
}

TEST(WsServer, HandshakesBeyondCapacityAreDeferredNotRefused) {
    Events ev;
    WsOptions o = local_options();
    o.max_pending_handshakes = 2;
    o.admission_grace_ms = 400;
    o.handshake_timeout_ms = 10000;
    WsServer server(o, echo_handlers(ev));
    server.start();
    // Two sockets that never send their upgrade hold both handshake places.
    const int s1 = moolai::test::tcp_connect(server.port());
    const int s2 = moolai::test::tcp_connect(server.port());
    ASSERT_GE(s1, 0);
    ASSERT_GE(s2, 0);
    // This client waits in the listen backlog for the admission grace, not
    // for the silent ones' handshake timeout: they cannot stall accepting.
    WsTestClient late;
    const auto t0 = Clock::now();
    ASSERT_TRUE(late.connect(url(server), "", milliseconds(5000)));
    EXPECT_GE(Clock::now() - t0, milliseconds(300)) << "was not deferred";
    EXPECT_LT(Clock::now() - t0, milliseconds(5000)) << "waited for the silent ones' timeout";
    EXPECT_GE(server.stats().accept_pauses, 1u);
    late.send("hi");
    EXPECT_EQ(late.receive(), std::optional<std::string>("hi"));
    ::close(s1);
    ::close(s2);
}

// Handshakes that end without an upgrade are counted by why (the metrics
// tell an operator whether clients time out or break off): a socket that
// never speaks and one that sends half a request time out; one that
// leaves, and a malformed request, are errors; a refusal is neither.
TEST(WsServer, HandshakesThatEndWithoutAnUpgradeAreCountedByWhy) {
    Events ev;
    WsOptions o = local_options();
    o.handshake_timeout_ms = 300;
    o.max_connections = 1;
    WsServer server(o, echo_handlers(ev));
    server.start();
    const int silent = moolai::test::tcp_connect(server.port());
    const int half = moolai::test::tcp_connect(server.port());
    ASSERT_GE(silent, 0);
    ASSERT_GE(half, 0);
    const std::string part = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    ASSERT_EQ(::write(half, part.data(), part.size()), static_cast<ssize_t>(part.size()));
    const int gone = moolai::test::tcp_connect(server.port());
    ASSERT_GE(gone, 0);
    ::close(gone);
    EXPECT_EQ(moolai::test::http_raw(server.port(), "NOT HTTP AT ALL\r\n\r\n").status, 400);
    const auto counted = [&server](uint64_t timeouts, uint64_t errors) {
        const auto until = Clock::now() + milliseconds(5000);
        while (Clock::now() < until) {
            const WsStats st = server.stats();
            if (st.handshake_timeouts == timeouts && st.handshake_errors == errors) return true;
            std::this_thread::sleep_for(milliseconds(20));
        }
        return false;
    };
    EXPECT_TRUE(counted(2, 2)) << server.stats().handshake_timeouts << " timeouts, "
                               << server.stats().handshake_errors << " errors";
    // Both timed-out sockets were closed by the server.
    char byte;
    EXPECT_EQ(::read(silent, &byte, 1), 0);
    EXPECT_EQ(::read(half, &byte, 1), 0);
    ::close(silent);
    ::close(half);
    // A refusal (the cap) is counted as refused, not as a failed handshake.
    WsTestClient first, second;
    ASSERT_TRUE(first.connect(url(server)));
    EXPECT_FALSE(second.connect(url(server)));
    EXPECT_EQ(server.stats().refused_capacity, 1u);
    EXPECT_TRUE(counted(2, 2));
}
