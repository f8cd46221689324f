// NotificationInbox: what other hosts sent, applied in arrival order on one
// thread of its own, so the storage plugin's listener never waits for the
// fleet.
//
// Bounded: when `capacity` notifications wait, the next is dropped, and
// once those waiting are applied `lost` runs (on the same thread, once per
// overrun) for the link to read the shared state anew. The flag is set
// under the queue's lock, so a drop is never missed by a thread that has
// just emptied the queue.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace moolai::host {

class NotificationInbox {
public:
    // Both run on the inbox thread and must not throw.
    using Apply = std::function<void(const std::string& payload)>;
    using Lost = std::function<void()>;

    NotificationInbox(size_t capacity, Apply apply, Lost lost);
    ~NotificationInbox() { stop(); }
    NotificationInbox(const NotificationInbox&) = delete;
    NotificationInbox& operator=(const NotificationInbox&) = delete;

    void start();
    // Joins the thread after the notification in hand; what waits is
    // dropped (the host is leaving the cluster).
    void stop();
    // Any thread, never blocks on Apply. False: dropped (full or stopped).
    bool push(std::string payload);

private:
    void run();

    const size_t capacity_;
    const Apply apply_;
    const Lost lost_;
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::string> queue_;
    bool dropped_ = false;
    bool running_ = false;
    std::thread thread_;
};

}  // namespace moolai::host
