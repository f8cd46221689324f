#pragma once
// N simulated orchestrators on one ClientRuntime. The main thread drives the
// clock (ramp-up, usage reports, metadata updates, stats) with tick(); the
// client callbacks run on the runtime's threads and only touch atomics, the
// log and the thread-safe client methods.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "credentials_file.hpp"
#include "moolai/orchestrator_client.hpp"
#include "sim_options.hpp"

namespace moolai::sim {

// One line per call to stderr, with a UTC timestamp; safe from any thread.
class SimLog {
public:
    void line(const std::string& text);

private:
    std::mutex m_;
};

struct FleetCounters {
    // Gauges, kept per orchestrator (see Member): each connection is counted
    // once in and once out, whatever order the callbacks report them in.
    std::atomic<uint64_t> connected{0};
    std::atomic<uint64_t> registered{0};
    std::unique_ptr<std::atomic<uint64_t>[]> connected_to;  // per URL, as SimOptions::urls
    std::atomic<uint64_t> heartbeat_acks{0};
    std::atomic<uint64_t> heartbeats_ignored{0};  // acked processed:false
    std::atomic<uint64_t> usage_reports{0};
    std::atomic<uint64_t> metadata_updates{0};
    std::atomic<uint64_t> messages{0};
    std::atomic<uint64_t> messages_acked{0};
    std::atomic<uint64_t> reconnects{0};  // registrations after a client's first
    std::atomic<uint64_t> failovers{0};   // registrations on another URL than the last
    std::atomic<uint64_t> retries{0};     // disconnects followed by a backoff wait
    std::atomic<uint64_t> refused{0};
    std::atomic<uint64_t> stop_monitoring{0};
    std::atomic<uint64_t> config_updates{0};
    std::atomic<uint64_t> error_frames{0};
    std::atomic<uint64_t> protocol_problems{0};
};

class SimulatedFleet {
public:
    // credentials: one per orchestrator (tokens empty in open mode).
    SimulatedFleet(orchestrator::ClientRuntime& runtime, const SimOptions& options,
                   const std::vector<Credential>& credentials, SimLog& log);
    ~SimulatedFleet();  // destroys the clients (stop() first for a clean close)
    SimulatedFleet(const SimulatedFleet&) = delete;
    SimulatedFleet& operator=(const SimulatedFleet&) = delete;

    // Main thread, every ~100 ms: starts clients at the ramp rate and sends
    // the usage reports and metadata updates that are due.
    void tick(std::chrono::steady_clock::time_point now);
    void stop();  // every client closes with 1000; returns at once
    size_t size() const { return members_.size(); }
    size_t started() const { return started_; }
    bool all_refused() const;
    // Every client stopped or refused (or never started): nothing will
    // change the counters any more.
    bool all_settled() const;
    std::string stats_line(double elapsed_sec) const;
    const FleetCounters& counters() const { return counters_; }

private:
    struct Member;
    void send_usage(Member& m);
    void send_metadata(Member& m);
    orchestrator::ClientHandlers handlers_for(Member& m);
    void log_limited(std::atomic<uint64_t>& seen, const std::string& text);

    const SimOptions& opt_;
    SimLog& log_;
    FleetCounters counters_;
    std::vector<std::unique_ptr<Member>> members_;
    std::chrono::steady_clock::time_point began_;
    size_t started_ = 0;
    std::atomic<bool> all_registered_{false};
    std::atomic<bool> interval_logged_{false};
    std::atomic<uint64_t> refused_logged_{0}, errors_logged_{0}, problems_logged_{0},
        failovers_logged_{0};
};

}  // namespace moolai::sim
