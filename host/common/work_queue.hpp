// WorkQueue: threads that drain a bounded queue, for work that must leave
// the caller's thread -- a REST handler off the reactor, events to their
// subscribers, redelivery off a WebSocket io thread. The one place where the
// host's queue/condition-variable/thread pattern is written.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace moolai::host {

template <typename Item>
class WorkQueue {
public:
    // What push() does when `capacity` items are waiting.
    enum class WhenFull { refuse, drop_oldest };
    enum class Pushed { queued, queued_dropping_oldest, refused };
    // What stop() does with items still waiting.
    enum class AtStop { finish, hand_back };
    // Runs on a queue thread, outside the lock. Must not throw.
    using Handler = std::function<void(Item&)>;

    WorkQueue(size_t capacity, WhenFull when_full) : capacity_(capacity), when_full_(when_full) {}
    ~WorkQueue() { stop(AtStop::hand_back); }
    WorkQueue(const WorkQueue&) = delete;
    WorkQueue& operator=(const WorkQueue&) = delete;

    // Not while running. Items pushed before start() wait for it.
    void start(unsigned threads, Handler handler) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!threads_.empty()) return;
        handler_ = std::move(handler);
        stopping_ = false;
        finish_ = false;
        for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { drain(); });
    }

    // Any thread; never blocks on the handler. Refused once stop() began.
    // `item` is moved from only when queued: a refused one stays with the
    // caller (to answer, say, the request it carries).
    Pushed push(Item&& item) {
        Pushed result = Pushed::queued;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) return Pushed::refused;
            if (queue_.size() >= capacity_) {
                if (when_full_ == WhenFull::refuse || queue_.empty()) return Pushed::refused;
                queue_.pop_front();
                result = Pushed::queued_dropping_oldest;
            }
            queue_.push_back(std::move(item));
        }
        wake_.notify_one();
        return result;
    }

    // Joins the threads, after each finishes the item in hand (and, with
    // AtStop::finish, everything queued). Returns what was left waiting.
    // Idempotent; not from a handler.
    std::deque<Item> stop(AtStop at_stop) {
        std::vector<std::thread> threads;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
            finish_ = at_stop == AtStop::finish;
            threads.swap(threads_);
        }
        wake_.notify_all();
        for (auto& t : threads) t.join();
        std::lock_guard<std::mutex> lock(mutex_);
        std::deque<Item> left;
        left.swap(queue_);
        return left;
    }

    // True from the start of stop() until the next start().
    bool stopping() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return stopping_;
    }

private:
    void drain() {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_ && (!finish_ || queue_.empty())) return;
            std::optional<Item> item(std::move(queue_.front()));
            queue_.pop_front();
            lock.unlock();
            handler_(*item);
            item.reset();
            lock.lock();
        }
    }

    const size_t capacity_;
    const WhenFull when_full_;
    Handler handler_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Item> queue_;
    bool stopping_ = false;
    bool finish_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace moolai::host
