// The only translation unit that includes Pistache (see rest_server.hpp).
#include "net/rest_server.hpp"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>

#include <nlohmann/json.hpp>

#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>

namespace moolai::host {

// ---------------------------------------------------------------- public helpers

std::string HttpRequest::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (k.size() == name.size() &&
            std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) ==
                       std::tolower(static_cast<unsigned char>(b));
            }))
            return v;
    }
    return {};
}

HttpResponse HttpResponse::json(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

HttpResponse HttpResponse::error(int status, std::string_view code, std::string_view message) {
    const nlohmann::json j = {
        {"success", false},
        {"error", {{"code", std::string(code)}, {"message", std::string(message)}}},
        {"detail", std::string(message)}};
    // replace: a message echoing client bytes may not be valid UTF-8.
    return json(status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string_view http_error_code(int status) {
    switch (status) {
        case 400: return "bad_request";
        case 401: return "unauthorized";
        case 403: return "forbidden";
        case 404: return "not_found";
        case 405: return "method_not_allowed";
        case 408: return "request_timeout";
        case 409: return "conflict";
        case 411: return "length_required";
        case 413: return "payload_too_large";
        case 415: return "unsupported_media_type";
        case 422: return "unprocessable";
        case 426: return "upgrade_required";
        case 429: return "rate_limited";
        case 500: return "internal";
        case 501: return "not_implemented";
        case 503: return "unavailable";
        default: return status >= 500 ? "internal" : "error";
    }
}

namespace {

namespace P = Pistache;
namespace PH = Pistache::Http;

constexpr size_t kHeaderRoom = 16 * 1024;  // request line + headers, on top of the body limit
constexpr const char* kDrainKey = "moolai.drain";
constexpr int64_t kFlushGraceMs = 50;  // see RestServer::stop()

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

bool usable_request_id(const std::string& id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
            return false;
    return true;
}

// Unique enough to find one request in the logs; not a secret.
std::string new_request_id() {
    thread_local std::mt19937_64 gen{std::random_device{}()};
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(gen()));
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// %XX -> byte; malformed escapes are kept as they are.
std::string pct_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%' && i + 2 < s.size()) {
            const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(plus_is_space && c == '+' ? ' ' : c);
    }
    return out;
}

// Raw (undecoded) non-empty path segments.
std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> segs;
    size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == '/') ++i;
        const size_t j = std::min(path.find('/', i), path.size());
        if (j > i) segs.push_back(path.substr(i, j - i));
        i = j;
    }
    return segs;
}

std::string format_remote(const P::Address& a) {
    const std::string h = a.host();
    const std::string port = std::to_string(static_cast<uint16_t>(a.port()));
    return h.find(':') != std::string::npos ? "[" + h + "]:" + port : h + ":" + port;
}

// A header with any name and a verbatim value (Pistache only writes typed headers).
class RawHeader : public PH::Header::Header {
public:
    RawHeader(std::string name, std::string value)
        : name_(std::move(name)), value_(std::move(value)) {}
    const char* name() const override { return name_.c_str(); }
    void write(std::ostream& os) const override { os << value_; }
    uint64_t hash() const override { return PH::Header::detail::hash(name_.c_str()); }

private:
    std::string name_, value_;
};

// Refuses a body over the limit as soon as the headers are in, before Pistache
// reserves Content-Length bytes or reads the body; and refuses chunked uploads
// (0.0.5's chunk parser is fragile, see the notes).
class LimitedBodyStep : public PH::Private::BodyStep {
public:
    LimitedBodyStep(PH::Message* m, size_t limit) : BodyStep(m), limit_(limit) {}
    PH::Private::State apply(P::StreamCursor& cursor) override {
        const auto& hs = message->headers();
        if (hs.has<PH::Header::TransferEncoding>())
            raise("chunked request bodies are not accepted", PH::Code::Length_Required);
        if (auto cl = hs.tryGet<PH::Header::ContentLength>(); cl && cl->value() > limit_)
            raise("request body too large", PH::Code::Request_Entity_Too_Large);
        return BodyStep::apply(cursor);
    }

private:
    size_t limit_;
};

class LimitedParser : public PH::RequestParser {
public:
    LimitedParser(size_t max_total, size_t max_body) : PH::RequestParser(max_total) {
        allSteps[2] = std::make_unique<LimitedBodyStep>(&request, max_body);
    }
};

// Pistache warnings (e.g. accept errors on EMFILE) into our logger.
class LogAdapter : public P::Log::StringLogger {
public:
    explicit LogAdapter(NetLogger l) : logger_(std::move(l)) {}
    void log(P::Log::Level level, const std::string& msg) override {
        logger_(level >= P::Log::Level::ERROR ? kNetError : kNetWarn, "http: " + msg);
    }
    bool isEnabledFor(P::Log::Level level) const override { return level >= P::Log::Level::WARN; }

private:
    NetLogger logger_;
};

struct Segment {
    std::string text;  // literal, or the parameter name without ':'
    bool param = false;
};

struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segs;
    HttpHandler handler;
    bool inline_on_reactor = false;
};

// Literal beats ":param" at the leftmost segment where the two differ.
bool more_specific(const Route& a, const Route& b) {
    for (size_t i = 0; i < a.segs.size(); ++i)
        if (a.segs[i].param != b.segs[i].param) return !a.segs[i].param;
    return false;
}

bool matches(const Route& r, const std::vector<std::string>& segs) {
    for (size_t i = 0; i < segs.size(); ++i)
        if (!r.segs[i].param && r.segs[i].text != segs[i]) return false;
    return true;
}

const PH::Mime::MediaType* mime_for(std::string_view ext) {
    using PH::Mime::MediaType;
    static const std::vector<std::pair<std::string, MediaType>> table = {
        {".html", MediaType::fromString("text/html; charset=utf-8")},
        {".js", MediaType::fromString("application/javascript")},
        {".css", MediaType::fromString("text/css")},
        {".svg", MediaType::fromString("image/svg+xml")},
        {".png", MediaType::fromString("image/png")},
        {".json", MediaType::fromString("application/json")},
        {".ico", MediaType::fromString("image/x-icon")},
        {".map", MediaType::fromString("application/json")},
        {".txt", MediaType::fromString("text/plain; charset=utf-8")},
    };
    for (const auto& [e, m] : table)
        if (e == ext) return &m;
    return nullptr;
}

// The route table is replaced whole on every add_route, so routes can be
// added while requests are served (health probes answer before the API is
// installed); a job keeps the table its route lives in.
using RouteTable = std::shared_ptr<const std::vector<Route>>;

struct Job {
    HttpRequest req;
    RouteTable table;
    const Route* route;
    PH::ResponseWriter writer;
    std::chrono::steady_clock::time_point received;
};

// Everything the Pistache handler clones (one per reactor) point at.
struct Core {
    RestOptions opt;
    RouteTable routes_ = std::make_shared<const std::vector<Route>>();
    std::atomic<bool> warming_up{false};
    std::string static_root;  // canonical static_dir + '/', "" = none

    RouteTable routes() const { return std::atomic_load(&routes_); }

    std::mutex qm;
    std::condition_variable qcv;
    std::deque<Job> queue;
    bool pool_stopping = false;
    std::vector<std::thread> workers;

    void log(int level, const std::string& msg) const {
        if (opt.logger) opt.logger(level, msg);
    }

    static P::Async::Promise<ssize_t> respond(PH::ResponseWriter& w, const HttpResponse& r) {
        for (const auto& [k, v] : r.headers) w.headers().add(std::make_shared<RawHeader>(k, v));
        if (!r.content_type.empty())
            w.headers().add(std::make_shared<RawHeader>("Content-Type", r.content_type));
        return w.send(static_cast<PH::Code>(r.status), r.body);
    }

    // On the reactor thread (the write happens after onInput returns).
    static void respond_inline(PH::ResponseWriter& w, const HttpResponse& r) {
        // A peer that left meanwhile rejects the promise; nothing to do then.
        respond(w, r).then([](ssize_t) {}, P::Async::IgnoreException);
    }

    // From any other thread. The send itself is safe (it goes through the
    // transport's MPSC queue), but no .then() may be attached here: the
    // reactor resolves the returned (chained) promise without taking its
    // mutex, racing with then() (0.0.5 async.h Chainer; TSan shows it).
    std::atomic<int64_t> last_offreactor_send_ms{0};
    void respond_offreactor(PH::ResponseWriter& w, const HttpResponse& r) {
        respond(w, r);
        last_offreactor_send_ms.store(now_ms());
    }

    HttpResponse run(const Route& route, const HttpRequest& req,
                     std::chrono::steady_clock::time_point received) const {
        HttpResponse r = run_handler(route, req);
        r.headers.emplace_back("X-Request-Id", req.request_id);
        if (opt.on_response)
            opt.on_response(route.method, route.pattern, r.status,
                            std::chrono::duration<double>(std::chrono::steady_clock::now() - received)
                                .count());
        return r;
    }

    HttpResponse run_handler(const Route& route, const HttpRequest& req) const {
        try {
            return route.handler(req);
        } catch (const std::exception& e) {
            log(kNetError, route.method + " " + route.pattern + " threw (request " +
                               req.request_id + "): " + e.what());
        } catch (...) {
            log(kNetError, route.method + " " + route.pattern + " threw a non-exception (request " +
                               req.request_id + ")");
        }
        return HttpResponse::error(500, "internal", "internal error");
    }

    // On a reactor thread. The Pistache request is reset when this returns,
    // so everything is copied into HttpRequest first.
    void dispatch(const PH::Request& pr, PH::ResponseWriter w) {
        const auto received = std::chrono::steady_clock::now();
        HttpRequest req;
        req.method = PH::methodString(pr.method());
        const std::string& resource = pr.resource();
        req.path = pct_decode(resource, false);
        std::vector<std::string> segs;
        for (std::string_view s : split_path(resource)) segs.push_back(pct_decode(s, false));
        for (auto it = pr.query().parameters_begin(); it != pr.query().parameters_end(); ++it) {
            if (!req.raw_query.empty()) req.raw_query += '&';
            req.raw_query += it->first + "=" + it->second;
            req.query[pct_decode(it->first, true)] = pct_decode(it->second, true);
        }
        for (const auto& kv : pr.headers().rawList())
            req.headers.emplace_back(kv.second.name(), kv.second.value());
        req.authorization = req.header("Authorization");
        req.request_id = req.header("X-Request-Id");
        if (!usable_request_id(req.request_id)) req.request_id = new_request_id();
        req.body = pr.body();
        req.remote = format_remote(pr.address());

        const RouteTable table = routes();
        const Route* best = nullptr;
        std::string allow;
        for (const Route& r : *table) {
            if (r.segs.size() != segs.size() || !matches(r, segs)) continue;
            if (r.method == req.method) {
                if (!best || more_specific(r, *best)) best = &r;
            } else if (allow.find(r.method) == std::string::npos) {
                allow += (allow.empty() ? "" : ", ") + r.method;
            }
        }

        if (best) {
            for (size_t i = 0; i < segs.size(); ++i)
                if (best->segs[i].param) req.params[best->segs[i].text] = segs[i];
            if (best->inline_on_reactor)
                respond_inline(w, run(*best, req, received));
            else
                enqueue(std::move(req), table, best, std::move(w), received);
        } else if (warming_up.load()) {
            // Not 404: the route may well exist once start-up is done.
            HttpResponse r = HttpResponse::error(503, "starting", "the controller is starting");
            r.headers.emplace_back("Retry-After", "1");
            respond_inline(w, r);
        } else if (!static_root.empty() && req.method == "GET" && req.path != "/api" &&
                   req.path.rfind("/api/", 0) != 0) {
            serve_static(segs, req.header("Accept-Encoding"), w);
        } else if (!allow.empty()) {
            HttpResponse r = HttpResponse::error(405, "method_not_allowed",
                                                 "method " + req.method + " not allowed here");
            r.headers.emplace_back("Allow", allow);
            respond_inline(w, r);
        } else {
            respond_inline(w, HttpResponse::error(404, "not_found", "no such resource"));
        }
    }

    void enqueue(HttpRequest req, RouteTable table, const Route* route, PH::ResponseWriter w,
                 std::chrono::steady_clock::time_point received) {
        {
            std::lock_guard<std::mutex> lk(qm);
            if (!pool_stopping && queue.size() < opt.max_queued_requests) {
                queue.push_back(
                    Job{std::move(req), std::move(table), route, std::move(w), received});
                qcv.notify_one();
                return;
            }
        }
        HttpResponse r = HttpResponse::error(503, "unavailable", "server busy or shutting down");
        r.headers.emplace_back("Retry-After", "1");
        respond_inline(w, r);
    }

    void worker_loop() {
        for (;;) {
            std::optional<Job> job;
            {
                std::unique_lock<std::mutex> lk(qm);
                qcv.wait(lk, [this] { return pool_stopping || !queue.empty(); });
                if (pool_stopping) return;  // stop() answers what is left
                job.emplace(std::move(queue.front()));
                queue.pop_front();
            }
            respond_offreactor(job->writer, run(*job->route, job->req, job->received));
        }
    }

    void serve_static(const std::vector<std::string>& segs, const std::string& accept_encoding,
                      PH::ResponseWriter& w) {
        auto not_found = [&] {
            respond_inline(w, HttpResponse::error(404, "not_found", "no such file"));
        };
        for (const std::string& s : segs)
            if (s == ".." || s.find('\0') != std::string::npos || s.find('/') != std::string::npos)
                return not_found();  // no traversal, also not via %2F or %2e%2e

        std::string rel;
        for (const std::string& s : segs) rel += (rel.empty() ? "" : "/") + s;
        const bool has_ext = !segs.empty() && segs.back().find('.') != std::string::npos;
        if (!rel.empty()) {
            char buf[PATH_MAX];
            if (::realpath((static_root + rel).c_str(), buf)) {
                const std::string canon = buf;
                if (canon.compare(0, static_root.size(), static_root) != 0)
                    return not_found();  // a symlink pointing out of static_dir
                struct stat st {};
                if (::stat(canon.c_str(), &st) == 0 && S_ISREG(st.st_mode))
                    return serve_file(canon, accept_encoding, w);
            }
        }
        // SPA fallback: client-side routes have no file extension.
        if (!has_ext) return serve_file(static_root + "index.html", accept_encoding, w);
        not_found();
    }

    static bool accepts_gzip(const std::string& accept_encoding) {
        // "gzip" listed and not refused with q=0 (the forms browsers and proxies send).
        const size_t at = accept_encoding.find("gzip");
        if (at == std::string::npos) return false;
        const size_t end = accept_encoding.find(',', at);
        const std::string param = accept_encoding.substr(at, end == std::string::npos ? end : end - at);
        return param.find("q=0") == std::string::npos || param.find("q=0.") != std::string::npos;
    }

    static bool regular_file(const std::string& path) {
        struct stat st {};
        return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
    }

    void serve_file(const std::string& file, const std::string& accept_encoding,
                    PH::ResponseWriter& w) {
        const size_t dot = file.rfind('.');
        const std::string ext = dot == std::string::npos ? "" : file.substr(dot);
        // The dashboard's build puts content-hashed names under assets/: they
        // never change, so caches may keep them; anything else (index.html)
        // is revalidated so a new version shows at once.
        const bool immutable = file.compare(0, static_root.size() + 7, static_root + "assets/") == 0;
        w.headers().add(std::make_shared<RawHeader>(
            "Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache"));
        std::string send = file;
        // Pre-compressed siblings (file.gz, made by gui/build.sh): no
        // compression work per request.
        if (regular_file(file + ".gz")) {
            w.headers().add(std::make_shared<RawHeader>("Vary", "Accept-Encoding"));
            if (accepts_gzip(accept_encoding)) {
                send = file + ".gz";
                w.headers().add(std::make_shared<RawHeader>("Content-Encoding", "gzip"));
            }
        }
        try {
            if (ext == ".woff2") {
                // "font/woff2" cannot be a Pistache MediaType ("font" is not a
                // known top type), so fonts are read and sent with a raw header.
                std::ifstream in(send, std::ios::binary);
                if (!in) throw PH::HttpError(PH::Code::Not_Found, "no such file");
                std::string data((std::istreambuf_iterator<char>(in)),
                                 std::istreambuf_iterator<char>());
                HttpResponse r;
                r.content_type = "font/woff2";
                r.body = std::move(data);
                return respond_inline(w, r);
            }
            const PH::Mime::MediaType* m = mime_for(ext);
            static const auto octet = PH::Mime::MediaType::fromString("application/octet-stream");
            // sendfile() has no MSG_NOSIGNAL: the process must ignore SIGPIPE.
            PH::serveFile(w, send, m ? *m : octet).then([](ssize_t) {}, P::Async::IgnoreException);
        } catch (const PH::HttpError& e) {  // vanished between stat and open
            const int code = e.code();
            respond_inline(w, HttpResponse::error(code, http_error_code(code), "no such file"));
        }
    }
};

class Handler : public PH::Handler {
public:
    HTTP_PROTOTYPE(Handler)

    explicit Handler(Core* core) : core_(core) {}

    void onConnection(const std::shared_ptr<P::Tcp::Peer>& peer) override {
        peer->putData(ParserData, std::make_shared<LimitedParser>(getMaxRequestSize(),
                                                                  core_->opt.max_request_bytes));
    }

    // Same steps as Http::Handler::onInput in 0.0.5, except that errors get JSON
    // bodies (upstream sends e.what() as text) and a connection whose request
    // failed to parse is drained and half-closed instead of re-parsing the rest
    // of its bytes as new requests (seconds of CPU per MB, see the notes).
    void onInput(const char* buf, size_t len, const std::shared_ptr<P::Tcp::Peer>& peer) override {
        if (peer->tryGetData(kDrainKey)) return;
        auto parser = getParser(peer);
        auto& request = parser->request;
        try {
            if (!parser->feed(buf, len))
                throw PH::HttpError(PH::Code::Request_Entity_Too_Large, "request too large");
            if (parser->parse() != PH::Private::State::Done) return;
            PH::ResponseWriter w(request.version(), transport(), this, peer);
            request.copyAddress(peer->address());
            auto conn = request.headers().tryGet<PH::Header::Connection>();
            w.headers().add<PH::Header::Connection>(conn ? conn->control()
                                                         : PH::ConnectionControl::Close);
            peer->setIdle(false);
            try {
                core_->dispatch(request, std::move(w));
            } catch (const std::exception& e) {  // ours, not the client's fault
                core_->log(kNetError, std::string("http: dispatch failed: ") + e.what());
                fail(peer, request.version(), 500, "internal error");
            }
            parser->reset();
        } catch (const PH::HttpError& e) {
            core_->log(kNetDebug, "http: bad request: " + e.reason());
            const int code = e.code();
            fail(peer, request.version(), code,
                 code == 413   ? "request body too large"
                 : code == 411 ? "a Content-Length is required"
                               : "malformed request");
            parser->reset();
        } catch (const std::exception& e) {  // malformed headers and the like
            core_->log(kNetDebug, std::string("http: bad request: ") + e.what());
            fail(peer, request.version(), 400, "malformed request");
            parser->reset();
        }
    }

    void onRequest(const PH::Request& req, PH::ResponseWriter w) override {
        core_->dispatch(req, std::move(w));  // not reached: onInput calls dispatch
    }

private:
    // Answers and ends the connection: after a framing error the rest of its
    // bytes cannot be trusted to start a new request.
    void fail(const std::shared_ptr<P::Tcp::Peer>& peer, PH::Version version, int status,
              const std::string& message) {
        peer->putData(kDrainKey, std::make_shared<bool>(true));
        peer->setIdle(true);  // the idle sweep then drops it quietly (no 408)
        PH::ResponseWriter w(version, transport(), this, peer);
        w.headers().add<PH::Header::Connection>(PH::ConnectionControl::Close);
        const HttpResponse r = HttpResponse::error(status, http_error_code(status), message);
        w.headers().add(std::make_shared<RawHeader>("Content-Type", r.content_type));
        // Half-close once written so the client sees EOF right after the error.
        w.send(static_cast<PH::Code>(status), r.body)
            .then([peer](ssize_t) { ::shutdown(peer->fd(), SHUT_WR); }, P::Async::IgnoreException);
    }

    Core* core_;
};

}  // namespace

struct RestServer::Impl : Core {
    std::mutex state_m;
    bool started = false, stopped = false;
    std::unique_ptr<PH::Endpoint> endpoint;
    std::atomic<uint16_t> bound_port{0};
};

RestServer::RestServer(RestOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->opt = std::move(options);
    if (impl_->opt.reactor_threads == 0 || impl_->opt.worker_threads == 0)
        throw std::invalid_argument("RestOptions: reactor_threads and worker_threads must be > 0");
}

RestServer::~RestServer() { stop(); }

void RestServer::add_route(std::string method, std::string pattern, HttpHandler handler,
                           bool inline_on_reactor) {
    std::lock_guard<std::mutex> lk(impl_->state_m);
    if (pattern.empty() || pattern[0] != '/')
        throw std::invalid_argument("route pattern must start with '/': " + pattern);
    Route r;
    for (std::string_view s : split_path(pattern)) {
        Segment seg;
        seg.param = s[0] == ':';
        seg.text = std::string(seg.param ? s.substr(1) : s);
        r.segs.push_back(std::move(seg));
    }
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    r.method = std::move(method);
    r.pattern = std::move(pattern);
    r.handler = std::move(handler);
    r.inline_on_reactor = inline_on_reactor;
    auto next = std::make_shared<std::vector<Route>>(*impl_->routes());
    next->push_back(std::move(r));
    std::atomic_store(&impl_->routes_, RouteTable(std::move(next)));
}

void RestServer::set_warming_up(bool on) { impl_->warming_up.store(on); }

std::vector<std::pair<std::string, std::string>> RestServer::routes() const {
    std::lock_guard<std::mutex> lk(impl_->state_m);
    std::vector<std::pair<std::string, std::string>> out;
    for (const Route& r : *impl_->routes()) out.emplace_back(r.method, r.pattern);
    return out;
}

void RestServer::start() {
    Impl& m = *impl_;
    std::lock_guard<std::mutex> lk(m.state_m);
    if (m.started) throw std::logic_error("RestServer::start() called twice");
    const std::string where = m.opt.host + ":" + std::to_string(m.opt.port);

    if (!m.opt.static_dir.empty()) {
        char buf[PATH_MAX];
        if (!::realpath(m.opt.static_dir.c_str(), buf))
            throw std::runtime_error("static_dir not found: " + m.opt.static_dir);
        m.static_root = std::string(buf) + "/";
    }

    auto opts = PH::Endpoint::options()
                    .threads(static_cast<int>(m.opt.reactor_threads))
                    .threadsName("rest")
                    .flags(P::Tcp::Options::ReuseAddr | P::Tcp::Options::NoDelay)
                    .backlog(512)
                    .maxRequestSize(m.opt.max_request_bytes + kHeaderRoom)
                    .maxResponseSize(m.opt.max_response_bytes)
                    .headerTimeout(std::chrono::seconds(m.opt.header_timeout_s))
                    .bodyTimeout(std::chrono::seconds(m.opt.body_timeout_s))
                    .keepaliveTimeout(std::chrono::seconds(m.opt.keepalive_timeout_s));
    if (m.opt.logger) opts.logger(std::make_shared<LogAdapter>(m.opt.logger));

    try {
        auto ep = std::make_unique<PH::Endpoint>(P::Address(m.opt.host, P::Port(m.opt.port)));
        ep->init(opts);
        ep->setHandler(PH::make_handler<Handler>(static_cast<Core*>(&m)));
        ep->serveThreaded();
        m.bound_port = static_cast<uint16_t>(ep->getPort());
        m.endpoint = std::move(ep);
    } catch (const std::exception& e) {
        throw std::runtime_error("http server cannot listen on " + where + ": " + e.what());
    }
    m.started = true;
    for (unsigned i = 0; i < m.opt.worker_threads; ++i)
        m.workers.emplace_back([&m] { m.worker_loop(); });
}

void RestServer::stop() {
    Impl& m = *impl_;
    std::lock_guard<std::mutex> lk(m.state_m);
    if (!m.started || m.stopped) return;
    m.stopped = true;
    // Workers first: they write to peers, and Pistache's Peer keeps a raw
    // Transport* that shutdown() invalidates.
    {
        std::lock_guard<std::mutex> ql(m.qm);
        m.pool_stopping = true;
    }
    m.qcv.notify_all();
    for (auto& t : m.workers) t.join();
    m.workers.clear();
    std::deque<Job> left;
    {
        std::lock_guard<std::mutex> ql(m.qm);
        left.swap(m.queue);
    }
    for (Job& j : left)
        m.respond_offreactor(j.writer,
                             HttpResponse::error(503, "unavailable", "server shutting down"));
    left.clear();
    // Those writes sit in the reactors' queues, which shutdown() drops, and
    // their completion cannot be observed from here (see respond_offreactor):
    // give the reactors a moment after the last one.
    const int64_t wait_ms = m.last_offreactor_send_ms.load() + kFlushGraceMs - now_ms();
    if (wait_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    m.endpoint->shutdown();
    m.endpoint.reset();  // joins the reactor threads
}

uint16_t RestServer::port() const { return impl_->bound_port.load(); }

}  // namespace moolai::host
