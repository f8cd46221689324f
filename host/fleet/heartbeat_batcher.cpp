#include "fleet/heartbeat_batcher.hpp"

#include "common/abi_str.hpp"

#include <vector>

#include "observability/metrics.hpp"

namespace moolai::host {

HeartbeatBatcher::HeartbeatBatcher(FleetState& fleet, Writer writer, Metrics& metrics,
                                   std::chrono::milliseconds interval)
    : fleet_(fleet),
      writer_(std::move(writer)),
      batches_(metrics.counter("moolai_heartbeat_batches_total",
                               "Batched last_seen/status writes sent to storage")),
      rows_(metrics.counter("moolai_heartbeat_rows_total", "Rows in batched writes")),
      failures_(metrics.counter("moolai_heartbeat_batch_failures_total",
                                "Batched writes that failed and were queued again")),
      task_(interval, [this] { flush(); }) {}

size_t HeartbeatBatcher::flush() {
    std::vector<std::shared_ptr<Orchestrator>> dirty = fleet_.take_dirty();
    if (dirty.empty()) return 0;
    std::vector<moolai_heartbeat_row> rows(dirty.size());
    for (size_t i = 0; i < dirty.size(); ++i) {
        const Orchestrator& o = *dirty[i];
        rows[i].orchestrator_id = abi_str(o.id);
        rows[i].last_seen_ms = o.last_seen_ms.load(std::memory_order_relaxed);
        rows[i].status = o.status.load(std::memory_order_acquire);
    }
    const CallResult r = writer_(rows.data(), rows.size());
    if (!r.ok()) {
        failures_->add(1);
        fleet_.requeue(dirty);
        return 0;
    }
    batches_->add(1);
    rows_->add(static_cast<double>(rows.size()));
    return rows.size();
}

}  // namespace moolai::host
