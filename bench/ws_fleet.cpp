#include "ws_fleet.hpp"

#include <boost/asio.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <random>
#include <string_view>
#include <thread>

#include "load_stats.hpp"
#include "moolai/backoff.hpp"

namespace moolai::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// A client frame (RFC 6455 5.2): FIN + opcode, the mask bit and length, the
// masking key, the masked payload.
std::string masked_frame(uint8_t opcode, std::string_view payload, uint32_t mask_key) {
    std::string f;
    f.reserve(payload.size() + 14);
    f.push_back(static_cast<char>(0x80 | opcode));
    const size_t n = payload.size();
    if (n < 126) {
        f.push_back(static_cast<char>(0x80 | n));
    } else if (n <= 0xFFFF) {
        f.push_back(static_cast<char>(0x80 | 126));
        f.push_back(static_cast<char>(n >> 8));
        f.push_back(static_cast<char>(n & 0xFF));
    } else {
        f.push_back(static_cast<char>(0x80 | 127));
        for (int shift = 56; shift >= 0; shift -= 8)
            f.push_back(static_cast<char>((static_cast<uint64_t>(n) >> shift) & 0xFF));
    }
    const char key[4] = {static_cast<char>(mask_key >> 24), static_cast<char>(mask_key >> 16),
                         static_cast<char>(mask_key >> 8), static_cast<char>(mask_key)};
    f.append(key, 4);
    for (size_t i = 0; i < n; ++i) f.push_back(static_cast<char>(payload[i] ^ key[i % 4]));
    return f;
}

// The value of "type" in a frame the controller sent (its frames put no
// space after the colon).
std::string_view frame_type(std::string_view frame) {
    const size_t k = frame.find(R"("type":")");
    if (k == std::string_view::npos) return {};
    const size_t start = k + 8;
    const size_t end = frame.find('"', start);
    return end == std::string_view::npos ? std::string_view() : frame.substr(start, end - start);
}

// The value of a string field in a frame the controller sent ("code",
// "message_id"), empty when absent.
std::string_view string_field(std::string_view frame, std::string_view key) {
    const std::string pattern = "\"" + std::string(key) + "\":\"";
    const size_t k = frame.find(pattern);
    if (k == std::string_view::npos) return {};
    const size_t start = k + pattern.size();
    const size_t end = frame.find('"', start);
    return end == std::string_view::npos ? std::string_view() : frame.substr(start, end - start);
}

enum class State { idle, connecting, upgrading, registering, registered, closing, closed };

const char* stage_name(State s) {
    switch (s) {
        case State::idle:
        case State::connecting:
            return "connect";
        case State::upgrading:
            return "upgrade";
        case State::registering:
            return "register";
        default:
            return "registered";
    }
}

}  // namespace

struct WsFleet::Worker {
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
    std::thread thread;
    FleetCounters counters;
    std::mt19937 rng{std::random_device{}()};
};

struct WsFleet::Connection {
    WsFleet& fleet;
    Worker& worker;
    const size_t index;
    const std::string id;
    tcp::socket socket;
    asio::steady_timer timer;
    asio::steady_timer usage_timer;    // usage reports (open loop, when asked for)
    asio::steady_timer attempt_timer;  // the attempt timeout (when asked for)
    State state = State::idle;
    std::vector<char> in = std::vector<char>(2048);
    size_t in_len = 0;
    std::string out_queue, out_writing;
    bool writing = false;
    std::string heartbeat_frame;  // masked once, sent many times
    std::string usage_frame;      // likewise
    uint32_t mask_key;
    orchestrator::Backoff backoff;  // reconnect mode: orchestrator_client's own policy
    bool ever_registered = false;
    int server_close_code = -1;  // the server's close frame of this attempt, -1 = none
    bool server_closed_registered = false;
    int64_t next_usage_ns = 0;
    std::atomic<int64_t> registered_since_mark_ns{0};
    // Send times of the heartbeats not yet acked, oldest first (acks of one
    // connection come back in order).
    std::vector<int64_t> pending;
    size_t pending_head = 0;
    int64_t next_beat_ns = 0;  // open loop: the schedule
    std::atomic<bool> is_registered{false};
    std::atomic<int64_t> stop_monitoring_ns{0};
    std::atomic<int64_t> config_update_ns{0};
    // Bumped for each new attempt: handlers of an older socket see a
    // different number and do nothing.
    unsigned attempt = 0;

    Connection(WsFleet& f, Worker& w, size_t i, std::string orchestrator_id)
        : fleet(f),
          worker(w),
          index(i),
          id(std::move(orchestrator_id)),
          socket(w.io),
          timer(w.io),
          usage_timer(w.io),
          attempt_timer(w.io),
          mask_key(static_cast<uint32_t>(w.rng())),
          backoff(orchestrator::BackoffPolicy{}, static_cast<uint32_t>(w.rng())) {
        heartbeat_frame = masked_frame(
            0x1, R"({"orchestrator_id":")" + id + R"(","type":"i_am_alive"})", mask_key);
        if (f.opt_.usage_interval_ms > 0)
            usage_frame = masked_frame(0x1,
                                       R"({"type":"usage_report","orchestrator_id":")" + id +
                                           R"(","period":")" + f.opt_.usage_period +
                                           R"(","model":"bench-model","requests":1,)"
                                           R"("input_tokens":120,"output_tokens":30,)"
                                           R"("cost_usd":0.0004})",
                                       mask_key);
    }

    const FleetOptions& opt() const { return fleet.opt_; }

    void start() {
        state = State::connecting;
        server_close_code = -1;
        arm_stage_timeout(opt().connect_timeout_ms);
        const tcp::endpoint ep(asio::ip::make_address(opt().host), opt().port);
        socket.async_connect(ep, [this, a = attempt](const boost::system::error_code& ec) {
            if (a != attempt) return;
            if (ec) return fail(ec.message());
            fleet.open_sockets_.fetch_add(1);
            socket.set_option(tcp::no_delay(true));
            state = State::upgrading;
            arm_stage_timeout(opt().upgrade_timeout_ms);
            // The key is checked for shape only; a fixed one is as good as any here.
            send_raw("GET " + opt().path + " HTTP/1.1\r\nHost: " + opt().host + ":" +
                     std::to_string(opt().port) +
                     "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n");
            read();
        });
    }

    // The current stage (connect, upgrade, register) must end within `ms`.
    void arm_stage_timeout(double ms) {
        if (ms <= 0) return;
        attempt_timer.expires_after(std::chrono::milliseconds(static_cast<int64_t>(ms)));
        attempt_timer.async_wait(
            [this, a = attempt, at = state](const boost::system::error_code& ec) {
                if (ec || a != attempt || state != at) return;
                fail("timeout");
            });
    }

    // `reason`: why this attempt ended (an error message, "HTTP 503",
    // "timeout"); counted as "stage: reason".
    void fail(const std::string& reason) {
        if (state == State::closed) return;
        if (state == State::closing && opt().reconnect && server_close_code >= 0)
            return after_server_close();
        const bool was_registered = state == State::registered;
        const bool was_closing = state == State::closing;
        const std::string why = std::string(stage_name(state)) + ": " + reason;
        if (!was_registered && !was_closing) ++worker.counters.failures[why];
        if (opt().reconnect && !was_closing) {
            // Like orchestrator_client: every failure and every drop is tried
            // again after the backoff delay, as long as the fleet runs.
            if (was_registered) {
                ++worker.counters.closed_early;
            } else {
                ++worker.counters.retries;
                ++worker.counters.retries_at[state == State::connecting  ? 0
                                             : state == State::upgrading ? 1
                                                                         : 2];
            }
            close_socket(true);
            if (!fleet.stopping_.load()) retry_later();
            return;
        }
        if (was_registered) {
            ++worker.counters.closed_early;
        } else if (!was_closing) {
            // Like an orchestrator, try again a little later (a server that
            // cannot accept as fast as the ramp drops some handshakes).
            if (attempt + 1 < kMaxAttempts && !fleet.stopping_.load()) {
                ++worker.counters.retries;
                ++worker.counters.retries_at[state == State::connecting  ? 0
                                             : state == State::upgrading ? 1
                                                                         : 2];
                close_socket(true);
                retry_later();
                return;
            }
            ++worker.counters.failed;
            fleet.settled_.fetch_add(1);
            if (worker.counters.failed <= 3)
                std::fprintf(stderr, "connection %s failed: %s\n", id.c_str(), why.c_str());
        }
        close_socket(false);
    }

    static constexpr unsigned kMaxAttempts = 5;

    // Reconnect mode: the server's close frame was answered and the socket
    // ended; try again unless it refused us (1008, or 1000 to a registered
    // connection: replaced or deregistered -- orchestrator_client stops then).
    void after_server_close() {
        const int code = server_close_code;
        server_close_code = -1;
        const bool refused = code == 1008 || (code == 1000 && server_closed_registered);
        if (refused || fleet.stopping_.load()) {
            if (refused) {
                ++worker.counters.failures["refused: closed " + std::to_string(code)];
                if (!ever_registered) {
                    ever_registered = true;  // settled, for good
                    ++worker.counters.failed;
                    fleet.settled_.fetch_add(1);
                }
            }
            close_socket(false);
            return;
        }
        if (!server_closed_registered) {
            ++worker.counters.retries;
            ++worker.counters.retries_at[2];
        }
        close_socket(true);
        retry_later();
    }

    void retry_later() {
        ++attempt;
        socket = tcp::socket(worker.io);
        in_len = 0;
        out_queue.clear();
        out_writing.clear();
        writing = false;
        pending.clear();
        pending_head = 0;
        std::uniform_int_distribution<int> jitter(0, 500);
        timer.expires_after(opt().reconnect
                                ? backoff.next()
                                : std::chrono::milliseconds(1000 * attempt + jitter(worker.rng)));
        timer.async_wait([this, a = attempt](const boost::system::error_code& ec) {
            if (ec || a != attempt || fleet.stopping_.load()) return;
            start();
        });
    }

    void close_socket(bool reset) {
        if (state == State::closed) return;
        const bool counted = state != State::idle && state != State::connecting;
        state = State::closed;
        if (is_registered.exchange(false)) fleet.registered_now_.fetch_sub(1);
        timer.cancel();
        usage_timer.cancel();
        attempt_timer.cancel();
        boost::system::error_code ignored;
        if (reset) socket.set_option(asio::socket_base::linger(true, 0), ignored);
        socket.close(ignored);
        if (counted) fleet.open_sockets_.fetch_sub(1);
    }

    void send_raw(const std::string& bytes) {
        out_queue += bytes;
        if (!writing) flush();
    }

    void flush() {
        writing = true;
        out_writing.swap(out_queue);
        out_queue.clear();
        asio::async_write(socket, asio::buffer(out_writing),
                          [this, a = attempt](const boost::system::error_code& ec, size_t) {
                              if (a != attempt) return;
                              writing = false;
                              if (ec) return fail(ec.message());
                              if (!out_queue.empty() && state != State::closed) flush();
                          });
    }

    void read() {
        if (in_len == in.size()) in.resize(in.size() * 2);
        socket.async_read_some(asio::buffer(in.data() + in_len, in.size() - in_len),
                               [this, a = attempt](const boost::system::error_code& ec, size_t n) {
                                   if (a != attempt) return;
                                   if (ec) {
                                       if (state == State::closing) {
                                           if (opt().reconnect && server_close_code >= 0)
                                               return after_server_close();
                                           return close_socket(false);
                                       }
                                       return fail(ec.message());
                                   }
                                   in_len += n;
                                   if (!consume()) return;
                                   read();
                               });
    }

    // Handles every complete message in the buffer; false when closed.
    bool consume() {
        size_t at = 0;
        if (state == State::upgrading) {
            const std::string_view head(in.data(), in_len);
            const size_t end = head.find("\r\n\r\n");
            if (end == std::string_view::npos) return true;
            if (head.compare(0, 12, "HTTP/1.1 101") != 0) {
                // "HTTP 503" and the like: the status code is the kind.
                fail("HTTP " + std::string(head.size() >= 12 ? head.substr(9, 3) : head));
                return false;
            }
            at = end + 4;
            state = State::registering;
            arm_stage_timeout(opt().register_timeout_ms);
            std::string reg = R"({"type":"register","orchestrator_id":")" + id +
                              R"(","organization_id":")" + opt().organization_id + "\"";
            if (!opt().token.empty()) reg += R"(,"token":")" + opt().token + "\"";
            reg += "}";
            send_raw(masked_frame(0x1, reg, mask_key));
        }
        while (in_len - at >= 2) {
            const auto* p = reinterpret_cast<const unsigned char*>(in.data() + at);
            const size_t avail = in_len - at;
            const uint8_t opcode = p[0] & 0x0F;
            const bool masked = (p[1] & 0x80) != 0;
            uint64_t len = p[1] & 0x7F;
            size_t header = 2;
            if (len == 126) {
                if (avail < 4) break;
                len = (uint64_t{p[2]} << 8) | p[3];
                header = 4;
            } else if (len == 127) {
                if (avail < 10) break;
                len = 0;
                for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
                header = 10;
            }
            if (masked) header += 4;  // servers do not mask; tolerated anyway
            if (avail < header + len) break;
            char* payload_at = in.data() + at + header;
            if (masked)  // in place: the buffer is ours
                for (size_t i = 0; i < len; ++i)
                    payload_at[i] ^= static_cast<char>(p[header - 4 + i % 4]);
            const std::string_view payload(payload_at, static_cast<size_t>(len));
            at += header + static_cast<size_t>(len);
            if (!on_frame(opcode, payload)) return false;
        }
        std::memmove(in.data(), in.data() + at, in_len - at);
        in_len -= at;
        return true;
    }

    bool on_frame(uint8_t opcode, std::string_view payload) {
        switch (opcode) {
            case 0x1:
            case 0x2:
                on_text(payload);
                return state != State::closed;
            case 0x8:  // close: answer it (unless we started it) and drop the socket
                if (state != State::closing && opt().reconnect) {
                    const auto* b = reinterpret_cast<const unsigned char*>(payload.data());
                    const int code = payload.size() >= 2 ? (b[0] << 8) | b[1] : 1005;
                    server_close_code = code;
                    server_closed_registered = state == State::registered;
                    if (state == State::registered)
                        ++worker.counters.closed_early;
                    else
                        ++worker.counters.failures[std::string(stage_name(state)) + ": closed " +
                                                   std::to_string(code)];
                    state = State::closing;
                    send_raw(masked_frame(
                        0x8, payload.substr(0, std::min<size_t>(payload.size(), 2)), mask_key));
                } else if (state != State::closing) {
                    if (state == State::registered)
                        ++worker.counters.closed_early;
                    else if (state == State::registering) {
                        ++worker.counters.failed;
                        fleet.settled_.fetch_add(1);
                        if (worker.counters.failed <= 3)
                            std::fprintf(
                                stderr, "connection %s closed by the server: %.*s\n", id.c_str(),
                                static_cast<int>(payload.size() > 2 ? payload.size() - 2 : 0),
                                payload.size() > 2 ? payload.data() + 2 : "");
                    }
                    state = State::closing;
                    send_raw(masked_frame(
                        0x8, payload.substr(0, std::min<size_t>(payload.size(), 2)), mask_key));
                }
                return true;  // the server closes TCP after the handshake
            case 0x9:
                send_raw(masked_frame(0xA, payload, mask_key));
                return true;
            default:
                return true;
        }
    }

    void on_text(std::string_view frame) {
        const std::string_view type = frame_type(frame);
        const int64_t now = monotonic_ns();
        if (type == "heartbeat_ack") {
            FleetCounters& c = worker.counters;
            ++c.acks_total;
            if (pending_head < pending.size()) {
                const int64_t sent = pending[pending_head++];
                if (pending_head == pending.size()) {
                    pending.clear();
                    pending_head = 0;
                }
                if (fleet.recording_.load(std::memory_order_relaxed)) {
                    ++c.acks;
                    c.latency_us.push_back(static_cast<uint32_t>((now - sent) / 1000));
                }
            }
            if (opt().closed_loop && state == State::registered) send_heartbeat(now);
        } else if (type == "provisioning") {
            if (state != State::registering) return;
            state = State::registered;
            is_registered = true;
            fleet.registered_now_.fetch_add(1);
            attempt_timer.cancel();
            backoff.reset();
            ++worker.counters.registrations;
            if (registered_since_mark_ns.load(std::memory_order_relaxed) == 0)
                registered_since_mark_ns.store(now);
            if (!ever_registered) {
                ever_registered = true;
                ++worker.counters.established;
                fleet.established_.fetch_add(1);
                fleet.settled_.fetch_add(1);
            }
            if (!opt().closed_loop && opt().usage_interval_ms > 0) {
                const auto usage_ns = static_cast<int64_t>(opt().usage_interval_ms * 1e6);
                std::uniform_int_distribution<int64_t> phase(0, usage_ns - 1);
                next_usage_ns = now + phase(worker.rng);
                arm_usage();
            }
            if (opt().closed_loop) {
                for (unsigned k = 0; k < opt().in_flight; ++k) send_heartbeat(now);
            } else {
                // A random phase spreads the fleet's heartbeats over the interval.
                const auto interval_ns = static_cast<int64_t>(opt().interval_ms * 1e6);
                std::uniform_int_distribution<int64_t> phase(0, interval_ns - 1);
                next_beat_ns = now + phase(worker.rng);
                arm_beat();
            }
        } else if (type == "stop_monitoring") {
            stop_monitoring_ns.store(now);
        } else if (type == "config_update") {
            config_update_ns.store(now);
        } else if (type == "error") {
            ++worker.counters.error_codes[std::string(string_field(frame, "code"))];
            if (++worker.counters.error_frames <= 3)
                std::fprintf(stderr, "error frame to %s: %.*s\n", id.c_str(),
                             static_cast<int>(frame.size()), frame.data());
        } else if (const std::string_view message_id = string_field(frame, "message_id");
                   !message_id.empty()) {
            // A forwarded message: confirm it, as orchestrator_client does.
            ++worker.counters.message_acks_sent;
            send_raw(masked_frame(
                0x1, R"({"type":"message_ack","message_id":")" + std::string(message_id) + "\"}",
                mask_key));
        } else if (type != "handshake_ack") {
            ++worker.counters.other_frames;
        }
    }

    void arm_usage() {
        usage_timer.expires_after(
            std::chrono::nanoseconds(std::max<int64_t>(0, next_usage_ns - monotonic_ns())));
        usage_timer.async_wait([this, a = attempt](const boost::system::error_code& ec) {
            if (ec || a != attempt || state != State::registered) return;
            ++worker.counters.usage_reports_sent;
            send_raw(usage_frame);
            next_usage_ns += static_cast<int64_t>(opt().usage_interval_ms * 1e6);
            arm_usage();
        });
    }

    void send_heartbeat(int64_t intended_ns) {
        pending.push_back(intended_ns);
        ++worker.counters.heartbeats_sent;
        send_raw(heartbeat_frame);
    }

    void arm_beat() {
        const auto delay =
            std::chrono::nanoseconds(std::max<int64_t>(0, next_beat_ns - monotonic_ns()));
        timer.expires_after(delay);
        timer.async_wait([this, a = attempt](const boost::system::error_code& ec) {
            if (ec || a != attempt || state != State::registered) return;
            // Latency counts from the scheduled time: a late client does not hide
            // a slow server (no coordinated omission).
            send_heartbeat(next_beat_ns);
            next_beat_ns += static_cast<int64_t>(opt().interval_ms * 1e6);
            arm_beat();
        });
    }

    void begin_close() {
        timer.cancel();  // also a pending retry
        if (state == State::registered || state == State::registering) {
            state = State::closing;
            timer.cancel();
            send_raw(masked_frame(0x8, std::string("\x03\xe8", 2), mask_key));  // 1000
        } else if (state != State::closing) {
            close_socket(true);
        }
    }
};

WsFleet::WsFleet(FleetOptions options) : opt_(std::move(options)) {
    if (opt_.io_threads == 0) opt_.io_threads = 1;
    if (opt_.in_flight == 0) opt_.in_flight = 1;
    for (unsigned i = 0; i < opt_.io_threads; ++i) workers_.push_back(std::make_unique<Worker>());
    connections_.reserve(opt_.connections);
    for (size_t i = 0; i < opt_.connections; ++i) {
        std::string number = std::to_string(opt_.first_index + i);
        if (number.size() < static_cast<size_t>(opt_.id_digits))
            number.insert(0, static_cast<size_t>(opt_.id_digits) - number.size(), '0');
        connections_.push_back(std::make_unique<Connection>(*this, *workers_[i % workers_.size()],
                                                            i, opt_.id_prefix + number));
    }
}

WsFleet::~WsFleet() {
    shutdown();
}

void WsFleet::ramp() {
    for (auto& w : workers_) w->thread = std::thread([&io = w->io] { io.run(); });
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < connections_.size(); ++i) {
        if (opt_.ramp_per_sec > 0)
            std::this_thread::sleep_until(
                start +
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                    std::chrono::duration<double>(static_cast<double>(i) / opt_.ramp_per_sec)));
        Connection* c = connections_[i].get();
        asio::post(c->worker.io, [c] { c->start(); });
    }
}

bool WsFleet::wait_settled(double timeout_sec) const {
    const double deadline = monotonic_sec() + timeout_sec;
    while (settled_.load() < connections_.size()) {
        if (monotonic_sec() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

void WsFleet::begin_window() {
    recording_.store(true);
}
void WsFleet::end_window() {
    recording_.store(false);
}

std::string WsFleet::orchestrator_id(size_t i) const {
    return connections_.at(i)->id;
}
int64_t WsFleet::stop_monitoring_at(size_t i) const {
    return connections_.at(i)->stop_monitoring_ns.load();
}
int64_t WsFleet::config_update_at(size_t i) const {
    return connections_.at(i)->config_update_ns.load();
}
bool WsFleet::registered(size_t i) const {
    return connections_.at(i)->is_registered.load();
}
size_t WsFleet::registered_now() const {
    return static_cast<size_t>(std::max<int64_t>(0, registered_now_.load()));
}

void WsFleet::mark_registrations() {
    for (auto& c : connections_) c->registered_since_mark_ns.store(0);
}
int64_t WsFleet::registered_since_mark(size_t i) const {
    return connections_.at(i)->registered_since_mark_ns.load();
}

FleetCounters WsFleet::snapshot(bool take_latencies) {
    if (shut_down_) return totals();
    FleetCounters t;
    for (auto& w : workers_) {
        std::promise<FleetCounters> done;
        std::future<FleetCounters> got = done.get_future();
        Worker* p = w.get();
        asio::post(p->io, [p, &done, take_latencies] {
            FleetCounters c = p->counters;
            if (take_latencies) p->counters.latency_us.clear();
            done.set_value(std::move(c));
        });
        t.add(got.get());
    }
    return t;
}

void WsFleet::shutdown() {
    if (shut_down_ || workers_.empty()) return;
    shut_down_ = true;
    recording_.store(false);
    stopping_.store(true);
    for (auto& c : connections_) {
        Connection* p = c.get();
        asio::post(p->worker.io, [p] { p->begin_close(); });
    }
    const double deadline = monotonic_sec() + 3.0;
    while (open_sockets_.load() > 0 && monotonic_sec() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (auto& c : connections_) {
        Connection* p = c.get();
        asio::post(p->worker.io, [p] { p->close_socket(true); });
    }
    for (auto& w : workers_) {
        w->guard.reset();
        asio::post(w->io, [&io = w->io] { io.stop(); });
    }
    for (auto& w : workers_)
        if (w->thread.joinable()) w->thread.join();
}

void FleetCounters::add(const FleetCounters& c) {
    established += c.established;
    failed += c.failed;
    closed_early += c.closed_early;
    acks += c.acks;
    acks_total += c.acks_total;
    heartbeats_sent += c.heartbeats_sent;
    error_frames += c.error_frames;
    retries += c.retries;
    for (int i = 0; i < 3; ++i) retries_at[i] += c.retries_at[i];
    other_frames += c.other_frames;
    latency_us.insert(latency_us.end(), c.latency_us.begin(), c.latency_us.end());
    registrations += c.registrations;
    usage_reports_sent += c.usage_reports_sent;
    message_acks_sent += c.message_acks_sent;
    for (const auto& [k, v] : c.failures) failures[k] += v;
    for (const auto& [k, v] : c.error_codes) error_codes[k] += v;
}

FleetCounters WsFleet::totals() const {
    FleetCounters t;
    for (const auto& w : workers_) t.add(w->counters);
    return t;
}

}  // namespace moolai::bench
