#include "orchestrators/storage_writer.hpp"

#include <algorithm>
#include <thread>

#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "orchestrators/storage_journal.hpp"

namespace moolai::host {

namespace {

void tell(const StorageWriter::Answer& answer, std::string_view code, const std::string& message) {
    if (answer) answer(code, message);
}

// Encoded outside the lock; nothing when there is no journal.
std::string entry(const StorageJournal* journal, StorageJournal::Kind kind,
                  const std::string& orchestrator_id, const std::string& message_id,
                  const std::string& payload) {
    if (journal == nullptr) return {};
    return StorageJournal::encode({kind, orchestrator_id, message_id, payload});
}

}  // namespace

StorageWriter::StorageWriter(Storage storage, Log& log, Metrics& metrics, Options options)
    : storage_(std::move(storage)),
      log_(log),
      options_(options),
      depth_(metrics.gauge("moolai_storage_queue_depth",
                           "Orchestrator writes (usage, metadata, acks) waiting for storage")),
      refused_(metrics.counter("moolai_storage_queue_refused_total",
                               "Orchestrator writes refused with `busy`: the queue was full")),
      written_(metrics.counter("moolai_storage_queue_written_total",
                               "Orchestrator writes stored from the queue")),
      retries_(metrics.counter("moolai_storage_queue_retries_total",
                               "Rounds stopped by unavailable storage and retried later")),
      dropped_(metrics.counter("moolai_storage_queue_dropped_total",
                               "Accepted writes dropped: refused by storage for good, or left at "
                               "shutdown")),
      journal_(options.journal),
      task_(options.interval, [this] { tick(); }) {}

StorageWriter::~StorageWriter() {
    stop(std::chrono::milliseconds(0));
}

void StorageWriter::start() {
    task_.start();
}

size_t StorageWriter::pending() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return waiting_.size() + in_round_;
}

bool StorageWriter::has_room_locked() const {
    return !stopping_ && waiting_.size() + in_round_ < options_.max_pending;
}

bool StorageWriter::journaled_locked(const std::string& entry) {
    return journal_ == nullptr || journal_->append(entry);
}

void StorageWriter::accepted_locked() {
    depth_->set(static_cast<double>(waiting_.size() + in_round_));
}

void StorageWriter::refused() {
    refused_->add(1);
}

bool StorageWriter::push_usage(std::string record_json, Answer answer) {
    const std::string e = entry(journal_, StorageJournal::Kind::usage, "", "", record_json);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (has_room_locked() && journaled_locked(e)) {
            waiting_.usage.push_back({std::move(record_json), std::move(answer)});
            accepted_locked();
            return true;
        }
    }
    refused();
    return false;
}

bool StorageWriter::push_metadata(const std::string& orchestrator_id, std::string patch_json,
                                  Answer answer) {
    const std::string e =
        entry(journal_, StorageJournal::Kind::metadata, orchestrator_id, "", patch_json);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = waiting_.metadata.find(orchestrator_id);
        if (it != waiting_.metadata.end() && !stopping_) {
            if (!journaled_locked(e)) {
                refused();
                return false;
            }
            // The older write never reached storage; only the latest matters.
            it->second = {std::move(patch_json), std::move(answer)};
            return true;
        }
        if (has_room_locked() && journaled_locked(e)) {
            waiting_.metadata.emplace(orchestrator_id,
                                      Metadata{std::move(patch_json), std::move(answer)});
            accepted_locked();
            return true;
        }
    }
    refused();
    return false;
}

bool StorageWriter::push_ack(std::string orchestrator_id, std::string message_id, Answer answer) {
    const std::string e =
        entry(journal_, StorageJournal::Kind::ack, orchestrator_id, message_id, "");
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (has_room_locked() && journaled_locked(e)) {
            waiting_.acks.push_back(
                {std::move(orchestrator_id), std::move(message_id), std::move(answer)});
            accepted_locked();
            return true;
        }
    }
    refused();
    return false;
}

void StorageWriter::put_back(Round& rest) {
    std::lock_guard<std::mutex> lock(mutex_);
    in_round_ = 0;
    // The round's writes are older than anything pushed meanwhile: in front.
    for (auto it = rest.acks.rbegin(); it != rest.acks.rend(); ++it)
        waiting_.acks.push_front(std::move(*it));
    for (auto it = rest.usage.rbegin(); it != rest.usage.rend(); ++it)
        waiting_.usage.push_front(std::move(*it));
    for (auto& [id, m] : rest.metadata) waiting_.metadata.try_emplace(id, std::move(m));
    accepted_locked();
}

void StorageWriter::back_off(const CallResult& cause) {
    retries_->add(1);
    if (backoff_.count() == 0) {
        backoff_ = options_.retry_min;
        log_.warn("storage unavailable: orchestrator writes are queued (" +
                  std::to_string(pending()) + " now) and retried: " + cause.error);
    } else {
        backoff_ = std::min(backoff_ * 2, options_.retry_max);
    }
    retry_at_ = std::chrono::steady_clock::now() + backoff_;
}

void StorageWriter::recovered() {
    if (backoff_.count() == 0) return;
    backoff_ = std::chrono::milliseconds(0);
    retry_at_ = {};
    log_.info("storage available again: queued orchestrator writes are being stored");
}

void StorageWriter::tick() {
    std::lock_guard<std::mutex> round_lock(round_mutex_);
    if (std::chrono::steady_clock::now() < retry_at_) {
        if (journal_ != nullptr) journal_->sync();  // one fsync a round through an outage too
        return;
    }
    round_locked();
}

size_t StorageWriter::flush() {
    std::lock_guard<std::mutex> round_lock(round_mutex_);
    return round_locked();
}

size_t StorageWriter::round_locked() {
    Round round;
    uint64_t journal_mark = 0;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        std::swap(round, waiting_);
        in_round_ = round.size();
        if (journal_ != nullptr) journal_mark = journal_->rotate();
    }
    if (journal_ != nullptr) journal_->sync();
    if (round.size() == 0) {
        if (journal_ != nullptr) journal_->remove_through(journal_mark);
        return 0;
    }
    size_t done = 0;
    auto finished = [&] {
        ++done;
        std::lock_guard<std::mutex> lock(mutex_);
        --in_round_;
        accepted_locked();
    };
    auto unavailable = [&](const CallResult& cause) {
        put_back(round);
        back_off(cause);
        return done;
    };

    while (!round.acks.empty()) {
        Ack& a = round.acks.front();
        const moolai_status st = storage_.acknowledge(a.orchestrator_id, a.message_id);
        if (st == MOOLAI_E_UNAVAILABLE) return unavailable({st, "", "message_ack not recorded"});
        if (st == MOOLAI_E_NOT_FOUND) {
            tell(a.answer, "unknown_message",
                 "no message \"" + a.message_id + "\" for this orchestrator");
        } else if (st != MOOLAI_OK) {
            dropped_->add(1);
            tell(a.answer, "storage_error",
                 "the acknowledgement could not be recorded; send it again");
        }
        if (st == MOOLAI_OK) written_->add(1);
        round.acks.pop_front();
        finished();
    }
    while (!round.metadata.empty()) {
        auto it = round.metadata.begin();
        CallResult r = storage_.update_orchestrator(it->first, it->second.patch_json);
        if (r.status == MOOLAI_E_UNAVAILABLE) return unavailable(r);
        if (r.ok()) {
            written_->add(1);
        } else {
            // Not found: the orchestrator was deleted meanwhile; nothing to tell.
            dropped_->add(1);
            if (r.status != MOOLAI_E_NOT_FOUND)
                tell(it->second.answer,
                     r.status == MOOLAI_E_INVALID ? "invalid_field" : "storage_error", r.error);
        }
        round.metadata.erase(it);
        finished();
    }
    if (!round.usage.empty() && storage_.insert_usage_batch && !batch_unsupported_) {
        // The round's reports in one transaction (like heartbeats). Any
        // refusal but "unavailable" falls through to one by one, so a bad
        // report gets its own answer and the others still land.
        std::string records = "[";
        for (const Usage& u : round.usage) {
            if (records.size() > 1) records += ',';
            records += u.record_json;
        }
        records += ']';
        CallResult r = storage_.insert_usage_batch(records);
        if (r.status == MOOLAI_E_UNAVAILABLE) return unavailable(r);
        if (r.ok()) {
            const size_t n = round.usage.size();
            written_->add(static_cast<double>(n));
            round.usage.clear();
            done += n;
            std::lock_guard<std::mutex> lock(mutex_);
            in_round_ -= n;
            accepted_locked();
        } else if (r.status == MOOLAI_E_UNSUPPORTED) {
            batch_unsupported_ = true;
            log_.info("storage has no batch insert for usage reports (" + r.error +
                      "): they are stored one by one");
        }
    }
    while (!round.usage.empty()) {
        Usage& u = round.usage.front();
        CallResult r = storage_.insert_usage(u.record_json);
        if (r.status == MOOLAI_E_UNAVAILABLE) return unavailable(r);
        if (r.ok()) {
            written_->add(1);
        } else {
            dropped_->add(1);
            log_.warn("usage report refused by storage: " + r.error);
            tell(u.answer, r.status == MOOLAI_E_INVALID ? "invalid_field" : "storage_error",
                 r.error);
        }
        round.usage.pop_front();
        finished();
    }
    // Stored: at once, so a kill replays as few stored writes as can be.
    if (journal_ != nullptr) journal_->remove_through(journal_mark);
    recovered();
    return done;
}

size_t StorageWriter::stop(std::chrono::milliseconds flush_for) {
    const auto deadline = std::chrono::steady_clock::now() + flush_for;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return 0;
        stopping_ = true;
    }
    task_.stop();  // its last round runs too
    // The thread is joined: rounds go on here until done or out of time.
    while (pending() > 0) {
        std::unique_lock<std::mutex> round_lock(round_mutex_);
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) break;
        if (now < retry_at_) {
            const auto wait = std::min(retry_at_, deadline) - now;
            round_lock.unlock();
            std::this_thread::sleep_for(wait);
            continue;
        }
        round_locked();
    }
    size_t left = 0;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        left = waiting_.size();
        waiting_ = Round{};
        accepted_locked();
    }
    if (left > 0 && journal_ != nullptr) {
        journal_->sync();
        log_.warn("stopping with storage unavailable: " + std::to_string(left) +
                  " accepted orchestrator writes (usage, metadata, acks) not stored yet, kept in "
                  "the storage journal " +
                  journal_->dir() + " and stored after the next start");
    } else if (left > 0) {
        dropped_->add(static_cast<double>(left));
        log_.error("stopping with storage unavailable: " + std::to_string(left) +
                   " accepted orchestrator writes (usage, metadata, acks) not stored");
    }
    return left;
}

size_t StorageWriter::replay_journal() {
    if (journal_ == nullptr) return 0;
    std::lock_guard<std::mutex> lock(mutex_);
    // Past the bound if need be: these were taken already, nobody to refuse.
    const size_t n = journal_->replay([this](StorageJournal::Record&& r) {
        switch (r.kind) {
            case StorageJournal::Kind::usage:
                waiting_.usage.push_back({std::move(r.payload), nullptr});
                break;
            case StorageJournal::Kind::metadata:
                waiting_.metadata[r.orchestrator_id] = {std::move(r.payload), nullptr};
                break;
            case StorageJournal::Kind::ack:
                waiting_.acks.push_back(
                    {std::move(r.orchestrator_id), std::move(r.message_id), nullptr});
                break;
        }
    });
    accepted_locked();
    return n;
}

}  // namespace moolai::host
