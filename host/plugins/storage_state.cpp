#include "plugins/storage_state.hpp"

#include <algorithm>

#include "observability/log.hpp"
#include "observability/metrics.hpp"

namespace moolai::host {

StorageState::StorageState(Log& log, Metrics& metrics)
    : log_(log),
      up_gauge_(
          metrics.gauge("moolai_storage_up", "1 while storage answers, 0 while it is unreachable")),
      transitions_counter_(
          metrics.counter("moolai_storage_state_changes_total",
                          "Changes of storage reachability (down or up again) since start")) {
    up_gauge_->set(1);
}

StorageState::~StorageState() {
    stop();
}

void StorageState::observe(const CallResult& r) {
    bool reachable;
    switch (r.status) {
        case MOOLAI_E_UNAVAILABLE:
            reachable = false;
            break;
        case MOOLAI_OK:
        case MOOLAI_E_NOT_FOUND:
        case MOOLAI_E_CONFLICT:
        case MOOLAI_E_INVALID:
        case MOOLAI_E_DENIED:
            reachable = true;
            break;
        default:
            return;
    }
    // The common case, storage as it was: one atomic load, no lock (the
    // heartbeat batcher and every REST call pass here).
    if (up_.load(std::memory_order_acquire) == reachable) return;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (up_.load(std::memory_order_relaxed) == reachable) return;  // another thread won
        up_.store(reachable, std::memory_order_release);
        ++transitions_;
        transitions_counter_->add(1);
        up_gauge_->set(reachable ? 1 : 0);
        if (reachable) {
            log_.info("storage is reachable again; writes are accepted");
        } else {
            // The plugin's text goes to the operator's log only, never to
            // API clients (it may name the database host and port).
            log_.warn("storage unreachable: " + r.error +
                      " -- serving what is in memory; writes answer 503 until it returns");
        }
    }
    std::lock_guard<std::mutex> lock(prober_mutex_);
    if (reachable) up_again_ = true;
    prober_wake_.notify_all();
}

void StorageState::on_up(std::function<void()> fn) {
    std::lock_guard<std::mutex> lock(mutex_);
    on_up_.push_back(std::move(fn));
}

void StorageState::start_prober(std::function<void()> ping, std::chrono::milliseconds max_backoff) {
    if (prober_.joinable()) return;
    ping_ = std::move(ping);
    max_backoff_ = max_backoff;
    stopping_ = false;
    prober_ = std::thread([this] { prober_loop(); });
}

void StorageState::stop() noexcept {
    {
        std::lock_guard<std::mutex> lock(prober_mutex_);
        stopping_ = true;
    }
    prober_wake_.notify_all();
    if (prober_.joinable()) prober_.join();
}

void StorageState::prober_loop() {
    std::unique_lock<std::mutex> lock(prober_mutex_);
    auto backoff = std::chrono::milliseconds(1000);
    for (;;) {
        prober_wake_.wait(lock, [this] { return stopping_ || !up() || up_again_; });
        if (stopping_) return;
        if (up_again_) {
            // Here rather than on the thread that saw storage return: that
            // may be a request or the heartbeat batcher, which must not wait.
            up_again_ = false;
            backoff = std::chrono::milliseconds(1000);
            std::vector<std::function<void()>> callbacks;
            {
                std::lock_guard<std::mutex> l(mutex_);
                callbacks = on_up_;
            }
            lock.unlock();
            for (const auto& fn : callbacks) fn();
            lock.lock();
            continue;
        }
        if (prober_wake_.wait_for(lock, backoff, [this] { return stopping_ || up(); })) continue;
        lock.unlock();
        ping_();  // reports through observe(); may take the plugin's retry window
        lock.lock();
        backoff = std::min(backoff * 2, max_backoff_);
    }
}

}  // namespace moolai::host
