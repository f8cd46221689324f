// webhook_observer -- an example out-of-tree Moolai plugin that POSTs every
// controller event, as one JSON object, to an HTTP URL:
//
//   POST /hooks/moolai HTTP/1.1
//   Content-Type: application/json
//
//   {"kind":"orchestrator_registered","time":"2026-11-28T10:00:00.000Z",
//    "organization_id":"acme","orchestrator_id":"orch-001","subject_id":"",
//    "old_value":"","new_value":"","actor":"system","detail_json":""}
//
// Config block:
//   {"url": "http://hooks.example:8080/hooks/moolai",   required, http:// only
//    "max_attempts": 3,       tries per event, first one included
//    "backoff_ms": 500,       wait before retry n: backoff_ms * 2^(n-1), at most 60 s
//    "timeout_ms": 2000,      per try: connect, send and the status line
//    "queue_capacity": 1000,  events waiting; more are dropped and counted
//    "kinds": [...]}          optional filter, as in event_log_observer
//
// What it shows:
// - on_event runs on the host's one event thread, which every observer
//   shares: it only formats the body and queues it. A worker thread,
//   started in start() and joined in stop(), does the network I/O.
// - The queue is bounded: when the receiver is slower than the events, new
//   events are dropped and counted (metric dropped_total), never buffered
//   without limit.
// - Retries are bounded too: a 2xx answer delivers; a network error, a
//   timeout, 408, 429 or 5xx is tried again up to max_attempts; any other
//   status is final. Giving up is logged through the host and counted.
//
// HTTP/1.1 over plain POSIX sockets, because the SDK (and so this example)
// has no third-party dependency. For https, put a TLS-terminating proxy
// (stunnel, nginx, envoy) on the same host and point url at it.
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "moolai/sdk.hpp"

namespace {

namespace sdk = moolai::sdk;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// ---- event -> JSON body (as in event_log_observer) ----------------------------

struct KindName {
    uint32_t kind;
    const char* name;
};
constexpr KindName kKinds[] = {
    {MOOLAI_EVENT_ORCHESTRATOR_REGISTERED, "orchestrator_registered"},
    {MOOLAI_EVENT_ORCHESTRATOR_DISCONNECTED, "orchestrator_disconnected"},
    {MOOLAI_EVENT_STATUS_CHANGED, "status_changed"},
    {MOOLAI_EVENT_INDEPENDENCE_CHANGED, "independence_changed"},
    {MOOLAI_EVENT_MESSAGE_CHANGED, "message_changed"},
    {MOOLAI_EVENT_CUSTOM, "custom"},
};

std::string kind_name(uint32_t kind) {
    for (const KindName& k : kKinds)
        if (k.kind == kind) return k.name;
    return "kind_" + std::to_string(kind);  // a kind newer than this plugin
}

// Length of the well-formed UTF-8 sequence starting at p[0] (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or 0.
size_t utf8_length(const unsigned char* p, size_t n) {
    const unsigned char c = p[0];
    if (c < 0x80) return 1;
    size_t len = 0;
    uint32_t cp = 0, min = 0;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
        min = 0x10000;
    }
    if (len == 0 || len > n) return 0;
    for (size_t k = 1; k < len; ++k) {
        if ((p[k] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (p[k] & 0x3f);
    }
    return cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? len : 0;
}

// Appends `s` as a JSON string literal. Control characters are escaped, and
// bytes that are not well-formed UTF-8 become U+FFFD, so the body stays
// valid JSON whatever the input.
void append_json_string(std::string& out, std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    for (size_t i = 0; i < s.size();) {
        const unsigned char c = p[i];
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 0xf];
                } else if (const size_t len = utf8_length(p + i, s.size() - i)) {
                    out.append(s.data() + i, len);
                    i += len;
                    continue;
                } else {
                    out += "\\ufffd";  // then resynchronise on the next byte
                }
        }
        ++i;
    }
    out += '"';
}

// Unix milliseconds -> "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC), without gmtime's
// global state. Days to civil date after H. Hinnant's days_from_civil
// inverse. Years outside 0000..9999 cannot be written in RFC 3339: "".
std::string rfc3339(int64_t ms) {
    constexpr int64_t kMin = -62167219200000;  // 0000-01-01T00:00:00Z
    constexpr int64_t kMax = 253402300799999;  // 9999-12-31T23:59:59.999Z
    if (ms < kMin || ms > kMax) return {};
    int64_t days = ms / 86400000, rem = ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        --days;
    }
    const int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t d = doy - (153 * mp + 2) / 5 + 1;
    const int64_t m = mp < 10 ? mp + 3 : mp - 9;
    const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    char buf[48];  // 24 needed; room for what the compiler cannot prove
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", int(y), int(m), int(d),
                  int(rem / 3600000), int(rem / 60000 % 60), int(rem / 1000 % 60), int(rem % 1000));
    return buf;
}

// The body: every field of the event as a string. detail_json is passed on
// as the text the emitter gave (a receiver parses it if it wants it), so
// the plugin needs no JSON parser.
std::string event_body(const moolai_event& e) {
    std::string out = "{\"kind\":";
    append_json_string(out, kind_name(e.kind));
    out += ",\"time\":";
    const std::string time = rfc3339(e.time_ms);
    if (time.empty())
        out += "null";
    else
        append_json_string(out, time);
    const std::pair<const char*, moolai_str> fields[] = {
        {"organization_id", e.organization_id},
        {"orchestrator_id", e.orchestrator_id},
        {"subject_id", e.subject_id},
        {"old_value", e.old_value},
        {"new_value", e.new_value},
        {"actor", e.actor},
        {"detail_json", e.detail_json},
    };
    for (const auto& f : fields) {
        out += ",\"";
        out += f.first;
        out += "\":";
        append_json_string(out, sdk::view(f.second));
    }
    out += '}';
    return out;
}

// ---- a minimal HTTP/1.1 POST ------------------------------------------------

struct Url {
    std::string host;  // name or address; IPv6 without its brackets
    std::string port = "80";
    std::string path = "/";
    std::string host_header;  // as written in the URL: host[:port]
};

// "http://host[:port][/path]"; throws sdk::Error naming what is wrong.
Url parse_url(std::string_view url) {
    const auto bad = [&](const std::string& why) {
        return sdk::Error(MOOLAI_E_INVALID, "config /url: \"" + std::string(url) + "\": " + why);
    };
    constexpr std::string_view scheme = "http://";
    if (url.substr(0, scheme.size()) != scheme)
        throw bad("only http:// is supported (put a TLS-terminating proxy in front for https)");
    std::string_view rest = url.substr(scheme.size());
    const size_t slash = rest.find_first_of("/?#");
    Url u;
    u.host_header = std::string(rest.substr(0, slash));
    if (slash != std::string_view::npos) {
        u.path = std::string(rest.substr(slash));
        if (u.path[0] != '/') u.path.insert(0, "/");
        u.path = u.path.substr(0, u.path.find('#'));  // fragments stay with the client
    }
    std::string_view authority = u.host_header;
    if (authority.find('@') != std::string_view::npos)
        throw bad("credentials in the URL are not supported");
    size_t colon = std::string_view::npos;
    if (!authority.empty() && authority[0] == '[') {  // [IPv6]:port
        const size_t close = authority.find(']');
        if (close == std::string_view::npos) throw bad("unclosed '[' in the host");
        u.host = std::string(authority.substr(1, close - 1));
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') throw bad("unexpected text after ']'");
            colon = close + 1;
        }
    } else {
        colon = authority.rfind(':');
        u.host = std::string(authority.substr(0, colon));
    }
    if (colon != std::string_view::npos) {
        u.port = std::string(authority.substr(colon + 1));
        const bool digits =
            !u.port.empty() && u.port.size() <= 5 &&
            std::all_of(u.port.begin(), u.port.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits || std::stoi(u.port) == 0 || std::stoi(u.port) > 65535)
            throw bad("the port must be a number from 1 to 65535");
    }
    if (u.host.empty()) throw bad("no host");
    for (char c : u.path + u.host_header)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            throw bad("spaces and control characters must be percent-encoded");
    return u;
}

// One try: its HTTP status, or 0 with `error` saying what failed. Every
// step waits at most until `deadline`.
class Attempt {
public:
    Attempt(const Url& url, Clock::time_point deadline) : url_(url), deadline_(deadline) {}
    ~Attempt() {
        if (fd_ >= 0) ::close(fd_);
    }
    Attempt(const Attempt&) = delete;
    Attempt& operator=(const Attempt&) = delete;

    int post(const std::string& body, std::string& error) {
        if (!connect(error)) return 0;
        std::string request = "POST " + url_.path + " HTTP/1.1\r\nHost: " + url_.host_header +
                              "\r\nUser-Agent: moolai-webhook-observer/1.0"
                              "\r\nContent-Type: application/json\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
        request += body;
        for (size_t done = 0; done < request.size();) {
            if (!wait(POLLOUT, error)) return 0;
            // MSG_NOSIGNAL: a peer that closed early must not raise SIGPIPE,
            // which would end the whole controller.
            const ssize_t n =
                ::send(fd_, request.data() + done, request.size() - done, MSG_NOSIGNAL);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n < 0) return fail(error, "send", errno);
            done += static_cast<size_t>(n);
        }
        // Only the status line matters ("HTTP/1.1 204 No Content").
        std::string head;
        while (head.find("\r\n") == std::string::npos) {
            if (head.size() > 8192) return fail(error, "status line too long");
            if (!wait(POLLIN, error)) return 0;
            char buf[1024];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n < 0) return fail(error, "recv", errno);
            if (n == 0) return fail(error, "connection closed before a response");
            head.append(buf, static_cast<size_t>(n));
        }
        int status = 0;
        if (std::sscanf(head.c_str(), "HTTP/1.%*1d %3d", &status) != 1 || status < 100 ||
            status > 599)
            return fail(error, "not an HTTP response");
        return status;
    }

private:
    // Tries each address of the host in turn.
    bool connect(std::string& error) {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* found = nullptr;
        // getaddrinfo has no timeout; it runs on the worker, never on a host thread.
        const int rc = ::getaddrinfo(url_.host.c_str(), url_.port.c_str(), &hints, &found);
        if (rc != 0) return fail(error, "cannot resolve " + url_.host + ": " + ::gai_strerror(rc));
        for (const addrinfo* a = found; a != nullptr && fd_ < 0; a = a->ai_next) {
            fd_ = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                           a->ai_protocol);
            if (fd_ < 0) {
                fail(error, "socket", errno);
            } else if (!connect_to(*a, error)) {
                ::close(fd_);
                fd_ = -1;
            }
        }
        ::freeaddrinfo(found);
        return fd_ >= 0;
    }

    bool connect_to(const addrinfo& a, std::string& error) {
        if (::connect(fd_, a.ai_addr, a.ai_addrlen) == 0) return true;
        if (errno != EINPROGRESS) return fail(error, "connect", errno);
        if (!wait(POLLOUT, error)) return false;
        int so_error = 0;
        socklen_t len = sizeof so_error;
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &so_error, &len);
        return so_error == 0 || fail(error, "connect", so_error);
    }

    // Waits until the socket is ready for `events`; false at the deadline.
    bool wait(short events, std::string& error) {
        while (true) {
            const auto left = std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now());
            if (left.count() <= 0) return fail(error, "timed out");
            pollfd p{fd_, events, 0};
            const int rc = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 60000)));
            if (rc > 0) return true;
            if (rc < 0 && errno != EINTR) return fail(error, "poll", errno);
        }
    }

    // Both return 0/false, so a failing step is `return fail(...)`.
    static bool fail(std::string& error, std::string what) {
        error = std::move(what);
        return false;
    }
    static bool fail(std::string& error, const char* call, int err) {
        return fail(error, std::string(call) + ": " + std::strerror(err));
    }

    const Url& url_;
    const Clock::time_point deadline_;
    int fd_ = -1;
};

// ---- the plugin ----------------------------------------------------------------

class WebhookObserver final : public sdk::Plugin, public sdk::Observer {
public:
    static constexpr const char* name = "webhook_observer";
    static constexpr const char* version = "1.0.0";
    static constexpr const char* description =
        "POSTs every controller event as JSON to an HTTP URL";
    // on_event and the worker share the queue under a mutex.
    static constexpr uint32_t threading = MOOLAI_THREADING_CONCURRENT;
    static constexpr uint32_t abi_minor_required = 1;  // host.config()
    static constexpr const char* config_schema = R"({
  "type": "object",
  "properties": {
    "url": {"type": "string", "pattern": "^http://"},
    "max_attempts": {"type": "integer", "minimum": 1, "maximum": 20},
    "backoff_ms": {"type": "integer", "minimum": 0, "maximum": 60000},
    "timeout_ms": {"type": "integer", "minimum": 1, "maximum": 60000},
    "queue_capacity": {"type": "integer", "minimum": 1, "maximum": 1000000},
    "kinds": {
      "type": "array", "minItems": 1,
      "items": {"type": "string", "enum": ["orchestrator_registered", "orchestrator_disconnected",
        "status_changed", "independence_changed", "message_changed", "custom"]}
    }
  },
  "required": ["url"],
  "additionalProperties": false
})";

    WebhookObserver(sdk::Host host, std::string_view /*config_json*/)
        : Plugin(host),
          url_text_(host.config().string("/url")),
          url_(parse_url(url_text_)),
          max_attempts_(host.config().integer_or("/max_attempts", 3)),
          backoff_ms_(host.config().integer_or("/backoff_ms", 500)),
          timeout_ms_(host.config().integer_or("/timeout_ms", 2000)),
          capacity_(static_cast<size_t>(host.config().integer_or("/queue_capacity", 1000))) {
        const sdk::Config config = host.config();
        for (uint64_t i = 0, n = config.length_or("/kinds", 0); i < n; ++i) {
            const std::string_view kind = config.string("/kinds/" + std::to_string(i));
            for (const KindName& known : kKinds)
                if (kind == known.name) wanted_.push_back(known.kind);
        }
    }

    ~WebhookObserver() override { stop(); }  // in case the host never called stop()

    sdk::Status start(sdk::Call&) override {
        worker_ = std::thread([this] { run(); });
        host().info("posting events to " + url_text_);
        return MOOLAI_OK;
    }

    void stop() noexcept override {
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (stopping_) return;
            stopping_ = true;
            stop_deadline_ = Clock::now() + milliseconds(timeout_ms_);
        }
        wake_.notify_all();
        if (worker_.joinable()) worker_.join();
    }

    // On the host's event thread: format, queue, return. No I/O here.
    sdk::Status on_event(sdk::Call&, const moolai_event& e) override {
        if (!wanted_.empty() && std::find(wanted_.begin(), wanted_.end(), e.kind) == wanted_.end())
            return MOOLAI_OK;
        std::string body = event_body(e);
        size_t depth = 0;
        bool dropped = false, first_drop = false;
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (stopping_) {
                dropped = true;  // no worker to hand it to any more
            } else if (queue_.size() >= capacity_) {
                dropped = true;
                first_drop = !dropping_;  // warn once per run of drops, not per event
                dropping_ = true;
            } else {
                queue_.push_back(std::move(body));
                dropping_ = false;
            }
            depth = queue_.size();
        }
        if (dropped) {
            host().metric_add("dropped_total", 1);
            if (first_drop)
                host().warn("queue full (" + std::to_string(capacity_) +
                            " events): dropping events until the receiver catches up");
            return MOOLAI_OK;
        }
        host().metric_set("queue_depth", static_cast<double>(depth));
        wake_.notify_one();
        return MOOLAI_OK;
    }

private:
    // The worker: one event at a time, in order, each with its retries.
    void run() {
        std::unique_lock<std::mutex> lock(mu_);
        while (true) {
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and nothing left
            if (stopping_ && Clock::now() >= stop_deadline_) {
                const size_t left = queue_.size();
                queue_.clear();
                lock.unlock();
                host().metric_add("dropped_total", static_cast<double>(left));
                host().warn(std::to_string(left) + " events not delivered at shutdown");
                return;
            }
            std::string body = std::move(queue_.front());
            queue_.pop_front();
            const size_t depth = queue_.size();
            lock.unlock();
            host().metric_set("queue_depth", static_cast<double>(depth));
            deliver(body);
            lock.lock();
        }
    }

    void deliver(const std::string& body) {
        std::string error;
        for (int64_t attempt = 1;; ++attempt) {
            Clock::time_point deadline = Clock::now() + milliseconds(timeout_ms_);
            bool stopping = false;
            {
                std::lock_guard<std::mutex> lock(mu_);
                stopping = stopping_;
                if (stopping) deadline = std::min(deadline, stop_deadline_);
            }
            host().metric_add("attempts_total", 1);
            const int status = Attempt(url_, deadline).post(body, error);
            if (status >= 200 && status < 300) {
                host().metric_add("delivered_total", 1);
                return;
            }
            if (status != 0) error = "HTTP " + std::to_string(status);
            const bool retryable = status == 0 || status == 408 || status == 429 || status >= 500;
            // While stopping, each event gets one try: shutdown stays bounded.
            if (!retryable || attempt >= max_attempts_ || stopping) {
                host().metric_add("failed_total", 1);
                host().error("gave up on an event after " + std::to_string(attempt) +
                             (attempt == 1 ? " attempt: " : " attempts: ") + error +
                             (retryable && attempt < max_attempts_ ? " (stopping)" : ""));
                return;
            }
            const int64_t wait_ms =
                std::min<int64_t>(backoff_ms_ << std::min<int64_t>(attempt - 1, 20), 60000);
            host().warn("attempt " + std::to_string(attempt) + " of " +
                        std::to_string(max_attempts_) + " failed: " + error + "; retrying in " +
                        std::to_string(wait_ms) + " ms");
            std::unique_lock<std::mutex> lock(mu_);
            // stop() cuts the wait short; the retry then runs as the last try.
            wake_.wait_for(lock, milliseconds(wait_ms), [this] { return stopping_; });
        }
    }

    const std::string url_text_;
    const Url url_;
    const int64_t max_attempts_, backoff_ms_, timeout_ms_;
    const size_t capacity_;
    std::vector<uint32_t> wanted_;  // empty = every kind

    std::mutex mu_;  // guards everything below
    std::condition_variable wake_;
    std::deque<std::string> queue_;
    bool stopping_ = false;
    bool dropping_ = false;
    Clock::time_point stop_deadline_{};
    std::thread worker_;  // started in start(), joined in stop()
};

}  // namespace

MOOLAI_PLUGIN(WebhookObserver);
