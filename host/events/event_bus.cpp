#include "events/event_bus.hpp"

#include "observability/metrics.hpp"

namespace moolai::host {

EventBus::EventBus(Metrics& metrics, size_t capacity)
    : capacity_(capacity),
      dropped_(metrics.counter("moolai_events_dropped_total",
                               "Events dropped because subscribers fell behind")),
      published_(metrics.counter("moolai_events_published_total", "Events published")) {}

EventBus::~EventBus() { stop(); }

void EventBus::subscribe(Subscriber s) { subscribers_.push_back(std::move(s)); }

void EventBus::start() {
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void EventBus::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void EventBus::publish(Event e) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (queue_.size() >= capacity_) {
            queue_.pop_front();
            dropped_->add(1);
        }
        queue_.push_back(std::move(e));
    }
    published_->add(1);
    wake_.notify_one();
}

void EventBus::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty() && stopping_) return;
        Event e = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        for (const auto& s : subscribers_) s(e);
        lock.lock();
    }
}

}  // namespace moolai::host
