// The only translation unit that includes Pistache (see rest_server.hpp).
#include "net/rest_server.hpp"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/listener.h>
#include <pistache/peer.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "common/work_queue.hpp"
#include "net/accept_pacing.hpp"
#include "net/forwarded_for.hpp"
#include "net/router.hpp"
#include "net/static_files.hpp"
#include "net/tls.hpp"
#include "net/tls_front.hpp"

namespace moolai::host {
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

std::string format_remote(const std::string& h, uint16_t port) {
    const std::string p = std::to_string(port);
    return h.find(':') != std::string::npos ? "[" + h + "]:" + p : h + ":" + p;
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
// (0.0.5's chunk parser is fragile: docs/library-quirks.md, P1).
class LimitedBodyStep : public PH::Private::BodyStep {
public:
    LimitedBodyStep(PH::Message* m, size_t limit) : BodyStep(m), limit_(limit) {}
    PH::Private::State apply(P::StreamCursor& cursor) override {
        // The cursor stands at the end of the headers: what came before is
        // the request line and the headers (the whole request arrived at once).
        if (static_cast<size_t>(cursor) > kHeaderRoom)
            raise("request headers too large", PH::Code::Request_Header_Fields_Too_Large);
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

    // feed() that also counts the bytes and keeps the first few (the method).
    bool feed_counted(const char* data, size_t len) {
        fed_ += len;
        if (head_.size() < kHeadBytes) head_.append(data, std::min(len, kHeadBytes - head_.size()));
        return feed(data, len);
    }
    void reset() override {
        PH::RequestParser::reset();
        fed_ = 0;
        head_.clear();
    }
    // Still reading the request line or the headers.
    bool in_headers() const noexcept { return currentStep < 2; }
    size_t fed() const noexcept { return fed_; }
    // The request line could not be read because its method is none that
    // Pistache knows (a token of letters, then a space): 405, not 400.
    bool unknown_method() const {
        if (currentStep != 0) return false;
        const size_t sp = head_.find(' ');
        if (sp == 0 || sp == std::string::npos) return false;
        for (size_t i = 0; i < sp; ++i)
            if (head_[i] < 'A' || head_[i] > 'Z') return false;
        static const char* const kKnown[] = {"OPTIONS", "GET",   "POST",  "HEAD",   "PUT",
                                             "PATCH",   "DELETE", "TRACE", "CONNECT"};
        for (const char* k : kKnown)
            if (head_.compare(0, sp, k) == 0) return false;
        return true;
    }

private:
    static constexpr size_t kHeadBytes = 24;
    size_t fed_ = 0;
    std::string head_;
};

// What a 405 for an unknown method offers (no route was matched to say more).
constexpr const char* kAllowedMethods = "GET, POST, PUT, PATCH, DELETE";

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

// A routed request waiting for a worker.
struct Job {
    HttpRequest req;
    Router::Table table;  // keeps `route` alive
    const Route* route;
    PH::ResponseWriter writer;
    std::chrono::steady_clock::time_point received;
};

// Pistache's type for a content type StaticFiles names; null for those
// Pistache cannot represent ("font" is not a top type it knows).
const PH::Mime::MediaType* media_type(const std::string& content_type) {
    static const auto table = [] {
        std::map<std::string, PH::Mime::MediaType> t;
        for (const std::string& ct : StaticFiles::content_types()) {
            try {
                PH::Mime::MediaType m = PH::Mime::MediaType::fromString(ct);
                if (m.top() != PH::Mime::Type::None) t.emplace(ct, std::move(m));
            } catch (const std::exception&) {
            }
        }
        return t;
    }();
    const auto it = table.find(content_type);
    return it == table.end() ? nullptr : &it->second;
}

// "application/json", any case, with parameters ("; charset=utf-8") or not.
bool is_json(std::string_view content_type) {
    constexpr std::string_view kJson = "application/json";
    while (!content_type.empty() && content_type.front() == ' ') content_type.remove_prefix(1);
    if (content_type.size() < kJson.size()) return false;
    for (size_t i = 0; i < kJson.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(content_type[i])) != kJson[i]) return false;
    const std::string_view rest = content_type.substr(kJson.size());
    return rest.empty() || rest.front() == ';' || rest.front() == ' ';
}

// Everything the Pistache handler clones (one per reactor) point at.
struct Core {
    RestOptions opt;
    Router router;
    std::atomic<bool> warming_up{false};
    // With TLS: what terminates it, set once before it accepts anyone.
    std::atomic<const TlsFront*> front{nullptr};
    std::optional<StaticFiles> static_files;
    WorkQueue<Job> workers{1, WorkQueue<Job>::WhenFull::refuse};  // sized in the constructor

    explicit Core(RestOptions o)
        : opt(std::move(o)), workers(opt.max_queued_requests, WorkQueue<Job>::WhenFull::refuse) {}

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
            opt.on_response(
                route.method, route.pattern, r.status,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count());
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
        // Through the TLS front the peer is the front, on loopback: the
        // client is the one it relays for.
        std::string peer_host = pr.address().host();
        // 0.0.5 keeps a peer's port in network byte order (library-quirks P16).
        uint16_t peer_port = ntohs(static_cast<uint16_t>(pr.address().port()));
        if (const TlsFront* f = front.load(); f != nullptr && peer_host == "127.0.0.1")
            if (auto c = f->client_of(peer_port)) {
                peer_host = c->host;
                peer_port = c->port;
            }
        req.remote = format_remote(peer_host, peer_port);
        req.client =
            forwarded_client(peer_host, req.header("X-Forwarded-For"), opt.trusted_proxies);
        if (opt.admit) {
            if (const int64_t wait_s = opt.admit(req); wait_s > 0) {
                HttpResponse r = HttpResponse::error(
                    429, "rate_limited",
                    "too many requests from this address; retry in " + std::to_string(wait_s) +
                        " s");
                r.headers.emplace_back("Retry-After", std::to_string(wait_s));
                r.headers.emplace_back("X-Request-Id", req.request_id);
                return respond_inline(w, r);
            }
        }

        Router::Match m = router.match(req.method, segs);
        if (m.route && !req.body.empty() && !is_json(req.header("Content-Type"))) {
            // Every body the API takes is JSON. Refusing the rest also keeps
            // out a browser's cross-site form posts (text/plain, urlencoded).
            HttpResponse r = HttpResponse::error(
                415, "unsupported_media_type",
                "the body must be sent as Content-Type: application/json");
            r.headers.emplace_back("Accept", "application/json");
            r.headers.emplace_back("X-Request-Id", req.request_id);
            respond_inline(w, r);
        } else if (m.route) {
            req.params = std::move(m.params);
            if (m.route->inline_on_reactor)
                respond_inline(w, run(*m.route, req, received));
            else
                enqueue(Job{std::move(req), std::move(m.table), m.route, std::move(w), received});
        } else if (warming_up.load()) {
            // Not 404: the route may well exist once start-up is done.
            HttpResponse r = HttpResponse::error(503, "starting", "the controller is starting");
            r.headers.emplace_back("Retry-After", "1");
            respond_inline(w, r);
        } else if (static_files && req.method == "GET" && req.path != "/api" &&
                   req.path.rfind("/api/", 0) != 0) {
            serve_static(static_files->resolve(segs, req.header("Accept-Encoding")), w);
        } else if (!m.allow.empty()) {
            HttpResponse r = HttpResponse::error(405, "method_not_allowed",
                                                 "method " + req.method + " not allowed here");
            r.headers.emplace_back("Allow", m.allow);
            respond_inline(w, r);
        } else {
            respond_inline(w, HttpResponse::error(404, "not_found", "no such resource"));
        }
    }

    void enqueue(Job job) {
        if (workers.push(std::move(job)) != WorkQueue<Job>::Pushed::refused) return;
        // Refused: push() left the job, and its writer, with us.
        HttpResponse r = HttpResponse::error(503, "unavailable", "server busy or shutting down");
        r.headers.emplace_back("Retry-After", "1");
        respond_inline(job.writer, r);
    }

    void work(Job& job) { respond_offreactor(job.writer, run(*job.route, job.req, job.received)); }

    void serve_static(const StaticFiles::Answer& a, PH::ResponseWriter& w) {
        if (a.status != 200)
            return respond_inline(
                w, HttpResponse::error(a.status, http_error_code(a.status), "no such file"));
        for (const auto& [k, v] : a.headers) w.headers().add(std::make_shared<RawHeader>(k, v));
        try {
            const PH::Mime::MediaType* m = media_type(a.content_type);
            if (m == nullptr) {  // a type Pistache cannot name: read and send with a raw header
                std::ifstream in(a.file, std::ios::binary);
                if (!in) throw PH::HttpError(PH::Code::Not_Found, "no such file");
                HttpResponse r;
                r.content_type = a.content_type;
                r.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
                return respond_inline(w, r);
            }
            // sendfile() has no MSG_NOSIGNAL: the process must ignore SIGPIPE.
            PH::serveFile(w, a.file, *m).then([](ssize_t) {}, P::Async::IgnoreException);
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
    // of its bytes as new requests (seconds of CPU per MB: docs/library-quirks.md, P3).
    void onInput(const char* buf, size_t len, const std::shared_ptr<P::Tcp::Peer>& peer) override {
        if (peer->tryGetData(kDrainKey)) return;
        auto parser = std::static_pointer_cast<LimitedParser>(getParser(peer));
        auto& request = parser->request;
        try {
            if (!parser->feed_counted(buf, len))
                throw PH::HttpError(parser->in_headers() ? PH::Code::Request_Header_Fields_Too_Large
                                                         : PH::Code::Request_Entity_Too_Large,
                                    "request too large");
            if (parser->parse() != PH::Private::State::Done) {
                // Headers still coming past their room: refuse now rather than
                // buffer up to the body limit first.
                if (parser->in_headers() && parser->fed() > kHeaderRoom)
                    throw PH::HttpError(PH::Code::Request_Header_Fields_Too_Large,
                                        "request headers too large");
                return;
            }
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
            if (parser->unknown_method()) {
                fail(peer, request.version(), 405, "unknown HTTP method", kAllowedMethods);
            } else {
                const int code = e.code();
                fail(peer, request.version(), code,
                     code == 413   ? "request body too large"
                     : code == 431 ? "request headers too large (at most 16 KiB)"
                     : code == 411 ? "a Content-Length is required"
                                   : "malformed request");
            }
            parser->reset();
        } catch (const std::exception& e) {  // malformed headers and the like
            core_->log(kNetDebug, std::string("http: bad request: ") + e.what());
            if (parser->unknown_method())
                fail(peer, request.version(), 405, "unknown HTTP method", kAllowedMethods);
            else
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
              const std::string& message, const char* allow = nullptr) {
        peer->putData(kDrainKey, std::make_shared<bool>(true));
        peer->setIdle(true);  // the idle sweep then drops it quietly (no 408)
        PH::ResponseWriter w(version, transport(), this, peer);
        w.headers().add<PH::Header::Connection>(PH::ConnectionControl::Close);
        if (allow != nullptr) w.headers().add(std::make_shared<RawHeader>("Allow", allow));
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
    using Core::Core;
    std::mutex state_m;
    bool started = false, stopped = false;
    std::unique_ptr<PH::Endpoint> endpoint;
    std::unique_ptr<TlsFront> tls_front;
    std::atomic<uint16_t> bound_port{0};
};

RestServer::RestServer(RestOptions options) {
    if (options.reactor_threads == 0 || options.worker_threads == 0)
        throw std::invalid_argument("RestOptions: reactor_threads and worker_threads must be > 0");
    impl_ = std::make_unique<Impl>(std::move(options));
}

RestServer::~RestServer() {
    stop();
}

void RestServer::add_route(std::string method, std::string pattern, HttpHandler handler,
                           bool inline_on_reactor) {
    impl_->router.add(std::move(method), std::move(pattern), std::move(handler), inline_on_reactor);
}

void RestServer::set_warming_up(bool on) {
    impl_->warming_up.store(on);
}

std::vector<std::pair<std::string, std::string>> RestServer::routes() const {
    return impl_->router.routes();
}

void RestServer::start() {
    Impl& m = *impl_;
    std::lock_guard<std::mutex> lk(m.state_m);
    if (m.started) throw std::logic_error("RestServer::start() called twice");
    const std::string where = m.opt.host + ":" + std::to_string(m.opt.port);

    if (!m.opt.static_dir.empty()) m.static_files.emplace(m.opt.static_dir);

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
    set_failed_accept_logger(m.opt.logger);

    try {
        // With TLS, Pistache serves plain HTTP on loopback behind the front
        // (its own TLS blocks its accept thread: library-quirks P14).
        const bool tls = m.opt.tls != nullptr;
        auto ep = std::make_unique<PH::Endpoint>(tls ? P::Address("127.0.0.1", P::Port(0))
                                                     : P::Address(m.opt.host, P::Port(m.opt.port)));
        ep->init(opts);
        ep->setHandler(PH::make_handler<Handler>(static_cast<Core*>(&m)));
        ep->serveThreaded();
        m.endpoint = std::move(ep);
        if (tls) {
            TlsFrontOptions fo;
            fo.host = m.opt.host;
            fo.port = m.opt.port;
            fo.inner_port = static_cast<uint16_t>(m.endpoint->getPort());
            fo.tls = m.opt.tls;
            fo.handshake_timeout_ms = m.opt.header_timeout_s * 1000;
            fo.logger = m.opt.logger;
            m.tls_front = std::make_unique<TlsFront>(std::move(fo));
            m.front = m.tls_front.get();
            m.tls_front->start();
        }
        m.bound_port = tls ? m.tls_front->port() : static_cast<uint16_t>(m.endpoint->getPort());
    } catch (const std::exception& e) {
        m.front = nullptr;
        m.tls_front.reset();
        if (m.endpoint) {  // the loopback half started, the front could not
            m.endpoint->shutdown();
            m.endpoint.reset();
        }
        throw std::runtime_error("http server cannot listen on " + where + ": " + e.what());
    }
    m.started = true;
    m.workers.start(m.opt.worker_threads, [&m](Job& job) { m.work(job); });
}

void RestServer::stop() {
    Impl& m = *impl_;
    std::lock_guard<std::mutex> lk(m.state_m);
    if (!m.started || m.stopped) return;
    m.stopped = true;
    // Workers first: they write to peers, and Pistache's Peer keeps a raw
    // Transport* that shutdown() invalidates.
    for (Job& j : m.workers.stop(WorkQueue<Job>::AtStop::hand_back))
        m.respond_offreactor(j.writer,
                             HttpResponse::error(503, "unavailable", "server shutting down"));
    // Those writes sit in the reactors' queues, which shutdown() drops, and
    // their completion cannot be observed from here (see respond_offreactor):
    // give the reactors a moment after the last one.
    const int64_t wait_ms = m.last_offreactor_send_ms.load() + kFlushGraceMs - now_ms();
    if (wait_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    if (m.tls_front) m.tls_front->stop();  // no new requests reach Pistache
    m.endpoint->shutdown();
    m.endpoint.reset();  // joins the reactor threads
}

uint64_t RestServer::accept_errors() const {
    const TlsFront* f = impl_->front.load();
    return failed_accepts() + (f != nullptr ? f->accept_errors() : 0);
}

uint64_t RestServer::tls_handshake_failures() const {
    const TlsFront* f = impl_->front.load();
    return f != nullptr ? f->handshake_failures() : 0;
}

uint16_t RestServer::port() const {
    return impl_->bound_port.load();
}

}  // namespace moolai::host
