// StorageJournal: the orchestrators' writes StorageWriter has taken, on
// disk until they are stored, so that a kill -9, an OOM kill or a crash
// loses none of them (issue 13). StorageWriter appends each write before it
// answers "taken", starts a new segment at each round and deletes the
// segments of a round once everything in it is stored; at start-up the
// controller replays what is left.
//
// Segment files in one directory, "segment-<20-digit number>.log": an
// 8-byte header, then records. A record is its body's length, the body's
// CRC-32 and the CRC-32 of those 8 bytes, then the body (kind, orchestrator
// id, message id, payload). Appends are plain write(2): what was written
// survives the process dying (the page cache stays); sync() fsyncs once per
// round from the writer thread, so a machine crash loses at most a round.
// A torn last record or a bad checksum is skipped at replay, with one line.
// A LOCK file, flock()ed, keeps a second controller out of the directory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace moolai::host {

class Log;
class Metric;
class Metrics;

class StorageJournal {
public:
    enum class Kind : uint8_t { usage = 1, metadata = 2, ack = 3 };
    struct Record {
        Kind kind = Kind::usage;
        std::string orchestrator_id;
        std::string message_id;
        std::string payload;  // usage: the record; metadata: the patch; ack: empty
    };

    // Creates `dir` if needed and a fresh segment in it; throws
    // std::runtime_error (one line naming the path and the fix) when it cannot.
    StorageJournal(std::string dir, Log& log, Metrics& metrics);
    ~StorageJournal();  // syncs; removes the current segment if it holds nothing
    StorageJournal(const StorageJournal&) = delete;
    StorageJournal& operator=(const StorageJournal&) = delete;

    static std::string encode(const Record& r);

    // Any thread: appends one encode()d record to the current segment.
    // False = not written (disk full, I/O error): the caller refuses the write.
    bool append(const std::string& encoded);
    // Closes the current segment if it holds records and opens the next one.
    // Returns the mark: every record appended before this call is in a
    // segment up to it.
    uint64_t rotate();
    // Makes what was appended durable (fsync); for the writer thread only.
    void sync();
    // Deletes the segments up to `mark`: everything in them is stored.
    // Segments found at start are kept until replay() has read them.
    void remove_through(uint64_t mark);
    // Reads the segments found at start, oldest first, and hands over each
    // intact record; returns how many.
    size_t replay(const std::function<void(Record&&)>& take);

    const std::string& dir() const { return dir_; }
    // Segments found at start (to replay).
    size_t found() const { return found_; }

private:
    struct Segment {
        uint64_t seq = 0;
        int fd = -1;  // -1 once synced and closed (or found at start)
        uint64_t bytes = 0;
        size_t records = 0;
        bool from_before = false;  // found at start
    };

    std::string path_of(uint64_t seq) const;
    bool open_segment_locked(std::string& error);  // the next segment becomes current
    bool failed_locked(const std::string& what);
    void read_segment(const Segment& s, const std::function<void(Record&&)>& take, size_t& n);

    const std::string dir_;
    int lock_fd_ = -1;  // flock()ed: one controller per journal
    Log& log_;
    Metric* bytes_;
    Metric* replayed_total_;
    Metric* errors_;

    std::mutex m_;
    std::vector<Segment> closed_;  // oldest first
    Segment current_;
    bool current_dirty_ = false;  // appended since the last sync
    bool dir_dirty_ = false;      // a segment created since the last sync
    bool failing_ = false;        // in a run of failed appends (one log line each run)
    bool broken_ = false;         // the current segment's tail may be torn: use a new one
    bool replayed_ = false;
    uint64_t next_seq_ = 1;
    uint64_t total_bytes_ = 0;
    size_t found_ = 0;
};

}  // namespace moolai::host
