// The REST port's TLS front (host/net/tls_front.hpp) in-process, against a
// plain TCP server of the test's own on loopback: the relay both ways and the
// client it names, a handshake that never comes, and an inner server that is
// not there.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/tls.hpp"
#include "net/tls_front.hpp"
#include "tls/test_pki.hpp"

using namespace moolai::host;
using moolai::test::PemPair;
using moolai::test::TestCa;
using moolai::test::tls_probe;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

bool within(std::chrono::milliseconds limit, const std::function<bool()>& probe) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (probe()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return probe();
}

// A listening socket on 127.0.0.1 and its port.
int listen_loopback(uint16_t& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(fd, 16) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        return -1;
    port = ntohs(a.sin_port);
    return fd;
}

// The probe writes to sockets the front closes: an error, not SIGPIPE.
const bool kNoSigpipe = std::signal(SIGPIPE, SIG_IGN) != SIG_ERR;

struct Front {
    std::string dir;
    std::unique_ptr<TestCa> ca;
    PemPair server;
    std::mutex m;
    std::vector<std::string> warnings;
    std::unique_ptr<TlsFront> front;

    Front(uint16_t inner_port, int handshake_timeout_ms = 10000) {
        char tmpl[] = "/tmp/moolai-front-XXXXXX";
        dir = mkdtemp(tmpl);
        ca = std::make_unique<TestCa>(dir, "ca");
        server = ca->issue("server", "localhost", {"localhost"}, {"127.0.0.1"});
        TlsFrontOptions o;
        o.host = "127.0.0.1";
        o.inner_port = inner_port;
        o.handshake_timeout_ms = handshake_timeout_ms;
        o.tls = std::make_shared<TlsServerContext>(TlsFiles{server.cert, server.key, ""});
        o.logger = [this](int level, std::string_view line) {
            if (level < kNetWarn) return;
            std::lock_guard<std::mutex> lk(m);
            warnings.emplace_back(line);
        };
        front = std::make_unique<TlsFront>(std::move(o));
        front->start();
    }
    ~Front() {
        front.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    std::string logged() {
        std::lock_guard<std::mutex> lk(m);
        std::string all;
        for (const auto& w : warnings) all += w + "\n";
        return all;
    }
};

}  // namespace

// The inner server answers one request; while it holds the connection it
// asks the front who is behind it, and afterwards the front has forgotten.
TEST(TlsFront, RelaysBothWaysAndNamesTheClientBehindEachInnerConnection) {
    uint16_t inner_port = 0;
    const int listener = listen_loopback(inner_port);
    ASSERT_GE(listener, 0);
    std::unique_ptr<Front> f = std::make_unique<Front>(inner_port);
    std::atomic<uint16_t> relay_port{0};
    std::optional<TlsFront::Client> named;
    std::string request;
    std::thread inner([&] {
        const int c = ::accept(listener, nullptr, nullptr);
        if (c < 0) return;
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        ::getpeername(c, reinterpret_cast<sockaddr*>(&peer), &len);
        relay_port = ntohs(peer.sin_port);
        char buf[4096];
        pollfd p{c, POLLIN, 0};
        while (request.find("\r\n\r\n") == std::string::npos && ::poll(&p, 1, 5000) == 1) {
            const ssize_t n = ::read(c, buf, sizeof buf);
            if (n <= 0) break;
            request.append(buf, static_cast<size_t>(n));
        }
        // What the REST server does on a request from loopback.
        named = f->front->client_of(relay_port);
        const std::string answer =
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        (void)!::write(c, answer.data(), answer.size());
        ::close(c);
    });
    const auto r = tls_probe(f->front->port(), f->ca->cert_file(), "localhost", "", 0,
                             {"GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n"}, "127.0.0.2");
    inner.join();
    ::close(listener);
    EXPECT_TRUE(r.handshake) << r.error;
    EXPECT_EQ(r.http_status, 200) << r.response;
    EXPECT_NE(r.response.find("\r\n\r\nok"), std::string::npos) << r.response;
    EXPECT_EQ(request.rfind("GET /x HTTP/1.1\r\n", 0), 0u) << request;
    ASSERT_TRUE(named.has_value()) << "the front did not know its own connection";
    EXPECT_EQ(named->host, "127.0.0.2");
    EXPECT_NE(named->port, 0);
    EXPECT_TRUE(within(5s, [&] { return !f->front->client_of(relay_port).has_value(); }))
        << "the relay's client is still mapped after it ended";
    EXPECT_FALSE(f->front->client_of(1).has_value());
    EXPECT_EQ(f->front->handshake_failures(), 0u);
}

// A socket that connects and never starts its handshake is closed at the
// deadline and counted.
TEST(TlsFront, AHandshakeNotDoneInTimeIsDroppedAndCounted) {
    uint16_t inner_port = 0;
    const int listener = listen_loopback(inner_port);
    ASSERT_GE(listener, 0);
    Front f(inner_port, 300);
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(f.front->port());
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    const auto took = moolai::test::closed_by_server_within(fd, 5000);
    ::close(fd);
    ::close(listener);
    ASSERT_TRUE(took.has_value()) << "still open after 5 s";
    EXPECT_GE(*took, 250ms);
    EXPECT_EQ(f.front->handshake_failures(), 1u);
}

// Nothing listens on the inner port: the client's handshake completes, then
// the front closes it without an answer and says why.
TEST(TlsFront, AClientItCannotRelayIsClosedAndTheCauseLogged) {
    ASSERT_TRUE(kNoSigpipe);
    uint16_t inner_port = 0;
    const int gone = listen_loopback(inner_port);
    ASSERT_GE(gone, 0);
    ::close(gone);  // the port is free: connecting to it is refused
    Front f(inner_port);
    const auto r = tls_probe(f.front->port(), f.ca->cert_file(), "localhost", "/livez");
    EXPECT_TRUE(r.handshake) << r.error;
    EXPECT_EQ(r.http_status, 0) << r.response;
    EXPECT_TRUE(within(5s, [&] {
        return f.logged().find("https: cannot reach the REST server on loopback") !=
               std::string::npos;
    })) << f.logged();
    // ...and it goes on serving.
    EXPECT_TRUE(tls_probe(f.front->port(), f.ca->cert_file(), "localhost", "").handshake);
}
