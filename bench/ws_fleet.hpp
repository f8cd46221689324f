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
    bool shut_down_ = false;
};

}  // namespace moolai::bench
