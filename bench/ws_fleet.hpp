// WsFleet: many simulated orchestrators on raw Boost.Asio sockets, a few io
// threads, no thread per connection. Each connection upgrades, registers and
// then sends i_am_alive frames -- closed loop (K in flight, the next one as
// soon as an ack arrives) or open loop (one every interval, on a fixed
// schedule whatever the acks do) -- and records each ack's latency.
//
// The WebSocket client side is written out by hand (upgrade request, masked
// frames built once per connection) so the generator spends as little of the
// shared CPU as possible on itself; the frames are byte for byte what an
// orchestrator sends.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace moolai::bench {

struct FleetOptions {
    std::string host = "127.0.0.1";
    uint16_t port = 8766;
    std::string path = "/ws";
    size_t connections = 1000;
    double ramp_per_sec = 500;  // new connections per second
    unsigned io_threads = 1;
    // Orchestrator ids: prefix + first_index + i, zero-padded to id_digits.
    std::string id_prefix = "bench-";
    size_t first_index = 1;
    int id_digits = 5;
    std::string organization_id = "bench";
    std::string token;  // sent in the register frame when not empty
    bool closed_loop = true;
    unsigned in_flight = 1;      // closed loop: heartbeats outstanding per connection
    double interval_ms = 30000;  // open loop: one heartbeat per connection per interval
    // Reconnect like orchestrator_client: after any failure or drop, try again
    // after moolai::orchestrator::Backoff's delay (exponential, full jitter,
    // 0.5 s base, 30 s cap, reset after a register), without an attempt limit;
    // stop only on 1008 or a 1000 from the server ("refused"). Off: the
    // benchmark's ramp retries (1, 2, 3, 4 s plus jitter, 5 attempts).
    bool reconnect = false;
    // An attempt whose stage takes longer is closed and counts as failed
    // ("connect: timeout", ...); 0 = no limit. orchestrator_client's are
    // 5000 / 5000 (websocketpp's connect and open-handshake timeouts) and
    // 10000 (ClientOptions::register_timeout, counted from the upgrade).
    double connect_timeout_ms = 0;
    double upgrade_timeout_ms = 0;
    double register_timeout_ms = 0;
    // Open loop: also one usage_report per connection per interval; 0 = none.
    double usage_interval_ms = 0;
    std::string usage_period = "2026-11-28T10:00:00Z";
};

// Counters of one io thread; summed by WsFleet::totals().
struct FleetCounters {
    uint64_t established = 0;  // got provisioning
    uint64_t failed = 0;       // connect, upgrade or register failed, every attempt
    uint64_t retries = 0;      // attempts that failed and were made again
    // ... of which failed while connecting, waiting for the upgrade, waiting for provisioning
    uint64_t retries_at[3] = {0, 0, 0};
    uint64_t closed_early = 0;  // closed by the server while registered
    uint64_t acks = 0;          // heartbeat_acks inside the window
    uint64_t acks_total = 0;
    uint64_t heartbeats_sent = 0;
    uint64_t error_frames = 0;
    uint64_t other_frames = 0;
    std::vector<uint32_t> latency_us;  // one per ack inside the window
    uint64_t registrations = 0;  // every provisioning, the first ones and the re-registrations
    uint64_t usage_reports_sent = 0;
    uint64_t message_acks_sent = 0;  // forwarded messages (frames with a message_id) acked
    // Why attempts failed, "stage: reason" (stage: connect, upgrade, register,
    // timeout): "connect: Connection refused", "upgrade: HTTP 503",
    // "register: closed 1013", "upgrade: End of file", ...
    std::map<std::string, uint64_t> failures;
    std::map<std::string, uint64_t> error_codes;  // the "code" of error frames received
    void add(const FleetCounters& c);             // sums c into this
};

class WsFleet {
public:
    explicit WsFleet(FleetOptions options);
    ~WsFleet();
    WsFleet(const WsFleet&) = delete;
    WsFleet& operator=(const WsFleet&) = delete;

    // Starts the io threads and opens the connections at the ramp rate;
    // returns when every connection was started (not necessarily open).
    void ramp();
    // Waits until every connection is registered or failed, or the timeout.
    bool wait_settled(double timeout_sec) const;
    uint64_t established() const { return established_.load(); }
    uint64_t settled() const { return settled_.load(); }

    // Acks and latencies count only between begin_window() and end_window().
    void begin_window();
    void end_window();

    // Connection i's orchestrator id, and when it last received
    // stop_monitoring / config_update (monotonic ns, 0 = never).
    std::string orchestrator_id(size_t i) const;
    int64_t stop_monitoring_at(size_t i) const;
    int64_t config_update_at(size_t i) const;
    bool registered(size_t i) const;
    size_t registered_now() const;  // connections registered at this moment

    // Registration times after a mark: mark_registrations() forgets them;
    // registered_since_mark(i) is the monotonic ns of connection i's first
    // provisioning after the mark, 0 while none.
    void mark_registrations();
    int64_t registered_since_mark(size_t i) const;

    // While running: the counters so far, summed over the io threads (each
    // reads its own); with take_latencies, the latency samples are moved out
    // (the next call sees only newer ones).
    FleetCounters snapshot(bool take_latencies);

    // Close handshakes (bounded), then the rest is reset; joins the threads.
    void shutdown();
    // After shutdown(): everything summed.
    FleetCounters totals() const;

private:
    struct Worker;
    struct Connection;
    friend struct Connection;

    FleetOptions opt_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<std::unique_ptr<Connection>> connections_;  // destroyed before the workers
    std::atomic<bool> recording_{false};
    std::atomic<bool> stopping_{false};
    std::atomic<uint64_t> established_{0};
    std::atomic<uint64_t> settled_{0};  // registered or failed
    std::atomic<uint64_t> open_sockets_{0};
    std::atomic<int64_t> registered_now_{0};
    bool shut_down_ = false;
};

}  // namespace moolai::bench
