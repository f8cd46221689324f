// StorageWriter: the queue between orchestrator frames and storage. Order,
// coalescing, the bound (`busy`), what an outage keeps, what storage
// refuses for good, and the bounded flush at stop. Rounds are driven with
// flush() so each test knows what storage has seen.
#include "orchestrators/storage_writer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "observability/log.hpp"
#include "observability/metrics.hpp"

namespace moolai::host {
namespace {

using namespace std::chrono_literals;

// A storage that records every write and answers `status` while it is set.
struct FakeStorage {
    std::mutex m;
    std::condition_variable changed;
    std::vector<std::string> writes;  // "usage:<json>", "meta:<id>:<json>", "ack:<id>:<mid>"
    moolai_status status = MOOLAI_OK;
    moolai_status ack_status = MOOLAI_OK;
    std::function<void()> during_call;  // runs inside the next storage call, once

    CallResult record(std::string what, moolai_status st) {
        std::function<void()> hook;
        {
            std::lock_guard<std::mutex> lk(m);
            hook.swap(during_call);
        }
        if (hook) hook();
        std::lock_guard<std::mutex> lk(m);
        if (st == MOOLAI_OK) writes.push_back(std::move(what));
        changed.notify_all();
        return CallResult{st, "", st == MOOLAI_OK ? "" : "storage says no"};
    }
    moolai_status current() {
        std::lock_guard<std::mutex> lk(m);
        return status;
    }
    StorageWriter::Storage calls() {
        return {[this](const std::string& r) { return record("usage:" + r, current()); },
                [this](const std::string& id, const std::string& p) {
                    return record("meta:" + id + ":" + p, current());
                },
                [this](const std::string& id, const std::string& mid) {
                    moolai_status st = current();
                    if (st == MOOLAI_OK) {
                        std::lock_guard<std::mutex> lk(m);
                        st = ack_status;
                    }
                    return record("ack:" + id + ":" + mid, st).status;
                },
                nullptr};  // no batch insert: one by one, as with a 1.1 plugin
    }
    // With the 1.2 batch insert, answering `batch_status` (after `status`).
    moolai_status batch_status = MOOLAI_OK;
    int batch_calls = 0;
    StorageWriter::Storage calls_with_batch() {
        StorageWriter::Storage s = calls();
        s.insert_usage_batch = [this](const std::string& records) {
            moolai_status st = current();
            {
                std::lock_guard<std::mutex> lk(m);
                ++batch_calls;
                if (st == MOOLAI_OK) st = batch_status;
            }
            return record("batch:" + records, st);
        };
        return s;
    }
    std::vector<std::string> seen() {
        std::lock_guard<std::mutex> lk(m);
        return writes;
    }
    bool wait_for_writes(size_t n, std::chrono::milliseconds timeout) {
        std::unique_lock<std::mutex> lk(m);
        return changed.wait_for(lk, timeout, [&] { return writes.size() >= n; });
    }
};

struct Answers {
    std::vector<std::pair<std::string, std::string>> got;  // code, message
    StorageWriter::Answer answer() {
        return [this](std::string_view code, const std::string& message) {
            got.emplace_back(std::string(code), message);
        };
    }
};

class StorageWriterTest : public ::testing::Test {
protected:
    StorageWriter::Options options(size_t max_pending = 100) {
        StorageWriter::Options o;
        o.max_pending = max_pending;
        o.interval = 10ms;
        o.retry_min = 10ms;
        o.retry_max = 40ms;
        return o;
    }
    Log log{100};
    Metrics metrics;
    FakeStorage storage;
};

TEST_F(StorageWriterTest, WritesEverythingInOneRoundInOrder) {
    StorageWriter w(storage.calls(), log, metrics, options());
    EXPECT_TRUE(w.push_usage("u1", nullptr));
    EXPECT_TRUE(w.push_usage("u2", nullptr));
    EXPECT_TRUE(w.push_ack("o1", "m1", nullptr));
    EXPECT_EQ(w.pending(), 3u);
    EXPECT_EQ(metrics.gauge("moolai_storage_queue_depth")->value(), 3);
    EXPECT_EQ(w.flush(), 3u);
    EXPECT_EQ(storage.seen(), (std::vector<std::string>{"ack:o1:m1", "usage:u1", "usage:u2"}));
    EXPECT_EQ(w.pending(), 0u);
    EXPECT_EQ(metrics.gauge("moolai_storage_queue_depth")->value(), 0);
    EXPECT_EQ(metrics.counter("moolai_storage_queue_written_total")->value(), 3);
}

TEST_F(StorageWriterTest, MetadataIsCoalescedPerOrchestratorTheLatestWins) {
    StorageWriter w(storage.calls(), log, metrics, options());
    EXPECT_TRUE(w.push_metadata("a", "v1", nullptr));
    EXPECT_TRUE(w.push_metadata("b", "v1", nullptr));
    EXPECT_TRUE(w.push_metadata("a", "v2", nullptr));
    EXPECT_TRUE(w.push_metadata("a", "v3", nullptr));
    EXPECT_EQ(w.pending(), 2u);
    w.flush();
    EXPECT_EQ(storage.seen(), (std::vector<std::string>{"meta:a:v3", "meta:b:v1"}));
}

TEST_F(StorageWriterTest, AFullQueueRefusesButStillReplacesWaitingMetadata) {
    StorageWriter w(storage.calls(), log, metrics, options(2));
    EXPECT_TRUE(w.push_usage("u1", nullptr));
    EXPECT_TRUE(w.push_metadata("a", "v1", nullptr));
    EXPECT_FALSE(w.push_usage("u2", nullptr));
    EXPECT_FALSE(w.push_ack("a", "m1", nullptr));
    EXPECT_FALSE(w.push_metadata("b", "v1", nullptr));
    EXPECT_TRUE(w.push_metadata("a", "v2", nullptr)) << "replacing takes no room";
    EXPECT_EQ(metrics.counter("moolai_storage_queue_refused_total")->value(), 3);
    w.flush();
    EXPECT_EQ(storage.seen(), (std::vector<std::string>{"meta:a:v2", "usage:u1"}));
    EXPECT_TRUE(w.push_usage("u2", nullptr)) << "room again once written";
}

TEST_F(StorageWriterTest, AnOutageKeepsEveryWriteInOrderAndTheBoundHolds) {
    StorageWriter w(storage.calls(), log, metrics, options(4));
    storage.status = MOOLAI_E_UNAVAILABLE;
    EXPECT_TRUE(w.push_usage("u1", nullptr));
    EXPECT_TRUE(w.push_usage("u2", nullptr));
    EXPECT_EQ(w.flush(), 0u);
    EXPECT_EQ(w.pending(), 2u);
    // Pushed while a round is failing: after the round's writes.
    storage.during_call = [&] { EXPECT_TRUE(w.push_usage("u3", nullptr)); };
    EXPECT_EQ(w.flush(), 0u);
    EXPECT_TRUE(w.push_usage("u4", nullptr));
    EXPECT_FALSE(w.push_usage("u5", nullptr)) << "the bound counts writes kept for retry";
    EXPECT_GE(metrics.counter("moolai_storage_queue_retries_total")->value(), 2);

    storage.status = MOOLAI_OK;
    EXPECT_EQ(w.flush(), 4u);
    EXPECT_EQ(storage.seen(),
              (std::vector<std::string>{"usage:u1", "usage:u2", "usage:u3", "usage:u4"}));
    EXPECT_EQ(metrics.counter("moolai_storage_queue_dropped_total")->value(), 0);
}

TEST_F(StorageWriterTest, MetadataKeptThroughAnOutageLosesToANewerOne) {
    StorageWriter w(storage.calls(), log, metrics, options());
    storage.status = MOOLAI_E_UNAVAILABLE;
    EXPECT_TRUE(w.push_metadata("a", "old", nullptr));
    storage.during_call = [&] { EXPECT_TRUE(w.push_metadata("a", "new", nullptr)); };
    w.flush();
    EXPECT_EQ(w.pending(), 1u);
    storage.status = MOOLAI_OK;
    w.flush();
    EXPECT_EQ(storage.seen(), (std::vector<std::string>{"meta:a:new"}));
}

TEST_F(StorageWriterTest, WritesStorageRefusesForGoodAreAnsweredAndDropped) {
    StorageWriter w(storage.calls(), log, metrics, options());
    Answers ack, usage;
    storage.ack_status = MOOLAI_E_NOT_FOUND;
    EXPECT_TRUE(w.push_ack("o1", "nope", ack.answer()));
    w.flush();
    ASSERT_EQ(ack.got.size(), 1u);
    EXPECT_EQ(ack.got[0].first, "unknown_message");
    EXPECT_EQ(ack.got[0].second, "no message \"nope\" for this orchestrator");

    storage.status = MOOLAI_E_INVALID;
    EXPECT_TRUE(w.push_usage("bad", usage.answer()));
    w.flush();
    ASSERT_EQ(usage.got.size(), 1u);
    EXPECT_EQ(usage.got[0].first, "invalid_field");
    EXPECT_EQ(w.pending(), 0u) << "not retried";
}

TEST_F(StorageWriterTest, TheThreadWritesWithoutBeingAsked) {
    StorageWriter w(storage.calls(), log, metrics, options());
    w.start();
    EXPECT_TRUE(w.push_usage("u1", nullptr));
    EXPECT_TRUE(storage.wait_for_writes(1, 5s));
    EXPECT_EQ(w.stop(1s), 0u);
}

TEST_F(StorageWriterTest, StopFlushesWhatIsPendingOnceStorageAnswers) {
    StorageWriter w(storage.calls(), log, metrics, options());
    storage.status = MOOLAI_E_UNAVAILABLE;
    w.start();
    EXPECT_TRUE(w.push_usage("u1", nullptr));
    EXPECT_TRUE(w.push_ack("o", "m", nullptr));
    // Storage comes back during the stop's flush.
    storage.during_call = [&] {
        std::lock_guard<std::mutex> lk(storage.m);
        storage.status = MOOLAI_OK;
    };
    EXPECT_EQ(w.stop(5s), 0u);
    EXPECT_EQ(storage.seen().size(), 2u);
    EXPECT_FALSE(w.push_usage("late", nullptr)) << "refused once stopping";
}

TEST_F(StorageWriterTest, StopWithStorageDownEndsInBoundAndSaysWhatIsLost) {
    StorageWriter w(storage.calls(), log, metrics, options());
    storage.status = MOOLAI_E_UNAVAILABLE;
    w.start();
    EXPECT_TRUE(w.push_usage("u1", nullptr));
    EXPECT_TRUE(w.push_metadata("a", "v", nullptr));
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(w.stop(200ms), 2u);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    EXPECT_EQ(metrics.counter("moolai_storage_queue_dropped_total")->value(), 2);
    EXPECT_EQ(w.pending(), 0u);
}

TEST_F(StorageWriterTest, ARoundOfUsageReportsIsOneBatchInOrder) {
    StorageWriter w(storage.calls_with_batch(), log, metrics, options());
    EXPECT_TRUE(w.push_usage(R"({"n":1})", nullptr));
    EXPECT_TRUE(w.push_ack("o1", "m1", nullptr));
    EXPECT_TRUE(w.push_usage(R"({"n":2})", nullptr));
    EXPECT_TRUE(w.push_usage(R"({"n":3})", nullptr));
    EXPECT_EQ(w.flush(), 4u);
    EXPECT_EQ(storage.seen(),
              (std::vector<std::string>{"ack:o1:m1", R"(batch:[{"n":1},{"n":2},{"n":3}])"}));
    EXPECT_EQ(w.pending(), 0u);
    EXPECT_EQ(metrics.gauge("moolai_storage_queue_depth")->value(), 0);
    EXPECT_EQ(metrics.counter("moolai_storage_queue_written_total")->value(), 4);
    EXPECT_EQ(w.flush(), 0u) << "an empty round calls nothing";
    EXPECT_EQ(storage.batch_calls, 1);
}

TEST_F(StorageWriterTest, AnOutageKeepsTheBatchWholeAndItLandsAfterwards) {
    StorageWriter w(storage.calls_with_batch(), log, metrics, options());
    storage.status = MOOLAI_E_UNAVAILABLE;
    EXPECT_TRUE(w.push_usage("{}", nullptr));
    EXPECT_TRUE(w.push_usage("[]", nullptr));
    EXPECT_EQ(w.flush(), 0u);
    EXPECT_EQ(w.pending(), 2u);
    storage.status = MOOLAI_OK;
    EXPECT_TRUE(w.push_usage("null", nullptr));
    EXPECT_EQ(w.flush(), 3u);
    EXPECT_EQ(storage.seen(), (std::vector<std::string>{"batch:[{},[],null]"}));
}

TEST_F(StorageWriterTest, ARefusedBatchGoesOneByOneSoOnlyTheBadReportIsAnswered) {
    StorageWriter w(storage.calls_with_batch(), log, metrics, options());
    Answers good, bad;
    storage.batch_status = MOOLAI_E_INVALID;
    EXPECT_TRUE(w.push_usage("u1", good.answer()));
    EXPECT_TRUE(w.push_usage("u2", bad.answer()));
    // The second report is the one storage refuses on its own.
    storage.during_call = [&] {
        storage.during_call = [&] {
            std::lock_guard<std::mutex> lk(storage.m);
            storage.status = MOOLAI_E_INVALID;
        };
    };
    EXPECT_EQ(w.flush(), 2u);
    EXPECT_EQ(storage.seen(), (std::vector<std::string>{"usage:u1"}));
    EXPECT_TRUE(good.got.empty());
    ASSERT_EQ(bad.got.size(), 1u);
    EXPECT_EQ(bad.got[0].first, "invalid_field");
    EXPECT_EQ(metrics.counter("moolai_storage_queue_dropped_total")->value(), 1);
    EXPECT_EQ(w.pending(), 0u);
}

TEST_F(StorageWriterTest, AStoragePluginWithoutBatchIsAskedOnceThenOneByOne) {
    StorageWriter w(storage.calls_with_batch(), log, metrics, options());
    storage.batch_status = MOOLAI_E_UNSUPPORTED;
    EXPECT_TRUE(w.push_usage("u1", nullptr));
    EXPECT_TRUE(w.push_usage("u2", nullptr));
    EXPECT_EQ(w.flush(), 2u);
    EXPECT_TRUE(w.push_usage("u3", nullptr));
    EXPECT_EQ(w.flush(), 1u);
    EXPECT_EQ(storage.seen(), (std::vector<std::string>{"usage:u1", "usage:u2", "usage:u3"}));
    EXPECT_EQ(storage.batch_calls, 1);
}

}  // namespace
}  // namespace moolai::host
