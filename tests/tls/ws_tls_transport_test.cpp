// The TLS WebSocket transport (host/net/ws_tls_socket.hpp, our websocketpp
// socket policy over OpenSSL) against websocketpp's own wss:// client (Asio's
// ssl::stream): frames of every size both ways, bursts, many connections,
// closes from either side, a dropped TCP link, and peers that do not speak
// TLS at all.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_client.hpp>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "net/tls.hpp"
#include "net/ws_server.hpp"
#include "tls/test_pki.hpp"

using namespace moolai::host;
using moolai::test::PemPair;
using moolai::test::TestCa;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const bool kSigpipeIgnored = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
}();

using Client = websocketpp::client<websocketpp::config::asio_tls_client>;

// A CA and a server certificate for 127.0.0.1 in a fresh folder.
struct Pki {
    std::string dir;
    std::unique_ptr<TestCa> ca;
    PemPair server;
    Pki() {
        char tmpl[] = "/tmp/moolai-wss-XXXXXX";
        dir = mkdtemp(tmpl);
        ca = std::make_unique<TestCa>(dir, "ca");
        server = ca->issue("server", "localhost", {"localhost"}, {"127.0.0.1"});
    }
    ~Pki() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

// What the server's handlers saw.
struct Events {
    std::mutex m;
    std::condition_variable cv;
    int opened = 0;
    std::map<ConnectionId, uint16_t> closed;

    template <class Pred>
    bool wait(Pred p, std::chrono::milliseconds t = 10s) {
        std::unique_lock<std::mutex> lk(m);
        return cv.wait_for(lk, t, [&] { return p(); });
    }
};

// Echoes every message; "close:<code>" closes the connection with that code.
struct EchoServer {
    Events ev;
    std::unique_ptr<WsServer> server;

    explicit EchoServer(const Pki& pki, unsigned threads = 1) {
        WsOptions o;
        o.host = "127.0.0.1";
        o.port = 0;
        o.threads = threads;
        o.close_timeout_ms = 1000;
        o.logger = [](int, std::string_view) {};
        o.tls = std::make_shared<TlsServerContext>(TlsFiles{pki.server.cert, pki.server.key, ""});
        WsHandlers h;
        h.on_open = [this](WsConnection&) {
            std::lock_guard<std::mutex> lk(ev.m);
            ++ev.opened;
            ev.cv.notify_all();
        };
        h.on_message = [](WsConnection& c, std::string_view msg) {
            if (msg.substr(0, 6) == "close:") {
                c.close(static_cast<uint16_t>(std::atoi(std::string(msg.substr(6)).c_str())),
                        "asked");
                return;
            }
            c.send(msg);
        };
        h.on_close = [this](WsConnection& c, uint16_t code) {
            std::lock_guard<std::mutex> lk(ev.m);
            ev.closed[c.id()] = code;
            ev.cv.notify_all();
        };
        server = std::make_unique<WsServer>(o, h);
        server->start();
    }
    uint16_t port() const { return server->port(); }
};

// One websocketpp wss:// client connection on its own io thread.
class WssClient {
public:
    WssClient(uint16_t port, const std::string& ca_file) {
        c_.clear_access_channels(websocketpp::log::alevel::all);
        c_.clear_error_channels(websocketpp::log::elevel::all);
        c_.init_asio();
        c_.set_tls_init_handler([ca_file](websocketpp::connection_hdl) {
            namespace ssl = boost::asio::ssl;
            auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
            ctx->set_verify_mode(ssl::verify_peer);
            ctx->load_verify_file(ca_file);
            return ctx;
        });
        c_.set_open_handler([this](websocketpp::connection_hdl) { set([this] { open_ = true; }); });
        c_.set_fail_handler(
            [this](websocketpp::connection_hdl) { set([this] { failed_ = true; }); });
        c_.set_message_handler([this](websocketpp::connection_hdl, Client::message_ptr msg) {
            set([&] { got_.push_back(msg->get_payload()); });
        });
        c_.set_close_handler([this](websocketpp::connection_hdl h) {
            websocketpp::lib::error_code ec;
            const uint16_t code = c_.get_con_from_hdl(h, ec)->get_remote_close_code();
            set([&] {
                closed_ = true;
                remote_code_ = code;
            });
        });
        websocketpp::lib::error_code ec;
        con_ = c_.get_connection("wss://127.0.0.1:" + std::to_string(port) + "/ws", ec);
        if (ec) throw std::runtime_error(ec.message());
        c_.connect(con_);
        thread_ = std::thread([this] { c_.run(); });
    }
    ~WssClient() {
        c_.stop();
        thread_.join();
    }

    bool wait_open() {
        return wait([this] { return open_ || failed_ || closed_; }) && open_;
    }
    void send(const std::string& text) {
        const websocketpp::lib::error_code ec = con_->send(text, websocketpp::frame::opcode::text);
        ASSERT_FALSE(ec) << ec.message();
    }
    void close(uint16_t code) {
        websocketpp::lib::error_code ec;
        con_->close(code, "bye", ec);
    }
    // Closes the TCP socket under the TLS session: no close frame, no close_notify.
    void drop() {
        boost::asio::post(c_.get_io_service(), [this] {
            boost::system::error_code ec;
            con_->get_raw_socket().close(ec);
        });
    }
    // Waits until `n` messages have arrived; returns them.
    std::vector<std::string> messages(size_t n, std::chrono::milliseconds t = 20s) {
        wait([&] { return got_.size() >= n; }, t);
        std::lock_guard<std::mutex> lk(m_);
        return got_;
    }
    // The server's close code once the close handshake is over, 0 = none yet.
    uint16_t wait_closed(std::chrono::milliseconds t = 10s) {
        wait([this] { return closed_; }, t);
        std::lock_guard<std::mutex> lk(m_);
        return closed_ ? remote_code_ : 0;
    }

private:
    template <class F>
    void set(F f) {
        std::lock_guard<std::mutex> lk(m_);
        f();
        cv_.notify_all();
    }
    template <class Pred>
    bool wait(Pred p, std::chrono::milliseconds t = 10s) {
        std::unique_lock<std::mutex> lk(m_);
        return cv_.wait_for(lk, t, p);
    }

    Client c_;
    Client::connection_ptr con_;
    std::thread thread_;
    std::mutex m_;
    std::condition_variable cv_;
    bool open_ = false, failed_ = false, closed_ = false;
    uint16_t remote_code_ = 0;
    std::vector<std::string> got_;
};

std::string random_text(size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, ' ');
    for (char& ch : s) ch = static_cast<char>('a' + rng() % 26);
    return s;
}

int tcp_connect(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

}  // namespace

TEST(WsTlsTransport, FramesOfEverySizeComeBackWhole) {
    Pki pki;
    EchoServer s(pki);
    WssClient c(s.port(), pki.ca->cert_file());
    ASSERT_TRUE(c.wait_open());
    // Around the frame header's length forms, the 4 KiB gather and read
    // buffers, one TLS record (16 KiB) and several, up to the 1 MiB cap.
    const size_t sizes[] = {0,     1,     125,   126,   4095,  4096,  4097,   8192,
                            16383, 16384, 16385, 65535, 65536, 70000, 500000, 1000000};
    std::vector<std::string> sent;
    unsigned seed = 1;
    for (size_t n : sizes) {
        sent.push_back(random_text(n, seed++));
        c.send(sent.back());
    }
    const auto got = c.messages(sent.size());
    ASSERT_EQ(got.size(), sent.size());
    for (size_t i = 0; i < sent.size(); ++i)
        EXPECT_TRUE(got[i] == sent[i]) << "message " << i << " of " << sent[i].size() << " bytes";
}

TEST(WsTlsTransport, ABurstOfSmallFramesArrivesInOrder) {
    Pki pki;
    EchoServer s(pki);
    WssClient c(s.port(), pki.ca->cert_file());
    ASSERT_TRUE(c.wait_open());
    const int n = 2000;
    for (int i = 0; i < n; ++i) c.send("frame " + std::to_string(i));
    const auto got = c.messages(n);
    ASSERT_EQ(got.size(), static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
        ASSERT_EQ(got[static_cast<size_t>(i)], "frame " + std::to_string(i));
}

TEST(WsTlsTransport, ManyConnectionsAtOnce) {
    Pki pki;
    EchoServer s(pki, 4);  // asks for 4 io threads; a TLS server runs 1 (W18)
    std::vector<std::unique_ptr<WssClient>> clients;
    for (int i = 0; i < 16; ++i)
        clients.push_back(std::make_unique<WssClient>(s.port(), pki.ca->cert_file()));
    for (auto& c : clients) ASSERT_TRUE(c->wait_open());
    for (int round = 0; round < 20; ++round)
        for (size_t i = 0; i < clients.size(); ++i)
            clients[i]->send(
                random_text(100 + 997 * static_cast<size_t>(round),
                            static_cast<unsigned>(i * 100 + static_cast<size_t>(round))));
    for (auto& c : clients) EXPECT_EQ(c->messages(20).size(), 20u);
    EXPECT_EQ(s.server->connection_count(), clients.size());
}

TEST(WsTlsTransport, ClosesFromEitherSideFinishPromptly) {
    Pki pki;
    EchoServer s(pki);
    {
        WssClient c(s.port(), pki.ca->cert_file());
        ASSERT_TRUE(c.wait_open());
        const auto t0 = std::chrono::steady_clock::now();
        c.close(4000);
        EXPECT_EQ(c.wait_closed(), 4000);
        ASSERT_TRUE(s.ev.wait([&] { return s.ev.closed.size() == 1; }));
        // our close_notify and done, not websocketpp's 5 s shutdown timer
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
        EXPECT_EQ(s.ev.closed.begin()->second, 4000);
    }
    {
        WssClient c(s.port(), pki.ca->cert_file());
        ASSERT_TRUE(c.wait_open());
        const auto t0 = std::chrono::steady_clock::now();
        c.send("close:4001");
        EXPECT_EQ(c.wait_closed(), 4001);
        ASSERT_TRUE(s.ev.wait([&] { return s.ev.closed.size() == 2; }));
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
    }
    EXPECT_EQ(s.server->connection_count(), 0u);
}

TEST(WsTlsTransport, ADroppedLinkIsReportedAsAbnormalClose) {
    Pki pki;
    EchoServer s(pki);
    WssClient c(s.port(), pki.ca->cert_file());
    ASSERT_TRUE(c.wait_open());
    c.send("hello");
    ASSERT_EQ(c.messages(1).size(), 1u);
    c.drop();
    ASSERT_TRUE(s.ev.wait([&] { return s.ev.closed.size() == 1; }));
    EXPECT_EQ(s.ev.closed.begin()->second, 1006);
    EXPECT_EQ(s.server->connection_count(), 0u);
}

TEST(WsTlsTransport, PeersThatDoNotSpeakTlsAreCutAndOthersServed) {
    Pki pki;
    EchoServer s(pki);
    // Plain HTTP to the TLS port, then garbage, then a half ClientHello.
    const std::string probes[] = {
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n",
        std::string(3000, '\x17'),
        std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),
    };
    for (const std::string& p : probes) {
        const int fd = tcp_connect(s.port());
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::send(fd, p.data(), p.size(), MSG_NOSIGNAL), static_cast<ssize_t>(p.size()));
        if (p.size() > 11) {  // the half hello waits for the handshake timeout instead
            char buf[256];
            ssize_t n;
            while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
            }
            EXPECT_EQ(n, 0) << "the server should close the socket";
        }
        ::close(fd);
    }
    WssClient c(s.port(), pki.ca->cert_file());
    ASSERT_TRUE(c.wait_open());
    c.send("still here");
    EXPECT_EQ(c.messages(1).at(0), "still here");
    EXPECT_EQ(s.ev.opened, 1);
}
