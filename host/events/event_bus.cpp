#include "events/event_bus.hpp"

#include "observability/metrics.hpp"

namespace moolai::host {

namespace {
constexpr const char* kStatusChangesHelp =
    "Orchestrator status changes this host decided, by the new status";
}  // namespace

EventBus::EventBus(Metrics& metrics, size_t capacity)
    : dropped_(metrics.counter("moolai_events_dropped_total",
                               "Events dropped because subscribers fell behind")),
      published_(metrics.counter("moolai_events_published_total", "Events published")),
      to_active_(
          metrics.counter_with("moolai_status_changes_total", kStatusChangesHelp, "to=\"active\"")),
      to_inactive_(metrics.counter_with("moolai_status_changes_total", kStatusChangesHelp,
                                        "to=\"inactive\"")),
      queue_(capacity, WorkQueue<Event>::WhenFull::drop_oldest) {}

EventBus::~EventBus() {
    stop();
}

void EventBus::subscribe(Subscriber s) {
    subscribers_.push_back(std::move(s));
}

void EventBus::start() {
    queue_.start(1, [this](Event& e) {
        for (const auto& s : subscribers_) s(e);
    });
}

void EventBus::stop() {
    queue_.stop(WorkQueue<Event>::AtStop::finish);
}

void EventBus::publish(Event e) {
    if (e.kind == MOOLAI_EVENT_STATUS_CHANGED)
        (e.new_value == "active" ? to_active_ : to_inactive_)->add(1);
    switch (queue_.push(std::move(e))) {
        case WorkQueue<Event>::Pushed::queued_dropping_oldest:
            dropped_->add(1);
            [[fallthrough]];
        case WorkQueue<Event>::Pushed::queued:
            published_->add(1);
            break;
        case WorkQueue<Event>::Pushed::refused:
            dropped_->add(1);
            break;
    }
}

}  // namespace moolai::host
