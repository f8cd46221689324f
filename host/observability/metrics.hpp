// Metrics: named counters and gauges rendered in the Prometheus text
// format for GET /metrics. Values are atomics, so updating a metric that
// exists takes no lock; creating one takes a short one.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace moolai::host {

class Metric {
public:
    void add(double delta) noexcept;
    void set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
};

class Metrics {
public:
    // Valid names match [a-z_][a-z0-9_]*; others return nullptr.
    Metric* counter(std::string_view name, std::string_view help = {});
    Metric* gauge(std::string_view name, std::string_view help = {});
    std::string render_prometheus() const;

    static bool valid_name(std::string_view name) noexcept;

private:
    struct Entry {
        bool is_counter;
        std::string help;
        std::unique_ptr<Metric> metric;
    };
    Metric* get(std::string_view name, std::string_view help, bool is_counter);

    mutable std::mutex mutex_;
    std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace moolai::host
