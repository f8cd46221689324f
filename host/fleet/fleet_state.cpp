#include "fleet/fleet_state.hpp"

#include "common/abi_str.hpp"

#include <algorithm>

namespace moolai::host {

std::string Orchestrator::credential_hash() const {
    std::lock_guard<std::mutex> lock(credential_mutex_);
    return credential_hash_;
}

void Orchestrator::set_credential_hash(std::string hash) {
    std::lock_guard<std::mutex> lock(credential_mutex_);
    credential_hash_ = std::move(hash);
}

std::shared_ptr<Orchestrator> FleetState::load(const moolai_orchestrator_row& row, int64_t now_ms) {
    auto o = std::make_shared<Orchestrator>(abi_string(row.orchestrator_id),
                                            abi_string(row.organization_id));
    o->set_credential_hash(abi_string(row.credential_hash));
    o->independent = row.is_independent != 0;
    o->status = row.status == MOOLAI_ORCH_ACTIVE ? MOOLAI_ORCH_ACTIVE : MOOLAI_ORCH_INACTIVE;
    o->last_seen_ms = row.last_seen_ms;
    if (o->status == MOOLAI_ORCH_ACTIVE) o->grace_until_ms = now_ms + ttl_ms();
    {
        std::unique_lock<std::shared_mutex> lock(map_mutex_);
        by_id_[o->id] = o;
    }
    if (o->status == MOOLAI_ORCH_ACTIVE) queue_expiry(o);
    return o;
}

std::shared_ptr<Orchestrator> FleetState::add(std::string id, std::string organization_id,
                                              std::string credential_hash) {
    auto o = std::make_shared<Orchestrator>(std::move(id), std::move(organization_id));
    o->set_credential_hash(std::move(credential_hash));
    std::unique_lock<std::shared_mutex> lock(map_mutex_);
    by_id_[o->id] = o;
    return o;
}

std::shared_ptr<Orchestrator> FleetState::find(std::string_view id) const {
    std::shared_lock<std::shared_mutex> lock(map_mutex_);
    auto it = by_id_.find(std::string(id));
    return it == by_id_.end() ? nullptr : it->second;
}

bool FleetState::remove(std::string_view id) {
    std::unique_lock<std::shared_mutex> lock(map_mutex_);
    return by_id_.erase(std::string(id)) > 0;
}

size_t FleetState::size() const {
    std::shared_lock<std::shared_mutex> lock(map_mutex_);
    return by_id_.size();
}

void FleetState::mark_dirty(const std::shared_ptr<Orchestrator>& o) {
    if (o->dirty.exchange(true, std::memory_order_acq_rel)) return;  // already queued
    std::lock_guard<std::mutex> lock(dirty_mutex_);
    dirty_.push_back(o);
}

bool FleetState::record_heartbeat(const std::shared_ptr<Orchestrator>& o, int64_t now_ms) {
    o->last_seen_ms.store(now_ms, std::memory_order_relaxed);
    const bool changed = o->status.exchange(MOOLAI_ORCH_ACTIVE) != MOOLAI_ORCH_ACTIVE;
    if (changed) queue_expiry(o);  // once per inactive -> active, not per heartbeat
    mark_dirty(o);
    return changed;
}

int64_t FleetState::due_ms(const Orchestrator& o) const {
    return std::max(o.last_seen_ms.load(std::memory_order_relaxed) + ttl_ms(),
                    o.grace_until_ms.load(std::memory_order_relaxed)) +
           1;
}

void FleetState::queue_expiry(const std::shared_ptr<Orchestrator>& o) {
    if (o->expiry_queued.exchange(true)) return;
    std::lock_guard<std::mutex> lock(expiry_mutex_);
    expiry_.push(Expiry{due_ms(*o), o});
}

void FleetState::release_expiry(const std::shared_ptr<Orchestrator>& o) {
    // Cleared first, then the status read again: a heartbeat that turns the
    // entry active sets the status first, then tries to queue it. One of the
    // two sees the other's write (sequentially consistent), so an active
    // entry always waits in the queue, and exactly once.
    o->expiry_queued.store(false);
    if (o->status.load() == MOOLAI_ORCH_ACTIVE) queue_expiry(o);
}

bool FleetState::is_current(const std::shared_ptr<Orchestrator>& o) const {
    std::shared_lock<std::shared_mutex> lock(map_mutex_);
    auto it = by_id_.find(o->id);
    return it != by_id_.end() && it->second == o;
}

bool FleetState::mark_inactive(const std::shared_ptr<Orchestrator>& o) {
    o->grace_until_ms.store(0, std::memory_order_relaxed);
    uint32_t expected = MOOLAI_ORCH_ACTIVE;
    if (!o->status.compare_exchange_strong(expected, MOOLAI_ORCH_INACTIVE)) return false;
    mark_dirty(o);
    return true;
}

std::vector<std::shared_ptr<Orchestrator>> FleetState::take_dirty() {
    std::vector<std::shared_ptr<Orchestrator>> out;
    {
        std::lock_guard<std::mutex> lock(dirty_mutex_);
        out.swap(dirty_);
    }
    // Cleared after the swap: a heartbeat landing now queues the entry again
    // for the next batch, and this batch still reads its newest values.
    for (const auto& o : out) o->dirty.store(false, std::memory_order_release);
    return out;
}

void FleetState::requeue(const std::vector<std::shared_ptr<Orchestrator>>& entries) {
    for (const auto& o : entries) mark_dirty(o);
}

size_t FleetState::sweep(int64_t now_ms, const std::function<void(Orchestrator&)>& changed) {
    const int64_t ttl = ttl_ms();  // one TTL for the whole round
    std::vector<std::shared_ptr<Orchestrator>> due;
    {
        std::lock_guard<std::mutex> lock(expiry_mutex_);
        while (!expiry_.empty() && expiry_.top().due_ms <= now_ms) {
            due.push_back(expiry_.top().entry);
            expiry_.pop();
        }
    }
    std::vector<std::shared_ptr<Orchestrator>> flipped, again;
    for (auto& o : due) {
        if (!is_current(o)) {  // removed or replaced: its successor has its own place
            o->expiry_queued.store(false);
            continue;
        }
        if (o->status.load() != MOOLAI_ORCH_ACTIVE) {  // e.g. the heartbeat poker got there first
            release_expiry(o);
            continue;
        }
        if (now_ms <= o->last_seen_ms.load(std::memory_order_relaxed) + ttl ||
            now_ms <= o->grace_until_ms.load(std::memory_order_relaxed)) {
            again.push_back(std::move(o));  // heard from since it was queued: wait again
            continue;
        }
        if (decides_ && !decides_(*o)) {  // another host decides it: look again later
            o->grace_until_ms.store(now_ms + ttl, std::memory_order_relaxed);
            again.push_back(std::move(o));
            continue;
        }
        uint32_t expected = MOOLAI_ORCH_ACTIVE;
        if (!o->status.compare_exchange_strong(expected, MOOLAI_ORCH_INACTIVE)) {
            release_expiry(o);
            continue;
        }
        // A heartbeat may have landed between the check and the flip: its
        // status write happened before our exchange, so its last_seen is
        // visible now. Undo the flip then.
        if (now_ms <= o->last_seen_ms.load(std::memory_order_acquire) + ttl) {
            o->status.store(MOOLAI_ORCH_ACTIVE);
            again.push_back(std::move(o));
            continue;
        }
        release_expiry(o);
        flipped.push_back(std::move(o));
    }
    if (!again.empty()) {
        std::lock_guard<std::mutex> lock(expiry_mutex_);
        for (auto& o : again) expiry_.push(Expiry{due_ms(*o), std::move(o)});
    }
    for (const auto& o : flipped) {
        mark_dirty(o);
        if (changed) changed(*o);
    }
    return flipped.size();
}

void FleetState::apply_remote_status(const std::shared_ptr<Orchestrator>& o, bool active,
                                     int64_t at_ms) {
    if (active) {
        if (at_ms > o->last_seen_ms.load(std::memory_order_relaxed))
            o->last_seen_ms.store(at_ms, std::memory_order_relaxed);
        o->status.store(MOOLAI_ORCH_ACTIVE);
        queue_expiry(o);  // so an orphan of a dead host is looked at later
    } else {
        o->status.store(MOOLAI_ORCH_INACTIVE);
    }
}

void FleetState::orphan(const std::shared_ptr<Orchestrator>& o, int64_t now_ms) {
    o->remote_holder.store(0);
    o->grace_until_ms.store(now_ms + ttl_ms(), std::memory_order_relaxed);
    if (o->status.load() == MOOLAI_ORCH_ACTIVE) queue_expiry(o);
}

std::vector<std::shared_ptr<Orchestrator>> FleetState::all() const {
    std::shared_lock<std::shared_mutex> lock(map_mutex_);
    std::vector<std::shared_ptr<Orchestrator>> out;
    out.reserve(by_id_.size());
    for (const auto& [id, o] : by_id_) out.push_back(o);
    return out;
}

}  // namespace moolai::host
