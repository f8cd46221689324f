// Metrics: counters, gauges and histograms rendered in the Prometheus text
// format for GET /metrics. Updating a metric that exists takes no lock
// (atomics only, so the heartbeat path can time itself); creating one takes
// a short one. Hand-written rather than prometheus-cpp: its Histogram (1.0,
// Debian 12) takes a mutex on every Observe, which the heartbeat path's io
// threads would contend on (docs/deployment.md, "Metrics", has the figures).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace moolai::host {

class Metric {
public:
    void add(double delta) noexcept;
    void set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
};

class Histogram {
public:
    static constexpr size_t kMaxBuckets = 16;
    // Upper bounds, ascending, at most kMaxBuckets; +Inf is implied.
    explicit Histogram(std::vector<double> bounds);
    void observe(double value) noexcept;

    const std::vector<double>& bounds() const noexcept { return bounds_; }
    uint64_t bucket(size_t i) const noexcept { return counts_[i].load(std::memory_order_relaxed); }
    uint64_t count() const noexcept;
    double sum() const noexcept { return sum_.value(); }

private:
    std::vector<double> bounds_;
    std::array<std::atomic<uint64_t>, kMaxBuckets + 1> counts_{};  // last: above every bound
    Metric sum_;
};

// Seconds, 0.1 ms .. 10 s: request and write latencies.
std::vector<double> latency_buckets();

class Metrics {
public:
    // Valid names match [a-z_][a-z0-9_]*; others return nullptr.
    Metric* counter(std::string_view name, std::string_view help = {});
    Metric* gauge(std::string_view name, std::string_view help = {});
    // `labels` is the rendered label set without braces (`route="/x",method="GET"`),
    // "" for none; each distinct set is its own series of the family `name`.
    Histogram* histogram(std::string_view name, std::string_view help, std::string_view labels,
                         const std::vector<double>& bounds = latency_buckets());
    Metric* gauge_with(std::string_view name, std::string_view help, std::string_view labels);
    Metric* counter_with(std::string_view name, std::string_view help, std::string_view labels);
    std::string render_prometheus() const;

    static bool valid_name(std::string_view name) noexcept;
    // A label value escaped for the text format (backslash, quote, newline).
    static std::string label_value(std::string_view v);

private:
    enum class Kind { counter, gauge, histogram };
    struct Family {
        Kind kind;
        std::string help;
        std::map<std::string, std::unique_ptr<Metric>, std::less<>> values;        // by labels
        std::map<std::string, std::unique_ptr<Histogram>, std::less<>> histograms;  // by labels
    };
    Family* family(std::string_view name, std::string_view help, Kind kind);
    Metric* value(std::string_view name, std::string_view help, Kind kind, std::string_view labels);

    mutable std::mutex mutex_;
    std::map<std::string, Family, std::less<>> families_;
};

// Process metrics in the names Prometheus' own clients use
// (process_resident_memory_bytes, process_open_fds, process_cpu_seconds_total, ...),
// read from /proc now. Linux only.
void update_process_metrics(Metrics& metrics);

}  // namespace moolai::host
