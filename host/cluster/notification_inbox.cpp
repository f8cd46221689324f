#include "cluster/notification_inbox.hpp"

#include <algorithm>
#include <utility>

namespace moolai::host {

NotificationInbox::NotificationInbox(size_t capacity, Apply apply, Lost lost)
    : capacity_(std::max<size_t>(1, capacity)), apply_(std::move(apply)), lost_(std::move(lost)) {}

void NotificationInbox::start() {
    std::lock_guard<std::mutex> lock(m_);
    if (running_) return;
    running_ = true;
    thread_ = std::thread([this] { run(); });
}

void NotificationInbox::stop() {
    {
        std::lock_guard<std::mutex> lock(m_);
        if (!running_) return;
        running_ = false;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lock(m_);
    queue_.clear();
    dropped_ = false;
}

bool NotificationInbox::push(std::string payload) {
    {
        std::lock_guard<std::mutex> lock(m_);
        if (!running_) return false;
        if (queue_.size() >= capacity_) {
            dropped_ = true;  // the thread is busy with those waiting: it sees this after them
            return false;
        }
        queue_.push_back(std::move(payload));
    }
    cv_.notify_one();
    return true;
}

void NotificationInbox::run() {
    std::unique_lock<std::mutex> lock(m_);
    for (;;) {
        cv_.wait(lock, [this] { return !running_ || !queue_.empty() || dropped_; });
        if (!running_) return;
        if (!queue_.empty()) {
            const std::string payload = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            apply_(payload);
            lock.lock();
            continue;
        }
        // Everything that arrived was applied; what was dropped is not.
        dropped_ = false;
        lock.unlock();
        lost_();
        lock.lock();
    }
}

}  // namespace moolai::host
