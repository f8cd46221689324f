#include "ws_fleet.hpp"

#include <boost/asio.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string_view>
#include <thread>

#include "load_stats.hpp"

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

enum class State { idle, connecting, upgrading, registering, registered, closing, closed };

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
    State state = State::idle;
    std::vector<char> in = std::vector<char>(2048);
    size_t in_len = 0;
    std::string out_queue, out_writing;
    bool writing = false;
    std::string heartbeat_frame;  // masked once, sent many times
    uint32_t mask_key;
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
          mask_key(static_cast<uint32_t>(w.rng())) {
        heartbeat_frame = masked_frame(
            0x1, R"({"orchestrator_id":")" + id + R"(","type":"i_am_alive"})", mask_key);
    }

    const FleetOptions& opt() const { return fleet.opt_; }

    void start() {
        state = State::connecting;
        const tcp::endpoint ep(asio::ip::make_address(opt().host), opt().port);
        socket.async_connect(ep, [this, a = attempt](const boost::system::error_code& ec) {
            if (a != attempt) return;
            if (ec) return fail("connect: " + ec.message());
            fleet.open_sockets_.fetch_add(1);
            socket.set_option(tcp::no_delay(true));
            state = State::upgrading;
            // The key is checked for shape only; a fixed one is as good as any here.
            send_raw("GET " + opt().path + " HTTP/1.1\r\nHost: " + opt().host + ":" +
                     std::to_string(opt().port) +
                     "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n");
            read();
        });
    }

    void fail(const std::string& why) {
        if (state == State::closed) return;
        const bool was_registered = state == State::registered;
        const bool was_closing = state == State::closing;
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
        timer.expires_after(std::chrono::milliseconds(1000 * attempt + jitter(worker.rng)));
        timer.async_wait([this, a = attempt](const boost::system::error_code& ec) {
            if (ec || a != attempt || fleet.stopping_.load()) return;
            start();
        });
    }

    void close_socket(bool reset) {
        if (state == State::closed) return;
        const bool counted = state != State::idle && state != State::connecting;
        state = State::closed;
        is_registered = false;
        timer.cancel();
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
                              if (ec) return fail("write: " + ec.message());
                              if (!out_queue.empty() && state != State::closed) flush();
                          });
    }

    void read() {
        if (in_len == in.size()) in.resize(in.size() * 2);
        socket.async_read_some(asio::buffer(in.data() + in_len, in.size() - in_len),
                               [this, a = attempt](const boost::system::error_code& ec, size_t n) {
                                   if (a != attempt) return;
                                   if (ec) {
                                       if (state == State::closing) return close_socket(false);
                                       return fail("read: " + ec.message());
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
                fail("upgrade refused: " + std::string(head.substr(0, head.find('\r'))));
                return false;
            }
            at = end + 4;
            state = State::registering;
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
                if (state != State::closing) {
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
            ++worker.counters.established;
            fleet.established_.fetch_add(1);
            fleet.settled_.fetch_add(1);
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
            if (++worker.counters.error_frames <= 3)
                std::fprintf(stderr, "error frame to %s: %.*s\n", id.c_str(),
                             static_cast<int>(frame.size()), frame.data());
        } else if (type != "handshake_ack") {
            ++worker.counters.other_frames;
        }
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

FleetCounters WsFleet::totals() const {
    FleetCounters t;
    for (const auto& w : workers_) {
        const FleetCounters& c = w->counters;
        t.established += c.established;
        t.failed += c.failed;
        t.closed_early += c.closed_early;
        t.acks += c.acks;
        t.acks_total += c.acks_total;
        t.heartbeats_sent += c.heartbeats_sent;
        t.error_frames += c.error_frames;
        t.retries += c.retries;
        for (int i = 0; i < 3; ++i) t.retries_at[i] += c.retries_at[i];
        t.other_frames += c.other_frames;
        t.latency_us.insert(t.latency_us.end(), c.latency_us.begin(), c.latency_us.end());
    }
    return t;
}

}  // namespace moolai::bench
