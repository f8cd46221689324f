// StorageJournal on real files: append, rotate, delete, replay in order,
// a torn last record and a bad checksum skipped with the rest replayed, a
// directory that cannot be written refused; and StorageWriter with a
// journal: what it took survives the writer, a full disk answers `busy`.
#include "orchestrators/storage_journal.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "orchestrators/storage_writer.hpp"

namespace moolai::host {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Kind = StorageJournal::Kind;

StorageJournal::Record usage(const std::string& payload) {
    return {Kind::usage, "", "", payload};
}

std::string describe(const StorageJournal::Record& r) {
    const char* kind = r.kind == Kind::usage ? "usage" : r.kind == Kind::metadata ? "meta" : "ack";
    return std::string(kind) + ":" + r.orchestrator_id + ":" + r.message_id + ":" + r.payload;
}

class StorageJournalTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/moolai-journal-test.XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        root = tmpl;
        dir = root + "/journal";
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(root, ec);
    }

    std::vector<std::string> segments() const {
        std::vector<std::string> names;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(dir, ec))
            if (e.path().filename().string().rfind("segment-", 0) == 0)
                names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }
    std::vector<std::string> replay(StorageJournal& j) {
        std::vector<std::string> got;
        j.replay([&](StorageJournal::Record&& r) { got.push_back(describe(r)); });
        return got;
    }
    // The log lines at warn, joined.
    std::string warnings() const {
        std::string all;
        for (const LogLine& l : log.recent(100, LogLevel::warn)) all += l.text + "\n";
        return all;
    }
    size_t count_warnings() const { return log.recent(100, LogLevel::warn).size(); }
    double metric(const char* name) { return metrics.counter(name)->value(); }

    std::string root, dir;
    Log log{100};
    Metrics metrics;
};

TEST_F(StorageJournalTest, AppendsRotatesDeletesAndReplaysInOrder) {
    {
        StorageJournal j(dir, log, metrics);
        EXPECT_EQ(j.found(), 0u);
        EXPECT_EQ(segments().size(), 1u) << "a fresh segment is ready at start";
        EXPECT_EQ(j.rotate(), 0u) << "nothing appended: no new segment";
        EXPECT_EQ(segments().size(), 1u);
        ASSERT_TRUE(j.append(StorageJournal::encode(usage("u1"))));
        ASSERT_TRUE(j.append(StorageJournal::encode({Kind::ack, "o1", "m1", ""})));
        const uint64_t first = j.rotate();
        j.sync();
        ASSERT_TRUE(j.append(StorageJournal::encode({Kind::metadata, "o1", "", "{\"v\":2}"})));
        ASSERT_TRUE(j.append(StorageJournal::encode(usage("u2"))));
        const uint64_t second = j.rotate();
        ASSERT_TRUE(j.append(StorageJournal::encode(usage("u3"))));
        EXPECT_EQ(segments().size(), 3u);
        EXPECT_GT(metrics.gauge("moolai_storage_journal_bytes")->value(), 0);
        j.remove_through(first);  // the first round was stored
        EXPECT_EQ(segments().size(), 2u);
        EXPECT_LT(first, second);
    }  // killed here: nothing more is deleted
    StorageJournal again(dir, log, metrics);
    EXPECT_EQ(again.found(), 2u);
    EXPECT_EQ(replay(again),
              (std::vector<std::string>{"meta:o1::{\"v\":2}", "usage:::u2", "usage:::u3"}));
    EXPECT_EQ(metric("moolai_storage_journal_replayed_total"), 3);
    EXPECT_EQ(count_warnings(), 0u) << warnings();
    // The first round after the start stores them: every old segment goes.
    again.remove_through(again.rotate());
    EXPECT_EQ(segments().size(), 1u) << "only the new, empty segment";
    EXPECT_EQ(metrics.gauge("moolai_storage_journal_bytes")->value(), 8) << "its header";
}

TEST_F(StorageJournalTest, SegmentsFoundAtStartAreKeptUntilReplayed) {
    {
        StorageJournal j(dir, log, metrics);
        ASSERT_TRUE(j.append(StorageJournal::encode(usage("u1"))));
    }
    StorageJournal again(dir, log, metrics);
    again.remove_through(again.rotate());  // a round before the replay
    EXPECT_EQ(replay(again), std::vector<std::string>{"usage:::u1"});
}

TEST_F(StorageJournalTest, ATornLastRecordIsSkippedWithOneLineAndTheRestReplayed) {
    std::string file;
    size_t good_end = 0;
    {
        StorageJournal j(dir, log, metrics);
        ASSERT_TRUE(j.append(StorageJournal::encode(usage("u1"))));
        ASSERT_TRUE(j.append(StorageJournal::encode(usage("u2"))));
        file = dir + "/" + segments().at(0);
        good_end = fs::file_size(file);
        ASSERT_TRUE(j.append(StorageJournal::encode(usage("u3-a-longer-record"))));
    }
    // Killed mid-write: the last record is cut short.
    fs::resize_file(file, fs::file_size(file) - 5);
    StorageJournal again(dir, log, metrics);
    EXPECT_EQ(replay(again), (std::vector<std::string>{"usage:::u1", "usage:::u2"}));
    ASSERT_EQ(count_warnings(), 1u) << warnings();
    EXPECT_NE(warnings().find(file + " at offset " + std::to_string(good_end) + ": torn"),
              std::string::npos)
        << warnings();
    EXPECT_EQ(metric("moolai_storage_journal_errors_total"), 1);
}

TEST_F(StorageJournalTest, ABadChecksumSkipsThatRecordAndTheRestIsReplayed) {
    std::string file;
    size_t second_at = 0;
    {
        StorageJournal j(dir, log, metrics);
        ASSERT_TRUE(j.append(StorageJournal::encode(usage("u1"))));
        file = dir + "/" + segments().at(0);
        second_at = fs::file_size(file);
        ASSERT_TRUE(j.append(StorageJournal::encode(usage("u2"))));
        ASSERT_TRUE(j.append(StorageJournal::encode(usage("u3"))));
    }
    {
        std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(second_at + 12 + 10));  // inside u2's body
        f.put('X');
    }
    StorageJournal again(dir, log, metrics);
    EXPECT_EQ(replay(again), (std::vector<std::string>{"usage:::u1", "usage:::u3"}));
    ASSERT_EQ(count_warnings(), 1u) << warnings();
    EXPECT_NE(warnings().find(file + " at offset " + std::to_string(second_at) + ": bad checksum"),
              std::string::npos)
        << warnings();
}

TEST_F(StorageJournalTest, ADirectoryThatCannotBeWrittenIsRefusedNamingPathAndFix) {
    // A regular file where the directory should be: refused for root too.
    std::ofstream(root + "/file") << "x";
    const std::string bad = root + "/file/journal";
    try {
        StorageJournal j(bad, log, metrics);
        FAIL() << "a journal in " << bad << " was opened";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find(bad), std::string::npos) << what;
        EXPECT_NE(what.find("MOOLAI_STORAGE_JOURNAL_DIR"), std::string::npos) << what;
        EXPECT_NE(what.find("off"), std::string::npos) << what;
        EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
    }
}

TEST_F(StorageJournalTest, ASecondJournalOnTheSameDirectoryIsRefused) {
    StorageJournal first(dir, log, metrics);
    try {
        StorageJournal second(dir, log, metrics);
        FAIL() << "two journals in " << dir;
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(dir + " is in use by another running controller"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_TRUE(first.append(StorageJournal::encode(usage("u1")))) << "the first one goes on";
}

// StorageWriter with a journal, against a storage that answers or not.
struct UpOrDown {
    std::vector<std::string> seen;
    bool up = true;
    StorageWriter::Storage calls() {
        auto result = [this](std::string what) {
            if (up) seen.push_back(std::move(what));
            return up ? CallResult{MOOLAI_OK, "", ""}
                      : CallResult{MOOLAI_E_UNAVAILABLE, "", "storage is down"};
        };
        return {[result](const std::string& r) { return result("usage:" + r); },
                [result](const std::string& id, const std::string& p) {
                    return result("meta:" + id + ":" + p);
                },
                [result](const std::string& id, const std::string& mid) {
                    return result("ack:" + id + ":" + mid).status;
                },
                nullptr};  // reports one by one, so each is seen by name
    }
};

StorageWriter::Options with(StorageJournal& j) {
    StorageWriter::Options o;
    o.max_pending = 100;
    o.interval = 10ms;
    o.retry_min = 10ms;
    o.retry_max = 40ms;
    o.journal = &j;
    return o;
}

TEST_F(StorageJournalTest, WhatTheWriterTookOutlivesItAndIsStoredAfterTheNextStart) {
    UpOrDown storage;
    storage.up = false;
    {
        StorageJournal j(dir, log, metrics);
        StorageWriter w(storage.calls(), log, metrics, with(j));
        EXPECT_TRUE(w.push_usage("u1", nullptr));
        EXPECT_TRUE(w.push_metadata("o1", "old", nullptr));
        EXPECT_EQ(w.flush(), 0u);  // storage down: put back
        EXPECT_TRUE(w.push_metadata("o1", "new", nullptr));
        EXPECT_TRUE(w.push_ack("o1", "m1", nullptr));
        EXPECT_TRUE(w.push_usage("u2", nullptr));
        EXPECT_EQ(w.stop(0ms), 4u);
        EXPECT_EQ(metrics.counter("moolai_storage_queue_dropped_total")->value(), 0)
            << "kept in the journal, not dropped";
        EXPECT_NE(warnings().find("kept in the storage journal " + dir), std::string::npos)
            << warnings();
    }
    storage.up = true;
    StorageJournal j(dir, log, metrics);
    StorageWriter w(storage.calls(), log, metrics, with(j));
    EXPECT_EQ(w.replay_journal(), 5u);
    EXPECT_EQ(w.pending(), 4u) << "metadata coalesced again";
    EXPECT_EQ(w.flush(), 4u);
    EXPECT_EQ(storage.seen,
              (std::vector<std::string>{"ack:o1:m1", "meta:o1:new", "usage:u1", "usage:u2"}));
    EXPECT_EQ(segments().size(), 1u) << "stored: the replayed segments are gone";
}

TEST_F(StorageJournalTest, ARoundThatStoredEverythingDeletesItsSegments) {
    UpOrDown storage;
    StorageJournal j(dir, log, metrics);
    StorageWriter w(storage.calls(), log, metrics, with(j));
    storage.up = false;
    EXPECT_TRUE(w.push_usage("u1", nullptr));
    EXPECT_EQ(w.flush(), 0u);
    EXPECT_TRUE(w.push_usage("u2", nullptr));
    EXPECT_EQ(w.flush(), 0u);
    EXPECT_EQ(segments().size(), 3u) << "two rounds' segments kept through the outage, and one new";
    storage.up = true;
    EXPECT_TRUE(w.push_usage("u3", nullptr));
    EXPECT_EQ(w.flush(), 3u);
    EXPECT_EQ(segments().size(), 1u);
    EXPECT_EQ(w.stop(1s), 0u);
}

TEST_F(StorageJournalTest, AJournalThatCannotBeWrittenAnswersBusyWithOneLinePerRun) {
    UpOrDown storage;
    StorageJournal j(dir, log, metrics);
    StorageWriter w(storage.calls(), log, metrics, with(j));
    ASSERT_TRUE(w.push_usage("u1", nullptr));
    // A full disk, as the process sees it: writes past the size limit fail.
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit saved{};
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
    rlimit small = saved;
    small.rlim_cur = 4096;
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
    const std::string big(8192, 'x');
    const bool first = w.push_usage(big, nullptr);
    const bool second = w.push_ack("o1", std::string(8192, 'm'), nullptr);
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
    std::signal(SIGXFSZ, SIG_DFL);
    EXPECT_FALSE(first) << "not journaled: not taken";
    EXPECT_FALSE(second);
    EXPECT_EQ(metric("moolai_storage_journal_errors_total"), 2);
    EXPECT_EQ(count_warnings(), 1u) << "one line per run of failures: " << warnings();
    EXPECT_EQ(w.pending(), 1u);
    EXPECT_TRUE(w.push_usage(big, nullptr)) << "room on disk again";
    EXPECT_EQ(w.flush(), 2u);
    EXPECT_EQ(storage.seen, (std::vector<std::string>{"usage:u1", "usage:" + big}));
}

}  // namespace
}  // namespace moolai::host
