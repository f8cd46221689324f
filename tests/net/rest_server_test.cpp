// RestServer against real sockets (port 0, loopback).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "net/http_test_client.hpp"
#include "net/rest_server.hpp"

using namespace moolai::host;
using moolai::test::http_raw;
using moolai::test::http_request;
using moolai::test::HttpHeaders;
using moolai::test::HttpResult;
using nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

// Http::serveFile uses sendfile() without MSG_NOSIGNAL (docs/library-quirks.md, P5).
const bool kSigpipeIgnored = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
}();

RestOptions local_options() {
    RestOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    return o;
}

json parse(const HttpResult& r) {
    EXPECT_EQ(r.header("content-type"), "application/json") << r.status << " " << r.body;
    return json::parse(r.body, nullptr, /*allow_exceptions=*/false);
}

void expect_json_error(const HttpResult& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.error << " " << r.body;
    json j = parse(r);  // non-const: a missing key reads as null instead of UB
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j["success"], false) << r.body;
    EXPECT_EQ(j["error"]["code"], code) << r.body;
    EXPECT_TRUE(j["error"]["message"].is_string()) << r.body;
}

// Echoes what the handler saw.
HttpResponse echo(const HttpRequest& q) {
    json j = {{"method", q.method},   {"path", q.path},   {"params", q.params},
              {"query", q.query},     {"body", q.body},   {"auth", q.authorization},
              {"remote", q.remote},   {"custom", q.header("x-CUSTOM-header")}};
    return HttpResponse::json(200, j.dump());
}

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/moolai-net-test-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
    void write(const std::string& rel, const std::string& content) const {
        fs::create_directories((path / rel).parent_path());
        std::ofstream(path / rel, std::ios::binary) << content;
    }
};

}  // namespace

TEST(RestServer, RouteParamsAndQueryArePercentDecoded) {
    RestServer server(local_options());
    server.add_route("GET", "/api/items/:id", echo);
    server.add_route("POST", "/api/orgs/:org/items/:id", echo);
    server.start();
    ASSERT_NE(server.port(), 0);

    auto r = http_request(server.port(), "GET",
                          "/api/items/a%2Fb%20c?v=x%26y+z&k%C3%A9=%E2%9C%93&empty=",
                          "", {{"Authorization", "Bearer abc.def"}, {"X-Custom-Header", "yes"}});
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    json j = parse(r);
    EXPECT_EQ(j["method"], "GET");
    EXPECT_EQ(j["params"]["id"], "a/b c");
    EXPECT_EQ(j["path"], "/api/items/a/b c");
    EXPECT_EQ(j["query"]["v"], "x&y z");
    EXPECT_EQ(j["query"]["k\xC3\xA9"], "\xE2\x9C\x93");
    EXPECT_EQ(j["query"]["empty"], "");
    EXPECT_EQ(j["auth"], "Bearer abc.def");
    EXPECT_EQ(j["custom"], "yes");
    EXPECT_EQ(j["remote"].get<std::string>().rfind("127.0.0.1:", 0), 0u) << j["remote"];

    r = http_request(server.port(), "POST", "/api/orgs/o1/items/i%3F2", "{\"x\":1}");
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    j = parse(r);
    EXPECT_EQ(j["params"]["org"], "o1");
    EXPECT_EQ(j["params"]["id"], "i?2");
    EXPECT_EQ(j["body"], "{\"x\":1}");
}

TEST(RestServer, LiteralSegmentBeatsParameter) {
    RestServer server(local_options());
    auto tag = [](std::string t) {
        return [t](const HttpRequest&) { return HttpResponse::json(200, "\"" + t + "\""); };
    };
    server.add_route("GET", "/api/orchestrators/:id", tag("param"));
    server.add_route("GET", "/api/orchestrators/live", tag("live"));
    server.add_route("GET", "/x/:a/c", tag("x-param-first"));
    server.add_route("GET", "/x/b/:c", tag("x-literal-first"));
    server.start();
    EXPECT_EQ(http_request(server.port(), "GET", "/api/orchestrators/live").body, "\"live\"");
    EXPECT_EQ(http_request(server.port(), "GET", "/api/orchestrators/o-7").body, "\"param\"");
    EXPECT_EQ(http_request(server.port(), "GET", "/x/b/c").body, "\"x-literal-first\"");
    EXPECT_EQ(http_request(server.port(), "GET", "/x/q/c").body, "\"x-param-first\"");
}

TEST(RestServer, UnknownPathIs404AndWrongMethodIs405WithAllow) {
    RestServer server(local_options());
    server.add_route("GET", "/api/items/:id", echo);
    server.add_route("DELETE", "/api/items/:id", echo);
    server.start();

    expect_json_error(http_request(server.port(), "GET", "/api/nothing/here"), 404, "not_found");
    expect_json_error(http_request(server.port(), "GET", "/api/items"), 404, "not_found");
    const auto r = http_request(server.port(), "POST", "/api/items/1", "{}");
    expect_json_error(r, 405, "method_not_allowed");
    EXPECT_NE(r.header("allow").find("GET"), std::string::npos) << r.header("allow");
    EXPECT_NE(r.header("allow").find("DELETE"), std::string::npos) << r.header("allow");
}

TEST(RestServer, ThrowingHandlerGives500WithoutLeakingWhat) {
    std::mutex m;
    std::vector<std::string> logs;
    RestOptions o = local_options();
    o.logger = [&](int, std::string_view s) {
        std::lock_guard<std::mutex> lk(m);
        logs.emplace_back(s);
    };
    RestServer server(o);
    server.add_route("GET", "/api/boom", [](const HttpRequest&) -> HttpResponse {
        throw std::runtime_error("secret database password in message");
    });
    server.add_route("GET", "/api/boom-inline", [](const HttpRequest&) -> HttpResponse {
        throw std::runtime_error("inline secret");
    }, /*inline_on_reactor=*/true);
    server.start();

    for (const char* path : {"/api/boom", "/api/boom-inline"}) {
        const auto r = http_request(server.port(), "GET", path);
        expect_json_error(r, 500, "internal");
        EXPECT_EQ(parse(r)["error"]["message"], "internal error");
        EXPECT_EQ(r.body.find("secret"), std::string::npos) << r.body;
    }
    std::lock_guard<std::mutex> lk(m);
    bool logged = false;
    for (const auto& l : logs) logged |= l.find("secret database password") != std::string::npos;
    EXPECT_TRUE(logged);
}

TEST(RestServer, ErrorHelperEscapesJson) {
    const HttpResponse r = HttpResponse::error(400, "bad_request", "quote \" backslash \\ \n \xff");
    json j = json::parse(r.body);
    EXPECT_EQ(j["error"]["code"], "bad_request");
    EXPECT_EQ(j["detail"], j["error"]["message"]);
    EXPECT_EQ(j["error"]["message"].get<std::string>().substr(0, 19), "quote \" backslash \\");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.content_type, "application/json");
}

TEST(RestServer, SlowHandlerDoesNotBlockTheReactor) {
    RestOptions o = local_options();
    o.reactor_threads = 1;  // both requests share one reactor
    o.worker_threads = 2;
    RestServer server(o);
    std::promise<void> slow_started;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    server.add_route("GET", "/api/slow", [&](const HttpRequest&) {
        slow_started.set_value();
        released.wait_for(std::chrono::seconds(10));
        return HttpResponse::json(200, "\"slow\"");
    });
    server.add_route("GET", "/api/fast", [](const HttpRequest&) {
        return HttpResponse::json(200, "\"fast\"");
    });
    server.add_route("GET", "/api/health", [](const HttpRequest&) {
        return HttpResponse::json(200, "\"ok\"");
    }, /*inline_on_reactor=*/true);
    server.start();

    auto slow = std::async(std::launch::async, [&] {
        return http_request(server.port(), "GET", "/api/slow", "", {}, 15000);
    });
    slow_started.get_future().wait();
    const auto fast = http_request(server.port(), "GET", "/api/fast", "", {}, 3000);
    const auto health = http_request(server.port(), "GET", "/api/health", "", {}, 3000);
    release.set_value();
    EXPECT_EQ(fast.status, 200) << fast.error;
    EXPECT_EQ(fast.body, "\"fast\"");
    EXPECT_EQ(health.status, 200) << health.error;
    const auto s = slow.get();
    EXPECT_EQ(s.status, 200) << s.error;
    EXPECT_EQ(s.body, "\"slow\"");
}

TEST(RestServer, ResponseHeadersAndContentType) {
    RestServer server(local_options());
    server.add_route("GET", "/metrics", [](const HttpRequest&) {
        HttpResponse r;
        r.content_type = "text/plain; version=0.0.4";
        r.body = "up 1\n";
        r.headers.emplace_back("Cache-Control", "no-store");
        return r;
    }, true);
    server.start();
    const auto r = http_request(server.port(), "GET", "/metrics");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4");
    EXPECT_EQ(r.header("cache-control"), "no-store");
    EXPECT_EQ(r.body, "up 1\n");
}

class RestStatic : public ::testing::Test {
protected:
    TempDir tmp;
    std::unique_ptr<RestServer> server;

    void SetUp() override {
        tmp.write("www/index.html", "<html>spa</html>");
        tmp.write("www/app.js", "console.log(1)");
        tmp.write("www/assets/style.css", "body{}");
        tmp.write("www/assets/app-1a2b3c.js", "let plain = 1;");
        tmp.write("www/assets/app-1a2b3c.js.gz", "GZIPPED-BYTES");
        tmp.write("www/logo.svg", "<svg/>");
        tmp.write("www/img.png", "PNG");
        tmp.write("www/data.json", "{\"a\":1}");
        tmp.write("www/favicon.ico", "ICO");
        tmp.write("www/font.woff2", std::string("wOF2\0\x01", 6));
        tmp.write("secret.txt", "TOP SECRET");
        fs::create_symlink(tmp.path / "secret.txt", tmp.path / "www" / "link.txt");
        RestOptions o = local_options();
        o.static_dir = (tmp.path / "www").string();
        server = std::make_unique<RestServer>(o);
        server->add_route("GET", "/api/health", [](const HttpRequest&) {
            return HttpResponse::json(200, "{}");
        });
        server->start();
    }
    HttpResult get(const std::string& target) {
        return http_request(server->port(), "GET", target);
    }
};

TEST_F(RestStatic, ServesFilesWithTheirMimeType) {
    const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
        {"/", "text/html; charset=utf-8", "<html>spa</html>"},
        {"/index.html", "text/html; charset=utf-8", "<html>spa</html>"},
        {"/app.js", "application/javascript", "console.log(1)"},
        {"/assets/style.css", "text/css", "body{}"},
        {"/logo.svg", "image/svg+xml", "<svg/>"},
        {"/img.png", "image/png", "PNG"},
        {"/data.json", "application/json", "{\"a\":1}"},
        {"/favicon.ico", "image/x-icon", "ICO"},
        {"/font.woff2", "font/woff2", std::string("wOF2\0\x01", 6)},
    };
    for (const auto& [path, mime, content] : cases) {
        const auto r = get(path);
        EXPECT_EQ(r.status, 200) << path << " " << r.error;
        EXPECT_EQ(r.header("content-type"), mime) << path;
        EXPECT_EQ(r.body, content) << path;
    }
    EXPECT_EQ(get("/api/health").status, 200);  // routes still win
}

TEST_F(RestStatic, HashedAssetsAreImmutableAndPrecompressedWhenAccepted) {
    const HttpHeaders gzip = {{"Accept-Encoding", "gzip, deflate, br"}};
    HttpResult r = http_request(server->port(), "GET", "/assets/app-1a2b3c.js", "", gzip);
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "GZIPPED-BYTES");
    EXPECT_EQ(r.header("content-encoding"), "gzip");
    EXPECT_EQ(r.header("content-type"), "application/javascript");  // of the original
    EXPECT_EQ(r.header("vary"), "Accept-Encoding");
    EXPECT_EQ(r.header("cache-control"), "public, max-age=31536000, immutable");

    for (const HttpHeaders& h : {HttpHeaders{}, HttpHeaders{{"Accept-Encoding", "gzip;q=0"}}}) {
        r = http_request(server->port(), "GET", "/assets/app-1a2b3c.js", "", h);
        EXPECT_EQ(r.body, "let plain = 1;");
        EXPECT_EQ(r.header("content-encoding"), "");
        EXPECT_EQ(r.header("vary"), "Accept-Encoding");
    }
    // Without a .gz sibling: as it is. The page itself is always revalidated.
    r = http_request(server->port(), "GET", "/assets/style.css", "", gzip);
    EXPECT_EQ(r.body, "body{}");
    EXPECT_EQ(r.header("content-encoding"), "");
    for (const char* page : {"/", "/index.html", "/some/client/route"})
        EXPECT_EQ(get(page).header("cache-control"), "no-cache") << page;
}

TEST_F(RestStatic, SpaFallbackForExtensionlessPathsOnly) {
    for (const char* path : {"/dashboard", "/orgs/42/orchestrators", "/assets/deep/route"}) {
        const auto r = get(path);
        EXPECT_EQ(r.status, 200) << path;
        EXPECT_EQ(r.body, "<html>spa</html>") << path;
    }
    expect_json_error(get("/missing.js"), 404, "not_found");
    expect_json_error(get("/api/unknown"), 404, "not_found");  // never the SPA under /api/
    expect_json_error(get("/api"), 404, "not_found");
    expect_json_error(http_request(server->port(), "POST", "/dashboard", "{}"), 404, "not_found");
}

TEST_F(RestStatic, TraversalIsRefused) {
    for (const char* path :
         {"/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/assets/../../secret.txt",
          "/%2E%2E%2Fsecret.txt", "/link.txt"}) {
        const auto r = get(path);
        EXPECT_NE(r.status, 200) << path;
        EXPECT_EQ(r.body.find("TOP SECRET"), std::string::npos) << path;
    }
}

TEST(RestServer, OversizedBodyGets413QuicklyAndSmallOnesPass) {
    RestOptions o = local_options();
    o.max_request_bytes = 1024;
    RestServer server(o);
    server.add_route("POST", "/api/echo", echo);
    server.start();

    EXPECT_EQ(http_request(server.port(), "POST", "/api/echo", std::string(1024, 'a')).status, 200);
    expect_json_error(http_request(server.port(), "POST", "/api/echo", std::string(1025, 'a')), 413,
                      "payload_too_large");
    // 8 MiB: refused from the headers, not after reading and re-parsing the body.
    const auto t0 = Clock::now();
    const auto big = http_request(server.port(), "POST", "/api/echo", std::string(8 << 20, 'a'));
    expect_json_error(big, 413, "payload_too_large");
    EXPECT_LT(Clock::now() - t0, milliseconds(3000));
    // Still serving.
    EXPECT_EQ(http_request(server.port(), "POST", "/api/echo", "{}").status, 200);
}

TEST(RestServer, MalformedAndChunkedRequestsGetJsonErrors) {
    RestServer server(local_options());
    server.add_route("POST", "/api/echo", echo);
    server.start();
    // An unknown method is 405 with what the server takes (issue 14).
    const HttpResult brew = http_raw(server.port(), "BREW /pot HTTP/1.1\r\n\r\n");
    expect_json_error(brew, 405, "method_not_allowed");
    EXPECT_EQ(brew.header("allow"), "GET, POST, PUT, PATCH, DELETE");
    expect_json_error(http_raw(server.port(), "GET / HTTP/9.9\r\n\r\n"), 400, "bad_request");
    expect_json_error(
        http_raw(server.port(),
                 "POST /api/echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "2\r\n{}\r\n0\r\n\r\n"),
        411, "length_required");
}

TEST(RestServer, StopWithKeepAliveSocketsIsPrompt) {
    RestServer server(local_options());
    server.add_route("GET", "/api/health", [](const HttpRequest&) {
        return HttpResponse::json(200, "{}");
    }, true);
    server.start();

    std::vector<int> fds;
    for (int i = 0; i < 5; ++i) {
        const int fd = moolai::test::tcp_connect(server.port());
        ASSERT_GE(fd, 0);
        const std::string req = "GET /api/health HTTP/1.1\r\nConnection: keep-alive\r\n\r\n";
        ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
        EXPECT_EQ(moolai::test::read_response(fd).status, 200);
        fds.push_back(fd);
    }
    fds.push_back(moolai::test::tcp_connect(server.port()));  // idle, never sends
    const auto t0 = Clock::now();
    server.stop();
    EXPECT_LT(Clock::now() - t0, milliseconds(1000));
    server.stop();  // idempotent
    for (int fd : fds) ::close(fd);
}

TEST(RestServer, StopAnswersQueuedRequestsWith503) {
    RestOptions o = local_options();
    o.worker_threads = 1;
    RestServer server(o);
    std::promise<void> started;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<int> calls{0};
    server.add_route("GET", "/api/slow", [&](const HttpRequest&) {
        if (++calls == 1) started.set_value();
        released.wait_for(std::chrono::seconds(10));
        return HttpResponse::json(200, "\"done\"");
    });
    server.start();
    auto first = std::async(std::launch::async, [&] {
        return http_request(server.port(), "GET", "/api/slow");
    });
    started.get_future().wait();
    // The second request waits in the queue behind the first (one worker).
    auto second = std::async(std::launch::async, [&] {
        return http_request(server.port(), "GET", "/api/slow");
    });
    auto stopper = std::async(std::launch::async, [&] { server.stop(); });
    // stop() joins the busy worker: it cannot finish before the release.
    EXPECT_EQ(stopper.wait_for(milliseconds(300)), std::future_status::timeout);
    release.set_value();
    stopper.get();
    EXPECT_EQ(first.get().status, 200);
    // It arrived while stop() waited for the worker: queued, or refused at the
    // queue because the pool was stopping; 503 either way.
    expect_json_error(second.get(), 503, "unavailable");
    EXPECT_EQ(calls.load(), 1);
}

TEST(RestServer, StartNamesHostAndPortWhenThePortIsTaken) {
    RestServer first(local_options());
    first.start();
    RestOptions o = local_options();
    o.port = first.port();
    RestServer second(o);
    try {
        second.start();
        FAIL() << "second server bound a port in use";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(o.port)),
                  std::string::npos)
            << e.what();
    }
}

TEST(RestServer, EveryRoutedAnswerCarriesARequestId) {
    RestServer server(local_options());
    std::mutex m;
    std::vector<std::string> seen;
    server.add_route("GET", "/id", [&](const HttpRequest& q) {
        std::lock_guard<std::mutex> lk(m);
        seen.push_back(q.request_id);
        return HttpResponse::json(200, "{}");
    });
    server.start();
    // A proxy's id is kept; anything else is replaced by a fresh one.
    HttpResult kept = http_request(server.port(), "GET", "/id", "", {{"X-Request-Id", "edge-42.a_b"}});
    EXPECT_EQ(kept.header("x-request-id"), "edge-42.a_b");
    const std::string long_id(65, 'a');
    for (const std::string& bad : {std::string("has space"), std::string("a\"b"), long_id}) {
        HttpResult r = http_request(server.port(), "GET", "/id", "", {{"X-Request-Id", bad}});
        EXPECT_TRUE(std::regex_match(r.header("x-request-id"), std::regex("[0-9a-f]{16}")))
            << bad << " -> " << r.header("x-request-id");
    }
    HttpResult a = http_request(server.port(), "GET", "/id");
    HttpResult b = http_request(server.port(), "GET", "/id");
    EXPECT_TRUE(std::regex_match(a.header("x-request-id"), std::regex("[0-9a-f]{16}")));
    EXPECT_NE(a.header("x-request-id"), b.header("x-request-id"));
    std::lock_guard<std::mutex> lk(m);
    ASSERT_EQ(seen.size(), 6u);
    EXPECT_EQ(seen[0], "edge-42.a_b");  // the handler sees the id it answers with
    EXPECT_EQ(seen[4], a.header("x-request-id"));
}

TEST(RestServer, RoutesAddedWhileServingAnswerAndWarmUpSays503) {
    // The controller listens before its API exists, for health probes.
    RestServer server(local_options());
    server.add_route("GET", "/livez", [](const HttpRequest&) {
        return HttpResponse::json(200, "{\"status\":\"up\"}");
    });
    server.set_warming_up(true);
    server.start();
    EXPECT_EQ(http_request(server.port(), "GET", "/livez").status, 200);
    const HttpResult early = http_request(server.port(), "GET", "/late");
    expect_json_error(early, 503, "starting");
    EXPECT_EQ(early.header("retry-after"), "1");

    server.add_route("GET", "/late", echo);
    server.set_warming_up(false);
    EXPECT_EQ(http_request(server.port(), "GET", "/late").status, 200);
    expect_json_error(http_request(server.port(), "GET", "/api/other"), 404, "not_found");
}
