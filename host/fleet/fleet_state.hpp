// FleetState: every known orchestrator in memory, so the heartbeat path
// answers independence and status without a database round trip. Storage
// stays authoritative: the state is loaded from it at start (orch_scan) and
// every change the controller makes goes to storage first, then here.
//
// Hot path: a registered connection keeps a shared_ptr to its Orchestrator,
// so a heartbeat touches only that entry's atomics -- no map lookup, no
// lock, no allocation. The fleet-wide lock is taken to add, remove or list
// entries, and once per entry per batch interval to queue it as dirty.
//
// The sweep does not walk the fleet: every active entry waits in an expiry
// queue, ordered by the earliest time it can expire, and is looked at when
// that time comes (then either flipped or queued again for its new time) --
// about once per TTL, however many orchestrators are stored.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "moolai/plugin_types.h"

namespace moolai::host {

struct Orchestrator {
    Orchestrator(std::string id_, std::string organization_id_)
        : id(std::move(id_)), organization_id(std::move(organization_id_)) {}

    const std::string id;
    const std::string organization_id;

    std::atomic<bool> independent{false};
    std::atomic<uint32_t> status{MOOLAI_ORCH_INACTIVE};  // MOOLAI_ORCH_ACTIVE / _INACTIVE
    std::atomic<int64_t> last_seen_ms{0};                // last processed heartbeat, 0 = never
    // The sweeper leaves the entry active until this time: after a restart
    // every orchestrator gets a full TTL to reconnect (Nomad's failover grace).
    std::atomic<int64_t> grace_until_ms{0};
    std::atomic<bool> dirty{false};  // queued for the next batched write
    std::atomic<bool> expiry_queued{false};  // waits in the sweep's expiry queue
    std::atomic<uint64_t> connection{0};  // live WebSocket connection, 0 = none
    std::atomic<int64_t> connected_since_ms{0};  // when `connection` registered
    // Several hosts: the host holding the connection when another does
    // (ClusterLink's index of it), 0 = none known.
    std::atomic<uint32_t> remote_holder{0};

    // The credential hash changes rarely (rotation); it has its own lock.
    std::string credential_hash() const;
    void set_credential_hash(std::string hash);

private:
    mutable std::mutex credential_mutex_;
    std::string credential_hash_;
};

class FleetState {
public:
    explicit FleetState(int64_t ttl_ms) : ttl_ms_(ttl_ms) {}

    int64_t ttl_ms() const noexcept { return ttl_ms_.load(std::memory_order_relaxed); }
    // The TTL follows the heartbeat interval (HeartbeatPace); entries
    // already waiting are looked at again with the new one.
    void set_ttl_ms(int64_t ttl_ms) noexcept { ttl_ms_.store(ttl_ms, std::memory_order_relaxed); }

    // Adds or replaces the entry for a stored row. An orchestrator stored as
    // active keeps that status until now_ms + TTL even without heartbeats.
    std::shared_ptr<Orchestrator> load(const moolai_orchestrator_row& row, int64_t now_ms);
    // Adds a new entry (after storage created it); replaces an old one.
    std::shared_ptr<Orchestrator> add(std::string id, std::string organization_id,
                                      std::string credential_hash);
    std::shared_ptr<Orchestrator> find(std::string_view id) const;
    bool remove(std::string_view id);
    size_t size() const;

    // HOT PATH, after the policy said PROCESS: last_seen and status, and a
    // queue slot for the batcher the first time the entry turns dirty.
    // Returns true when the status changed (inactive -> active).
    bool record_heartbeat(const std::shared_ptr<Orchestrator>& o, int64_t now_ms);

    // The heartbeat poker found the connection dead: inactive now, without
    // waiting for the TTL. Returns true when the status changed.
    bool mark_inactive(const std::shared_ptr<Orchestrator>& o);

    // Entries changed since the last call, each once; clears their flag.
    std::vector<std::shared_ptr<Orchestrator>> take_dirty();
    // Puts entries back after a failed write, so nothing is lost.
    void requeue(const std::vector<std::shared_ptr<Orchestrator>>& entries);

    // Flips to inactive every active entry silent for longer than the TTL
    // (and out of its grace period); calls `changed` for each.
    size_t sweep(int64_t now_ms, const std::function<void(Orchestrator&)>& changed);
    // Several hosts: the sweep flips only entries this host decides (their
    // holder, or the leader for orphans); the others wait one more TTL.
    // Before the sweeper starts.
    void set_decider(std::function<bool(const Orchestrator&)> decides) {
        decides_ = std::move(decides);
    }
    // Another host decided `o`'s status: memory follows, nothing is
    // written (the deciding host writes it).
    void apply_remote_status(const std::shared_ptr<Orchestrator>& o, bool active, int64_t at_ms);
    // A host that held `o` is gone: a TTL from now to reconnect elsewhere.
    void orphan(const std::shared_ptr<Orchestrator>& o, int64_t now_ms);

    // A consistent-enough snapshot for listings and counts.
    std::vector<std::shared_ptr<Orchestrator>> all() const;

private:
    struct Expiry {
        int64_t due_ms;  // the first time the entry may be silent for longer than the TTL
        std::shared_ptr<Orchestrator> entry;
        bool operator>(const Expiry& other) const { return due_ms > other.due_ms; }
    };

    void mark_dirty(const std::shared_ptr<Orchestrator>& o);
    int64_t due_ms(const Orchestrator& o) const;
    // Queues an entry that just turned active, unless it already waits.
    void queue_expiry(const std::shared_ptr<Orchestrator>& o);
    // The entry left the queue inactive: it waits no more, unless a
    // heartbeat turned it active again meanwhile.
    void release_expiry(const std::shared_ptr<Orchestrator>& o);
    bool is_current(const std::shared_ptr<Orchestrator>& o) const;

    std::atomic<int64_t> ttl_ms_;
    std::function<bool(const Orchestrator&)> decides_;
    mutable std::shared_mutex map_mutex_;
    std::unordered_map<std::string, std::shared_ptr<Orchestrator>> by_id_;
    std::mutex dirty_mutex_;
    std::vector<std::shared_ptr<Orchestrator>> dirty_;
    std::mutex expiry_mutex_;
    // Earliest due first.
    std::priority_queue<Expiry, std::vector<Expiry>, std::greater<Expiry>> expiry_;
};

}  // namespace moolai::host
