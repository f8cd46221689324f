// PeriodicTask: runs a function every `interval` on its own thread until
// stopped; stop() wakes it at once and runs the function one last time, so
// what was pending (a batch of heartbeats) is not lost at shutdown.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace moolai::host {

class PeriodicTask {
public:
    PeriodicTask(std::chrono::milliseconds interval, std::function<void()> tick)
        : interval_(interval), tick_(std::move(tick)) {}
    ~PeriodicTask() { stop(); }
    PeriodicTask(const PeriodicTask&) = delete;
    PeriodicTask& operator=(const PeriodicTask&) = delete;

    void start() {
        if (thread_.joinable()) return;
        stopping_ = false;
        thread_ = std::thread([this] {
            std::unique_lock<std::mutex> lock(mutex_);
            for (;;) {
                wake_.wait_for(lock, interval_, [this] { return stopping_; });
                const bool last = stopping_;  // the final round runs too
                lock.unlock();
                tick_();
                lock.lock();
                if (last) return;
            }
        });
    }

    void stop() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        if (thread_.joinable()) thread_.join();
    }

private:
    const std::chrono::milliseconds interval_;
    const std::function<void()> tick_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace moolai::host
