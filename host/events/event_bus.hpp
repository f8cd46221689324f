// EventBus: one thread that delivers events, in publication order, to
// every subscriber (observer plugins, the dashboard stream).
// publish() never blocks on a subscriber; the queue is bounded and drops
// the oldest event (counted) rather than grow without limit.
#pragma once

#include <functional>
#include <vector>

#include "common/work_queue.hpp"
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
    std::vector<Subscriber> subscribers_;
    Metric* dropped_;
    Metric* published_;
    Metric* to_active_;    // status changes decided here, by direction:
    Metric* to_inactive_;  // a fleet that flaps shows in these
    WorkQueue<Event> queue_;
};

}  // namespace moolai::host
