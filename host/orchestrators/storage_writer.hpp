// StorageWriter: the orchestrators' writes -- usage reports, metadata,
// message acknowledgements -- taken off the WebSocket io threads and done by
// one storage thread, so a slow or unreachable database never holds up a
// frame: heartbeat acks keep flowing through an outage (issue 13).
//
// Accept-then-answer: push_*() queues and returns at once; false means the
// queue holds `max_pending` writes and the caller answers `busy`. What was
// accepted is kept: while storage is unavailable the round stops, puts its
// writes back in order and retries with backoff; stop() flushes within a
// bound. Only a write storage refuses for good (invalid, not found) is
// dropped, and its Answer tells the orchestrator.
//
// With a StorageJournal, a write is taken only once it is in the journal
// (else `busy`), each round starts a new segment, and a round that stored
// everything deletes the segments up to it: a kill -9 loses nothing taken,
// and replay_journal() at the next start takes it again.
//
// Rounds run on a PeriodicTask, like the heartbeat batcher: each takes all
// that is pending. Metadata is coalesced per orchestrator (the latest wins).
// Usage reports go in one transaction a round (usage_insert_batch, ABI
// 1.2); with an older storage plugin, one by one.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "fleet/periodic_task.hpp"
#include "plugins/plugin_call.hpp"

namespace moolai::host {

class Log;
class Metric;
class Metrics;
class StorageJournal;

class StorageWriter {
public:
    // Tells the orchestrator that storage refused its write for good, with
    // the protocol's error code (docs/protocol.md section 5). Runs on the
    // storage thread; may be empty.
    using Answer = std::function<void(std::string_view code, const std::string& message)>;

    // The storage calls, in production StorageClient and MessageDelivery.
    struct Storage {
        std::function<CallResult(const std::string& record_json)> insert_usage;
        std::function<CallResult(const std::string& orchestrator_id, const std::string& patch_json)>
            update_orchestrator;
        std::function<moolai_status(const std::string& orchestrator_id,
                                    const std::string& message_id)>
            acknowledge;
        // A JSON array of records, all or none; empty = one by one.
        std::function<CallResult(const std::string& records_json)> insert_usage_batch;
    };

    struct Options {
        size_t max_pending = 100000;             // MOOLAI_STORAGE_QUEUE_MAX
        std::chrono::milliseconds interval{50};  // how soon an accepted write is tried
        std::chrono::milliseconds retry_min{100};
        std::chrono::milliseconds retry_max{2000};
        StorageJournal* journal = nullptr;  // MOOLAI_STORAGE_JOURNAL_DIR; null = off
    };

    StorageWriter(Storage storage, Log& log, Metrics& metrics, Options options);
    ~StorageWriter();  // stop(0)
    StorageWriter(const StorageWriter&) = delete;
    StorageWriter& operator=(const StorageWriter&) = delete;

    void start();
    // Refuses new writes, then writes what is pending for at most
    // `flush_for` (storage may be down); what is left is logged, and kept in
    // the journal for the next start (without one: dropped). Returns how many
    // writes were left. Idempotent.
    size_t stop(std::chrono::milliseconds flush_for);
    // Takes the writes the journal kept from before (a kill, a stop with
    // storage down); call before start() and before orchestrators connect.
    // They have no Answer: their connections are gone. Returns how many.
    size_t replay_journal();

    // Any thread; never blocks on storage. False = full, stopping, or the
    // journal cannot be written: not taken.
    bool push_usage(std::string record_json, Answer answer);
    // Always taken when a write for the same orchestrator is waiting: it is replaced.
    bool push_metadata(const std::string& orchestrator_id, std::string patch_json, Answer answer);
    bool push_ack(std::string orchestrator_id, std::string message_id, Answer answer);

    // Writes waiting or in a round.
    size_t pending() const;
    // One round now (tests); returns the writes done, refused ones included.
    size_t flush();

private:
    struct Usage {
        std::string record_json;
        Answer answer;
    };
    struct Metadata {
        std::string patch_json;
        Answer answer;
    };
    struct Ack {
        std::string orchestrator_id;
        std::string message_id;
        Answer answer;
    };
    struct Round {
        std::deque<Ack> acks;
        std::map<std::string, Metadata> metadata;  // by orchestrator id
        std::deque<Usage> usage;
        size_t size() const { return acks.size() + metadata.size() + usage.size(); }
    };

    bool has_room_locked() const;
    // In the journal (or there is none); with mutex_, so that a round's
    // segments hold exactly the writes it swapped out.
    bool journaled_locked(const std::string& entry);
    void accepted_locked();
    void refused();
    // A round's writes that did not happen go back in front of newer ones.
    void put_back(Round& rest);
    // Storage is unavailable: the next round waits for the backoff.
    void back_off(const CallResult& cause);
    void recovered();
    void tick();
    size_t round_locked();  // with round_mutex_

    Storage storage_;
    Log& log_;
    Options options_;
    Metric* depth_;
    Metric* refused_;
    Metric* written_;
    Metric* retries_;
    Metric* dropped_;
    StorageJournal* journal_;

    mutable std::mutex mutex_;
    Round waiting_;
    size_t in_round_ = 0;
    bool stopping_ = false;

    // One round at a time (the task, flush(), stop()); guards the backoff too.
    std::mutex round_mutex_;
    std::chrono::steady_clock::time_point retry_at_{};
    std::chrono::milliseconds backoff_{0};
    bool batch_unsupported_ = false;  // learnt once from the plugin
    PeriodicTask task_;
};

}  // namespace moolai::host
