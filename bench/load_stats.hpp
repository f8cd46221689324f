// What the load generator measures besides its own frames: latency
// percentiles from the raw samples, and CPU and memory of a process read
// from /proc (the server) or getrusage (the generator itself).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace moolai::bench {

// Exact percentiles over every sample (microseconds). Sorting a few million
// numbers once at the end is cheaper than keeping a histogram exact.
struct LatencySummary {
    size_t samples = 0;
    double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0, mean_ms = 0;
};
LatencySummary summarize(std::vector<uint32_t> micros);
nlohmann::json to_json(const LatencySummary& s);

// One reading of a process: CPU time so far and resident memory now.
struct ProcessReading {
    double cpu_sec = 0;  // user + system
    int64_t rss_kb = 0;  // VmRSS; 0 when the process is gone
    double at_sec = 0;   // monotonic clock
};
ProcessReading read_process(int pid);  // from /proc/<pid>/stat and /status
ProcessReading read_self();            // getrusage(RUSAGE_SELF) + /proc/self/status

// Percent of one core used between two readings.
double cpu_percent(const ProcessReading& from, const ProcessReading& to);

double monotonic_sec();
int64_t monotonic_ns();

// Raises RLIMIT_NOFILE to its hard limit; returns the new soft limit.
uint64_t raise_fd_limit();

}  // namespace moolai::bench
