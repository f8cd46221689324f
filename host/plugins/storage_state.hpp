// StorageState: whether storage answers, learned from the results of the
// storage calls the host makes anyway (every StorageClient call reports
// here), so REST, the probes, health and metrics share one answer. A change
// is logged once (down / up again), counted, and shown as a gauge; while
// down, a prober pings with backoff so storage is found again without a
// request having to ask.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "plugins/plugin_call.hpp"

namespace moolai::host {

class Log;
class Metric;
class Metrics;

class StorageState {
public:
    StorageState(Log& log, Metrics& metrics);
    ~StorageState();
    StorageState(const StorageState&) = delete;
    StorageState& operator=(const StorageState&) = delete;

    // The outcome of one storage call. MOOLAI_E_UNAVAILABLE = down; an
    // answer of the database (found, not found, conflict, invalid) = up;
    // other failures say nothing about reachability.
    void observe(const CallResult& r);
    bool up() const noexcept { return up_.load(std::memory_order_acquire); }
    uint64_t transitions() const noexcept { return transitions_.load(); }

    // Called on the prober's thread after each change to up (so only once
    // start_prober() ran). Register before storage is used concurrently.
    void on_up(std::function<void()> fn);

    // While down, calls `ping` after 1 s, 2 s, 4 s ... (at most `max_backoff`)
    // until storage is up; its result must reach observe() (a StorageClient
    // call does). stop() ends the prober at once.
    void start_prober(std::function<void()> ping,
                      std::chrono::milliseconds max_backoff = std::chrono::seconds(10));
    void stop() noexcept;

    // The Retry-After a client is told while storage is down, seconds.
    static constexpr int kRetryAfterSec = 5;

private:
    void prober_loop();

    Log& log_;
    Metric* up_gauge_;
    Metric* transitions_counter_;
    std::atomic<bool> up_{true};
    std::atomic<uint64_t> transitions_{0};
    std::mutex mutex_;  // orders changes, so each is logged once and in order
    std::vector<std::function<void()>> on_up_;

    std::function<void()> ping_;
    std::chrono::milliseconds max_backoff_{10000};
    std::mutex prober_mutex_;
    std::condition_variable prober_wake_;
    bool stopping_ = false;
    bool up_again_ = false;  // on_up callbacks are due
    std::thread prober_;
};

}  // namespace moolai::host
