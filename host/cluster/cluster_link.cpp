#include "cluster/cluster_link.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/notification_inbox.hpp"
#include "common/abi_str.hpp"
#include "common/rfc3339.hpp"
#include "events/event.hpp"
#include "fleet/fleet_state.hpp"
#include "fleet/periodic_task.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "plugins/plugin_set.hpp"

namespace moolai::host {
using nlohmann::json;

namespace {

// A batch is one notification; under the store's own limit it needs no
// spill table (larger single items still go, through it).
constexpr size_t kBatchBytes = 6000;
// After an interrupted channel, the second read of the shared state.
constexpr int64_t kSettleMs = 5000;
// How long a host whose lease ended stays listed, not alive (the storage
// plugins forget such a host after an hour too).
constexpr int64_t kDepartedShownMs = 60 * 60 * 1000;
constexpr const char* kRenewalsHelp =
    "Lease renewals, in a heartbeat batch's transaction (with=\"batch\") or alone";

json event_json(const Event& e) {
    return json{{"k", e.kind},
                {"t", e.time_ms},
                {"s", e.source},
                {"o", e.organization_id},
                {"i", e.orchestrator_id},
                {"j", e.subject_id},
                {"a", e.old_value},
                {"b", e.new_value},
                {"u", e.actor},
                {"d", e.detail_json}};
}

Event event_from(const json& j) {
    Event e;
    e.kind = j.value("k", 0u);
    e.time_ms = j.value("t", int64_t{0});
    e.source = j.value("s", "");
    e.organization_id = j.value("o", "");
    e.orchestrator_id = j.value("i", "");
    e.subject_id = j.value("j", "");
    e.old_value = j.value("a", "");
    e.new_value = j.value("b", "");
    e.actor = j.value("u", "");
    e.detail_json = j.value("d", "");
    return e;
}

}  // namespace

struct ClusterLink::Impl {
    Options options;
    Local local;
    FleetState& fleet;
    const PluginSet& plugins;
    Log& log;
    Metric* sent_batches;
    Metric* received;
    Metric* resyncs;
    Metric* send_failures;
    Metric* leader_gauge;
    Metric* renewed_with_batch;
    Metric* renewed_alone;
    Metric* hosts_gauge;

    std::atomic<bool> running{false};
    std::atomic<int64_t> last_renew{0};  // by the lease thread or a batch
    std::atomic<bool> rides{true};       // false: the plugin has no leased batch
    std::mutex lease_m;                  // one lease answer applied at a time
    int64_t applied_asked_ms = 0;        // when the last applied answer was asked (lease_m)
    // A lease answer from a heartbeat batch, applied by the lease thread:
    // applying may mean a resync and a walk over the fleet, which must not
    // hold up the next batch.
    std::mutex ridden_m;
    std::optional<std::pair<int64_t, CallResult>> ridden;  // when asked, the answer
    std::atomic<bool> is_leader{false};
    json last_hosts = json::array();  // "hosts" of the last lease answer (under hosts_m)
    // Hosts a lease answer listed and a later one did not (dead, or
    // stopped), as last listed, by id: shown as not alive for an hour,
    // as long as storage remembers them (under hosts_m).
    std::map<std::string, json> departed;
    std::string leader_id;            // "leader" of it, "" = none (under hosts_m)
    std::atomic<int64_t> settle_resync_at{0};  // a second read after an interruption; 0 = none

    // Hosts by index (1-based; 0 = none). Index 1 is this host.
    mutable std::mutex hosts_m;
    std::vector<std::string> host_ids{"", ""};
    std::unordered_map<std::string, uint32_t> index_of;
    std::vector<int64_t> lease_until{0, 0};  // per index, from the last lease read
    std::vector<int64_t> heard_at{0, 0};     // per index, last notification from it

    // The outbox: what waits for the sender, which wakes at once and sends
    // what gathered meanwhile as one batch.
    std::mutex out_m;
    std::condition_variable out_cv;
    std::deque<std::string> outbox;
    bool outbox_overflowed = false;
    bool sender_stop = false;
    std::thread sender;
    // Connections whose holder row must be written (claim or release is
    // read from memory when written: the newest state wins).
    std::mutex ledger_m;
    std::unordered_set<std::string> ledger;

    std::unique_ptr<NotificationInbox> inbox;
    std::unique_ptr<PeriodicTask> lease;  // lease and ledger

    Impl(Options o, Local l, FleetState& f, const PluginSet& p, Log& lg, Metrics& m)
        : options(std::move(o)), local(std::move(l)), fleet(f), plugins(p), log(lg) {
        host_ids[1] = options.host_id;
        index_of[options.host_id] = 1;
        sent_batches = m.counter("moolai_cluster_notifications_sent_total",
                                 "Notifications this host sent to the others (batches)");
        received = m.counter("moolai_cluster_notifications_received_total",
                             "Notifications from other hosts applied here");
        resyncs = m.counter("moolai_cluster_resyncs_total",
                            "Times this host read its shared state anew (notifications lost)");
        send_failures = m.counter("moolai_cluster_send_failures_total",
                                  "Batches that could not be sent to the other hosts (retried)");
        renewed_with_batch =
            m.counter_with("moolai_cluster_lease_renewals_total", kRenewalsHelp, "with=\"batch\"");
        renewed_alone =
            m.counter_with("moolai_cluster_lease_renewals_total", kRenewalsHelp, "with=\"none\"");
        leader_gauge = m.gauge("moolai_cluster_leader", "1 when this host holds the leader lease");
        hosts_gauge = m.gauge("moolai_cluster_hosts", "Hosts with a live lease, this one included");
        inbox = std::make_unique<NotificationInbox>(
            options.max_queued,
            [this](const std::string& payload) {
                try {
                    apply_batch(payload);
                } catch (const std::exception& e) {
                    log.warn(std::string("cluster: a notification could not be applied: ") +
                             e.what());
                }
            },
            [this] {
                try {
                    resync("notifications from other hosts came faster than they were applied (" +
                           std::to_string(options.max_queued) +
                           " waiting, MOOLAI_CLUSTER_QUEUE_MAX); some were dropped");
                } catch (const std::exception& e) {
                    log.warn(std::string("cluster: resynchronising failed: ") + e.what());
                }
            });
    }

    uint32_t index(const std::string& id) {
        std::lock_guard<std::mutex> lock(hosts_m);
        auto it = index_of.find(id);
        if (it != index_of.end()) return it->second;
        const auto i = static_cast<uint32_t>(host_ids.size());
        host_ids.push_back(id);
        lease_until.push_back(0);
        heard_at.push_back(0);
        index_of.emplace(id, i);
        return i;
    }

    bool alive(uint32_t i, int64_t now) const {
        std::lock_guard<std::mutex> lock(hosts_m);
        if (i == 0 || i >= host_ids.size()) return false;
        if (i == 1) return true;
        return lease_until[i] >= now || now - heard_at[i] < options.lease_ms;
    }

    void queue(json msg) {
        std::string text = msg.dump(-1, ' ', false, json::error_handler_t::replace);
        {
            std::lock_guard<std::mutex> lock(out_m);
            if (outbox.size() >= options.max_queued) {
                if (!outbox_overflowed)
                    log.warn("cluster: more than " + std::to_string(options.max_queued) +
                             " notifications wait for storage (MOOLAI_CLUSTER_QUEUE_MAX); the "
                             "oldest are dropped and the other hosts resynchronise");
                outbox_overflowed = true;
                outbox.pop_front();
            }
            outbox.push_back(std::move(text));
        }
        out_cv.notify_one();
    }

    // The sender thread: sends as soon as something waits, but at most one
    // notification per kSpacing, so a burst (a fleet reconnecting) goes in
    // full batches instead of one database round trip per event; while
    // storage refuses, tries again every 200 ms; at stop, one last attempt.
    static constexpr std::chrono::milliseconds kSpacing{5};
    void run_sender() {
        std::unique_lock<std::mutex> lock(out_m);
        auto last = std::chrono::steady_clock::now() - kSpacing;
        for (;;) {
            out_cv.wait(lock, [this] { return sender_stop || !outbox.empty(); });
            out_cv.wait_until(lock, last + kSpacing, [this] { return sender_stop; });
            const bool stopping = sender_stop;
            lock.unlock();
            last = std::chrono::steady_clock::now();
            const bool sent = send_pending();
            lock.lock();
            if (stopping) return;
            if (!sent)
                out_cv.wait_for(lock, std::chrono::milliseconds(200),
                                [this] { return sender_stop; });
        }
    }

    // One notification per batch of messages; false when storage refused
    // (what is left waits in the outbox, in order).
    bool send_pending() {
        std::deque<std::string> items;
        bool overflowed = false;
        {
            std::lock_guard<std::mutex> lock(out_m);
            items.swap(outbox);
            overflowed = outbox_overflowed;
            outbox_overflowed = false;
        }
        if (overflowed) items.insert(items.begin(), json{{"t", "r"}}.dump());  // resync, all
        size_t i = 0;
        while (i < items.size()) {
            std::string batch = "{\"from\":" + json(options.host_id).dump() + ",\"m\":[";
            const size_t first = i;
            for (; i < items.size(); ++i) {
                if (i > first && batch.size() + items[i].size() + 2 > kBatchBytes) break;
                if (i > first) batch += ',';
                batch += items[i];
            }
            batch += "]}";
            CallResult r = plugins.storage().notify(kChannel, batch);
            if (r.ok()) {
                sent_batches->add(1);
                continue;
            }
            send_failures->add(1);
            // Storage is down: keep what is left for the next round, in order.
            std::lock_guard<std::mutex> lock(out_m);
            items.erase(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(first));
            items.insert(items.end(), std::make_move_iterator(outbox.begin()),
                         std::make_move_iterator(outbox.end()));
            outbox.swap(items);
            return false;
        }
        return true;
    }

    // ---- applying what other hosts said (the inbox thread) ----

    void apply_batch(const std::string& payload) {
        if (payload.empty()) {
            resync("the notification channel was interrupted");
            // What other hosts did meanwhile reaches storage as they come
            // back (their ledgers each second, their queued writes as
            // storage takes them), and their notifications perhaps before
            // this listener was back. One more read once they had time to
            // write it: 5 s, or a lease renewal and a ledger round.
            settle_resync_at =
                now_unix_ms() + std::max<int64_t>(kSettleMs, options.renew_ms + 1000);
            return;
        }
        const json batch = json::parse(payload, nullptr, false);
        if (!batch.is_object() || !batch["from"].is_string() || !batch["m"].is_array()) {
            log.warn("cluster: a notification that is not ours was ignored");
            return;
        }
        const std::string from = batch["from"].get<std::string>();
        if (from == options.host_id) return;  // our own, back from the store
        const uint32_t from_index = index(from);
        const int64_t now = now_unix_ms();
        {
            std::lock_guard<std::mutex> lock(hosts_m);
            heard_at[from_index] = now;
        }
        received->add(1);
        for (const json& m : batch["m"]) {
            if (!m.is_object()) continue;
            const std::string t = m.value("t", "");
            if (t == "e")
                apply_event(event_from(m.value("e", json::object())), from, from_index);
            else if (t == "f")
                apply_frame(m);
            else if (t == "c")
                apply_created(m);
            else if (t == "d")
                apply_deleted(m.value("id", ""));
            else if (t == "k")
                apply_credential(m.value("id", ""), m.value("h", ""));
            else if (t == "r")
                resync("host " + from + " dropped notifications");
        }
    }

    void apply_event(const Event& e, const std::string& from, uint32_t from_index) {
        if (auto o = fleet.find(e.orchestrator_id)) {
            switch (e.kind) {
                case MOOLAI_EVENT_ORCHESTRATOR_REGISTERED:
                    o->remote_holder.store(from_index);
                    // A connection still held here is older: its peer moved
                    // on and no close reached us (half-open). One holder
                    // decides the status, so ours goes, as on one host.
                    if (o->connection.load() != 0 &&
                        registered_later(e.time_ms, from, o->connected_since_ms.load()))
                        local.disconnect_here(o->id, "replaced by a newer connection on " + from,
                                              1000);
                    break;
                case MOOLAI_EVENT_ORCHESTRATOR_DISCONNECTED: {
                    uint32_t expected = from_index;
                    o->remote_holder.compare_exchange_strong(expected, 0);
                    break;
                }
                case MOOLAI_EVENT_STATUS_CHANGED:
                    // Ours when held here: the holder's own view wins.
                    if (o->connection.load() == 0)
                        fleet.apply_remote_status(o, e.new_value == "active", e.time_ms);
                    break;
                case MOOLAI_EVENT_INDEPENDENCE_CHANGED:
                    o->independent.store(e.new_value == "true");
                    break;
                default:
                    break;
            }
        }
        if (local.show) local.show(e);
    }

    // Was a register on host `from` at `at_ms` later than ours at `ours_ms`?
    // A tie goes to the greater host id, so that exactly one side yields.
    bool registered_later(int64_t at_ms, const std::string& from, int64_t ours_ms) const {
        return at_ms > ours_ms || (at_ms == ours_ms && from > options.host_id);
    }

    void apply_frame(const json& m) {
        if (m.value("to", "") != options.host_id) return;
        const std::string id = m.value("id", "");
        if (local.send_here(id, m.value("f", "")) != MOOLAI_OK)
            log.debug("cluster: a frame for \"" + id +
                      "\" came here, but it is no longer connected");
    }

    void apply_created(const json& m) {
        const std::string id = m.value("id", "");
        if (id.empty() || fleet.find(id)) return;
        fleet.add(id, m.value("o", ""), m.value("h", ""));
    }

    void apply_deleted(const std::string& id) {
        if (!fleet.find(id)) return;
        local.disconnect_here(id, "deregistered", 1000);
        fleet.remove(id);
    }

    void apply_credential(const std::string& id, const std::string& hash) {
        auto o = fleet.find(id);
        if (!o) return;
        o->set_credential_hash(hash);
        if (o->connection.load() != 0) local.disconnect_here(id, "credential rotated", 1008);
    }

    // Notifications were lost: read what memory keeps of other hosts anew.
    // `take_status` (optional) picks whose status storage overrides.
    void resync(const std::string& why,
                const std::function<bool(const Orchestrator&)>& take_status = nullptr) {
        resyncs->add(1);
        log.warn("cluster: " + why + "; reading the fleet's shared state from storage again");
        const int64_t now = now_unix_ms();
        std::vector<std::shared_ptr<Orchestrator>> changed;
        CallResult scan = plugins.storage().orch_scan([&](const moolai_orchestrator_row& row) {
            const std::string id = abi_string(row.orchestrator_id);
            auto o = fleet.find(id);
            if (!o) {
                fleet.load(row, now);
                return MOOLAI_OK;
            }
            o->independent.store(row.is_independent != 0);
            o->set_credential_hash(abi_string(row.credential_hash));
            if (o->connection.load() != 0 || (take_status && !take_status(*o))) return MOOLAI_OK;
            const bool active = row.status == MOOLAI_ORCH_ACTIVE;
            const bool was_active = o->status.load() == MOOLAI_ORCH_ACTIVE;
            // A host that died may have told a heartbeat and died before
            // its batch wrote it: a row older than what was heard does not
            // undo it. The orphan is then decided once, a TTL later.
            if (take_status && was_active && !active && row.last_seen_ms < o->last_seen_ms.load())
                return MOOLAI_OK;
            fleet.apply_remote_status(o, active, row.last_seen_ms);
            if (active != was_active) changed.push_back(o);
            return MOOLAI_OK;
        });
        if (!scan.ok()) log.warn("cluster: resynchronising failed: " + scan.error);
        // This host's dashboards missed these changes with the notifications.
        for (const auto& o : changed)
            if (local.show) {
                const bool active = o->status.load() == MOOLAI_ORCH_ACTIVE;
                local.show(Event::about(MOOLAI_EVENT_STATUS_CHANGED, o->organization_id, o->id,
                                        active ? "inactive" : "active",
                                        active ? "active" : "inactive", "system"));
            }
        read_holders();
    }

    // Who holds what, from the connection table (start, resync).
    void read_holders() {
        CallResult r = plugins.storage().connections_list();
        if (!r.ok()) {
            log.warn("cluster: cannot read which host holds which orchestrator: " + r.error);
            return;
        }
        const json list = json::parse(r.output, nullptr, false);
        if (!list.is_object() || !list["items"].is_array()) return;
        for (const json& item : list["items"]) {
            const std::string holder = item.value("host_id", "");
            auto o = fleet.find(item.value("orchestrator_id", ""));
            if (!o || holder == options.host_id) continue;
            o->remote_holder.store(index(holder));
        }
    }

    // ---- the lease thread ----

    void renew(int64_t lease_ms) {
        const int64_t asked = now_unix_ms();
        const CallResult r =
            plugins.storage().host_lease(options.host_id, lease_ms, options.info_json);
        if (r.ok() && lease_ms > 0) renewed_alone->add(1);
        apply_lease(r, asked);
    }

    // What a lease renewal asked at `asked_ms` answered: who leads, which
    // hosts live, who left. A batch's answer is applied up to a tick late,
    // so it may be older than one this thread got since: that one stands.
    void apply_lease(const CallResult& r, int64_t asked_ms) {
        std::lock_guard<std::mutex> serial(lease_m);
        if (asked_ms < applied_asked_ms) return;
        applied_asked_ms = asked_ms;
        if (!r.ok()) {
            // Without a lease this host cannot know it still leads.
            if (is_leader.exchange(false)) log.warn("cluster: leadership given up: " + r.error);
            leader_gauge->set(0);
            return;
        }
        const json out = json::parse(r.output, nullptr, false);
        if (!out.is_object()) return;
        // The plugin's answer, read without trusting its shape.
        const std::string leader = out.contains("leader") && out.at("leader").is_string()
                                       ? out.at("leader").get<std::string>()
                                       : "";
        const bool lead = leader == options.host_id;
        if (lead != is_leader.exchange(lead))
            log.info(lead ? "cluster: this host leads (decides orchestrators no live host holds)"
                          : "cluster: another host leads now");
        leader_gauge->set(lead ? 1 : 0);
        const int64_t now = now_unix_ms();
        std::vector<uint32_t> seen;
        const json hosts = out.value("hosts", json::array());
        for (const json& h : hosts) {
            if (!h.is_object()) continue;
            const uint32_t i = index(h.value("host_id", ""));
            std::lock_guard<std::mutex> lock(hosts_m);
            lease_until[i] = h.value("lease_until", int64_t{0});
            seen.push_back(i);
        }
        {
            std::lock_guard<std::mutex> lock(hosts_m);
            const json listed = hosts.is_array() ? hosts : json::array();
            const auto id_of = [](const json& h) {
                return h.is_object() ? h.value("host_id", "") : std::string();
            };
            for (const json& before : last_hosts) {
                const std::string id = id_of(before);
                const bool still = std::any_of(listed.begin(), listed.end(),
                                               [&](const json& h) { return id_of(h) == id; });
                if (!id.empty() && !still && id != options.host_id) departed[id] = before;
            }
            for (const json& h : listed) departed.erase(id_of(h));
            for (auto it = departed.begin(); it != departed.end();)
                it = now - it->second.value("lease_until", int64_t{0}) > kDepartedShownMs
                         ? departed.erase(it)
                         : std::next(it);
            last_hosts = listed;
            leader_id = leader;
        }
        hosts_gauge->set(static_cast<double>(seen.size()));
        // Hosts whose lease ended: what they held is orphaned now.
        std::vector<uint32_t> gone;
        {
            std::lock_guard<std::mutex> lock(hosts_m);
            for (uint32_t i = 2; i < host_ids.size(); ++i) {
                const bool listed = std::find(seen.begin(), seen.end(), i) != seen.end();
                if (!listed) lease_until[i] = 0;
                if (!listed && lease_until[i] == 0 && now - heard_at[i] >= options.lease_ms &&
                    heard_at[i] != -1) {
                    gone.push_back(i);
                    heard_at[i] = -1;  // reported once
                }
                if (listed && heard_at[i] == -1) heard_at[i] = 0;
            }
        }
        if (gone.empty()) return;
        // What a dead host changed last may not have reached us (it died
        // with its notifications): storage has its last batch.
        resync("a host is gone", [&gone](const Orchestrator& o) {
            return std::find(gone.begin(), gone.end(), o.remote_holder.load()) != gone.end();
        });
        size_t orphans = 0;
        for (const auto& o : fleet.all()) {
            const uint32_t h = o->remote_holder.load();
            if (h != 0 && std::find(gone.begin(), gone.end(), h) != gone.end()) {
                fleet.orphan(o, now);
                ++orphans;
            }
        }
        for (uint32_t i : gone) {
            std::string id;
            {
                std::lock_guard<std::mutex> lock(hosts_m);
                id = host_ids[i];
            }
            log.warn("cluster: host " + id + " is gone (lease ended); " + std::to_string(orphans) +
                     " orchestrators it held get one TTL to reconnect elsewhere");
        }
    }

    // A lease answer a heartbeat batch brought, if any (the lease thread).
    void apply_ridden_lease() {
        std::optional<std::pair<int64_t, CallResult>> r;
        {
            std::lock_guard<std::mutex> lock(ridden_m);
            r.swap(ridden);
        }
        if (r) apply_lease(r->second, r->first);
    }

    void write_ledger() {
        std::unordered_set<std::string> ids;
        {
            std::lock_guard<std::mutex> lock(ledger_m);
            ids.swap(ledger);
        }
        if (ids.empty()) return;
        json claim = json::array(), release = json::array();
        for (const std::string& id : ids) {
            auto o = fleet.find(id);
            (o && o->connection.load() != 0 ? claim : release).push_back(id);
        }
        CallResult r = plugins.storage().connections_write(
            options.host_id, json{{"claim", claim}, {"release", release}}.dump());
        if (!r.ok()) {  // again next round
            std::lock_guard<std::mutex> lock(ledger_m);
            ledger.insert(ids.begin(), ids.end());
        }
    }
};

ClusterLink::ClusterLink(Options options, Local local, FleetState& fleet, const PluginSet& plugins,
                         Log& log, Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(local), fleet, plugins, log,
                                   metrics)) {}

ClusterLink::~ClusterLink() {
    stop();
}

const std::string& ClusterLink::host_id() const noexcept {
    return impl_->options.host_id;
}

void ClusterLink::start() {
    Impl& s = *impl_;
    s.renew(s.options.lease_ms);
    CallResult forget =
        s.plugins.storage().connections_write(s.options.host_id, R"({"release_all":true})");
    if (!forget.ok())
        throw std::runtime_error("cluster: cannot clear this host's old connections: " +
                                 forget.error);
    s.read_holders();
}

void ClusterLink::open() {
    Impl& s = *impl_;
    s.inbox->start();
    CallResult listened = s.plugins.storage().listen(kChannel);
    if (!listened.ok())
        throw std::runtime_error("cluster: cannot listen for other hosts: " + listened.error);
    s.running = true;
    s.sender = std::thread([&s] { s.run_sender(); });
    s.lease = std::make_unique<PeriodicTask>(std::chrono::milliseconds(1000), [&s] {
        s.write_ledger();
        s.apply_ridden_lease();
        if (int64_t at = s.settle_resync_at;
            at != 0 && now_unix_ms() >= at && s.settle_resync_at.compare_exchange_strong(at, 0))
            s.resync("a second read after the interruption, for what other hosts wrote meanwhile");
        // While batches carry the lease (ABI 1.5) this thread renews only
        // when none did: a fleet that beats costs no transaction for it.
        const int64_t now = now_unix_ms();
        const int64_t grace = s.rides ? std::min<int64_t>(2000, s.options.renew_ms / 2) : 0;
        if (now - s.last_renew >= s.options.renew_ms + grace) {
            s.last_renew = now;
            s.renew(s.options.lease_ms);
        }
    });
    s.lease->start();
    s.log.info("cluster: host " + s.options.host_id + " on a shared store (lease " +
               std::to_string(s.options.lease_ms / 1000) + " s" +
               (s.is_leader ? ", leader)" : ")"));
}

std::optional<ClusterLink::LeaseRide> ClusterLink::lease_ride() const {
    const Impl& s = *impl_;
    if (!s.running || !s.rides || now_unix_ms() - s.last_renew < s.options.renew_ms)
        return std::nullopt;
    return LeaseRide{s.options.host_id, s.options.lease_ms, s.options.info_json, now_unix_ms()};
}

void ClusterLink::lease_renewed(const LeaseRide& ride, const CallResult& r) {
    Impl& s = *impl_;
    if (r.status == MOOLAI_E_UNSUPPORTED) {
        s.rides = false;
        return;
    }
    if (r.ok()) {
        s.last_renew = now_unix_ms();
        s.renewed_with_batch->add(1);
    }
    std::lock_guard<std::mutex> lock(s.ridden_m);
    if (!s.ridden || s.ridden->first <= ride.asked_ms) s.ridden.emplace(ride.asked_ms, r);
}

void ClusterLink::stop() {
    Impl& s = *impl_;
    if (!s.running.exchange(false)) return;
    if (s.lease) s.lease->stop();
    {
        std::lock_guard<std::mutex> lock(s.out_m);
        s.sender_stop = true;  // what is queued still goes, once
    }
    s.out_cv.notify_one();
    if (s.sender.joinable()) s.sender.join();
    s.inbox->stop();
    CallResult r = s.plugins.storage().host_lease(s.options.host_id, 0, s.options.info_json);
    if (!r.ok()) s.log.warn("cluster: could not give up the lease: " + r.error);
}

std::string ClusterLink::status_json() const {
    const Impl& s = *impl_;
    // Connections as this host sees them: its own, and each other host's
    // from the notifications it heard.
    std::unordered_map<uint32_t, size_t> held;
    for (const auto& o : s.fleet.all()) {
        if (o->connection.load() != 0)
            ++held[1];
        else if (const uint32_t h = o->remote_holder.load(); h != 0)
            ++held[h];
    }
    json listed;
    std::string leader;
    std::vector<uint32_t> indexes;  // per listed host; 0 = never heard of
    {
        std::lock_guard<std::mutex> lock(s.hosts_m);
        listed = s.last_hosts;
        for (const auto& [id, h] : s.departed) listed.push_back(h);
        leader = s.leader_id;
        for (const json& h : listed) {
            const auto it = s.index_of.find(h.is_object() ? h.value("host_id", "") : "");
            indexes.push_back(it == s.index_of.end() ? 0 : it->second);
        }
    }
    const int64_t now = now_unix_ms();
    json hosts = json::array();
    for (size_t k = 0; k < listed.size(); ++k) {
        const json& h = listed[k];
        if (!h.is_object()) continue;
        const uint32_t i = indexes[k];
        hosts.push_back(json{{"host_id", h.value("host_id", "")},
                             {"this_host", i == 1},
                             {"alive", s.alive(i, now)},
                             {"lease_until", format_rfc3339(h.value("lease_until", int64_t{0}))},
                             {"connected", held.count(i) ? held.at(i) : 0},
                             {"info", h.value("info", json::object())}});
    }
    return json{{"enabled", true},
                {"host_id", s.options.host_id},
                {"leader", leader.empty() ? json(nullptr) : json(leader)},
                {"this_host_leads", s.is_leader.load()},
                {"lease_sec", s.options.lease_ms / 1000},
                {"hosts", hosts}}
        .dump(-1, ' ', false, json::error_handler_t::replace);
}

bool ClusterLink::decides(const Orchestrator& o) const noexcept {
    if (o.connection.load() != 0) return true;
    const uint32_t h = o.remote_holder.load();
    if (h != 0 && impl_->alive(h, now_unix_ms())) return false;
    return impl_->is_leader.load();
}

void ClusterLink::relay(const Event& e) {
    Impl& s = *impl_;
    if (!s.running) return;
    if (e.kind == MOOLAI_EVENT_ORCHESTRATOR_REGISTERED ||
        e.kind == MOOLAI_EVENT_ORCHESTRATOR_DISCONNECTED) {
        std::lock_guard<std::mutex> lock(s.ledger_m);
        s.ledger.insert(e.orchestrator_id);
    }
    s.queue(json{{"t", "e"}, {"e", event_json(e)}});
}

moolai_status ClusterLink::forward_frame(std::string_view orchestrator_id, std::string_view frame) {
    Impl& s = *impl_;
    if (!s.running) return MOOLAI_E_NOT_FOUND;
    auto o = s.fleet.find(orchestrator_id);
    if (!o) return MOOLAI_E_NOT_FOUND;
    const uint32_t h = o->remote_holder.load();
    if (h == 0 || !s.alive(h, now_unix_ms())) return MOOLAI_E_NOT_FOUND;
    std::string to;
    {
        std::lock_guard<std::mutex> lock(s.hosts_m);
        to = s.host_ids[h];
    }
    s.queue(json{{"t", "f"}, {"id", orchestrator_id}, {"to", to}, {"f", frame}});
    return MOOLAI_OK;
}

void ClusterLink::announce_created(const std::string& orchestrator_id,
                                   const std::string& organization_id,
                                   const std::string& credential_hash) {
    if (impl_->running)
        impl_->queue(json{
            {"t", "c"}, {"id", orchestrator_id}, {"o", organization_id}, {"h", credential_hash}});
}

void ClusterLink::announce_deleted(const std::string& orchestrator_id) {
    if (impl_->running) impl_->queue(json{{"t", "d"}, {"id", orchestrator_id}});
}

void ClusterLink::announce_credential(const std::string& orchestrator_id,
                                      const std::string& credential_hash) {
    if (impl_->running)
        impl_->queue(json{{"t", "k"}, {"id", orchestrator_id}, {"h", credential_hash}});
}

moolai_status ClusterLink::deliver(std::string_view channel, std::string_view payload) {
    Impl& s = *impl_;
    if (channel != kChannel) return MOOLAI_E_NOT_FOUND;
    // Dropped when full: the inbox then has the state read anew.
    s.inbox->push(std::string(payload));
    return MOOLAI_OK;
}

}  // namespace moolai::host
