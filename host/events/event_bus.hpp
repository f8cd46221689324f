// EventBus: one thread that delivers events, in publication order, to
// every subscriber (observer plugins, later the dashboard stream).
// publish() never blocks on a subscriber; the queue is bounded and drops
// the oldest event (counted) rather than grow without limit.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "events/event.hpp"

namespace moolai::host {

class Metrics;
class Metric;

class EventBus {
public:
    using Subscriber = std::function<void(const Event&)>;

    explicit EventBus(Metrics& metrics, size_t capacity = 65536);
    ~EventBus();
    EventBus(const EventBus&) = delete;
    EventBus& operator=(const EventBus&) = delete;

    // Subscribe before start().
    void subscribe(Subscriber s);
    void start();
    // Delivers what is queued, then joins the thread.
    void stop();
    void publish(Event e);

private:
    void run();

    std::vector<Subscriber> subscribers_;
    size_t capacity_;
    Metric* dropped_;
    Metric* published_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Event> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace moolai::host
