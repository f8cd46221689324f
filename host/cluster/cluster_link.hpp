// ClusterLink: this host's part in several controller hosts on one store
// (docs/architecture.md, "Several hosts"). No cluster protocol of its own:
// the storage plugin's notification channel (PostgreSQL LISTEN/NOTIFY)
// carries what other hosts must know, its lease table says which hosts are
// alive and which one leads, its connection table which host holds which
// orchestrator.
//
// What crosses hosts:
//   - every event published here (to their dashboards, and to their memory:
//     status, independence, which host holds a connection);
//   - a frame for an orchestrator connected elsewhere (to its holder);
//   - an orchestrator created, deleted or given a new credential.
// Who decides an orchestrator's status: the host holding its connection;
// for one held nowhere alive, the leader (decides()).
//
// Threads: relays are queued and sent by one outbox thread in batches (one
// notification per batch); what arrives is applied by one inbox thread
// (NotificationInbox); the lease is renewed, a lease answer a heartbeat
// batch brought is applied, and the connection ledger written by a third.
// No caller waits for storage.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "moolai/plugin_types.h"

namespace moolai::host {

class FleetState;
class Log;
class Metrics;
class PluginSet;
struct CallResult;
struct Event;
struct Orchestrator;

class ClusterLink {
public:
    struct Options {
        std::string host_id;
        int64_t lease_ms = 15000;      // a silent host is dead after this
        int64_t renew_ms = 5000;       // how often the lease is renewed
        std::string info_json = "{}";  // kept with the lease (ports, version)
        // Notifications waiting to be sent, and to be applied, at most
        // (each way); beyond, some are dropped and the state is read anew.
        size_t max_queued = 200000;
    };
    // What the link reaches on this host, one way: it calls these, they
    // never call back into it.
    struct Local {
        // A frame to a connection held here; MOOLAI_E_NOT_FOUND otherwise.
        std::function<moolai_status(std::string_view orchestrator_id, std::string_view frame)>
            send_here;
        // Closes a connection held here (deleted, new credential).
        std::function<void(const std::string& orchestrator_id, const std::string& reason,
                           uint16_t code)>
            disconnect_here;
        // An event of another host, for this host's dashboards only.
        std::function<void(const Event&)> show;
    };

    ClusterLink(Options options, Local local, FleetState& fleet, const PluginSet& plugins, Log& log,
                Metrics& metrics);
    ~ClusterLink();
    ClusterLink(const ClusterLink&) = delete;
    ClusterLink& operator=(const ClusterLink&) = delete;

    // Takes the lease (once, now), forgets connections an earlier run of
    // this host id left, reads who holds what. Throws std::runtime_error
    // when storage refuses.
    void start();
    // Listens and starts the threads, once everything a notification
    // reaches (the Local functions) exists. Throws like start().
    void open();
    // Gives up the lease and the leadership now; stops the threads.
    void stop();

    const std::string& host_id() const noexcept;
    // What this host knows of the cluster, for operators (REST): this host,
    // the leader, and every host with a live lease at the last renewal (its
    // lease, its info, whether it counts as alive here, and how many
    // orchestrators this host sees connected to it). A walk over the fleet.
    std::string status_json() const;
    // The sweeper's question: does this host decide `o`'s status?
    bool decides(const Orchestrator& o) const noexcept;

    // ---- from this host ----
    // Every event published here (the event thread).
    void relay(const Event& e);
    // A frame for an orchestrator not connected here: queued for its holder
    // when a live host holds it (MOOLAI_OK), else MOOLAI_E_NOT_FOUND.
    moolai_status forward_frame(std::string_view orchestrator_id, std::string_view frame);
    // The orchestrator was created / deleted / given `credential_hash`.
    void announce_created(const std::string& orchestrator_id, const std::string& organization_id,
                          const std::string& credential_hash);
    void announce_deleted(const std::string& orchestrator_id);
    void announce_credential(const std::string& orchestrator_id,
                             const std::string& credential_hash);

    // ---- from the heartbeat batch thread: the lease rides on a batch ----
    // A storage plugin with heartbeats_write_leased (ABI 1.5) renews the
    // lease in the batch's transaction; the lease thread then renews it
    // only when no batch did (a fleet that beats not at all).
    struct LeaseRide {
        std::string host_id;
        int64_t lease_ms = 0;
        std::string info_json;
        int64_t asked_ms = 0;  // when offered: an answer older than one applied is not applied
    };
    // The lease to renew with the next batch, when its renewal is due.
    std::optional<LeaseRide> lease_ride() const;
    // What heartbeats_write_leased answered for `ride`; MOOLAI_E_UNSUPPORTED
    // ends the rides (the plugin has no such transaction).
    void lease_renewed(const LeaseRide& ride, const CallResult& r);

    // ---- from the storage plugin (host_api deliver_notification) ----
    moolai_status deliver(std::string_view channel, std::string_view payload);

    static constexpr const char* kChannel = "moolai_cluster";

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace moolai::host
