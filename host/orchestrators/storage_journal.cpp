#include "orchestrators/storage_journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <boost/crc.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <utility>

#include "observability/log.hpp"
#include "observability/metrics.hpp"

namespace moolai::host {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'M', 'O', 'O', 'L', 'J', 'N', 'L', '1'};
constexpr size_t kHeader = 12;  // body length, body CRC, CRC of those 8 bytes
const std::string kPrefix = "segment-";
const std::string kSuffix = ".log";

uint32_t crc32(const char* data, size_t n) {
    boost::crc_32_type crc;
    crc.process_bytes(data, n);
    return crc.checksum();
}

void put32(std::string& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t get32(const char* p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}

bool decode(const char* p, size_t n, StorageJournal::Record& r) {
    if (n < 9 || p[0] < 1 || p[0] > 3) return false;
    r.kind = static_cast<StorageJournal::Kind>(p[0]);
    size_t at = 1;
    auto field = [&](std::string& out) {
        if (n - at < 4) return false;
        const size_t len = get32(p + at);
        at += 4;
        if (n - at < len) return false;
        out.assign(p + at, len);
        at += len;
        return true;
    };
    if (!field(r.orchestrator_id) || !field(r.message_id)) return false;
    r.payload.assign(p + at, n - at);
    return true;
}

// The sequence number of a segment file name, 0 when it is not one.
uint64_t segment_seq(const std::string& name) {
    if (name.size() != kPrefix.size() + 20 + kSuffix.size() || name.rfind(kPrefix, 0) != 0 ||
        name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0)
        return 0;
    uint64_t seq = 0;
    for (size_t i = kPrefix.size(); i < kPrefix.size() + 20; ++i) {
        if (name[i] < '0' || name[i] > '9') return 0;
        seq = seq * 10 + static_cast<uint64_t>(name[i] - '0');
    }
    return seq;
}

}  // namespace

StorageJournal::StorageJournal(std::string dir, Log& log, Metrics& metrics)
    : dir_(std::move(dir)),
      log_(log),
      bytes_(metrics.gauge("moolai_storage_journal_bytes",
                           "Bytes in the storage journal: orchestrator writes taken, not yet "
                           "known stored")),
      replayed_total_(
          metrics.counter("moolai_storage_journal_replayed_total",
                          "Orchestrator writes replayed from the storage journal at start")),
      errors_(metrics.counter("moolai_storage_journal_errors_total",
                              "Storage journal failures: appends refused (busy), fsyncs and "
                              "deletions that failed, damaged records skipped at replay")) {
    const std::string fix =
        " (MOOLAI_STORAGE_JOURNAL_DIR must name a writable directory on persistent storage, or "
        "be off)";
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec)
        throw std::runtime_error("storage journal: cannot create " + dir_ + ": " + ec.message() +
                                 fix);
    // Two controllers on one journal would replay and delete each other's
    // writes. The kernel drops the lock when the holder dies, kill -9 too.
    const std::string lock_path = dir_ + "/LOCK";
    lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd_ < 0)
        throw std::runtime_error("storage journal: cannot write in " + dir_ + ": " + lock_path +
                                 ": " + std::strerror(errno) + fix);
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
        ::close(lock_fd_);
        throw std::runtime_error("storage journal: " + dir_ +
                                 " is in use by another running controller (" + lock_path +
                                 " is locked); give each controller its own "
                                 "MOOLAI_STORAGE_JOURNAL_DIR");
    }
    std::vector<Segment> found;
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
        const uint64_t seq = segment_seq(it->path().filename().string());
        if (seq == 0) continue;
        std::error_code size_ec;
        const auto size = fs::file_size(it->path(), size_ec);
        found.push_back(Segment{seq, -1, size_ec ? 0 : size, 1, true});
    }
    if (ec) {
        ::close(lock_fd_);
        throw std::runtime_error("storage journal: cannot read " + dir_ + ": " + ec.message() +
                                 fix);
    }
    std::sort(found.begin(), found.end(),
              [](const Segment& a, const Segment& b) { return a.seq < b.seq; });
    for (const Segment& s : found) total_bytes_ += s.bytes;
    closed_ = std::move(found);
    found_ = closed_.size();
    next_seq_ = closed_.empty() ? 1 : closed_.back().seq + 1;
    std::string error;
    if (!open_segment_locked(error)) {
        ::close(lock_fd_);
        throw std::runtime_error("storage journal: cannot write in " + dir_ + ": " + error + fix);
    }
    bytes_->set(static_cast<double>(total_bytes_));
}

StorageJournal::~StorageJournal() {
    sync();
    std::lock_guard<std::mutex> lock(m_);
    for (Segment& s : closed_)
        if (s.fd >= 0) ::close(s.fd);
    if (current_.fd >= 0) {
        ::close(current_.fd);
        // Nothing to replay in it: no file for the next start to read.
        if (current_.records == 0) ::unlink(path_of(current_.seq).c_str());
    }
    ::close(lock_fd_);  // last: the files are in their final state
}

std::string StorageJournal::path_of(uint64_t seq) const {
    std::string digits = std::to_string(seq);
    return dir_ + "/" + kPrefix + std::string(20 - digits.size(), '0') + digits + kSuffix;
}

std::string StorageJournal::encode(const Record& r) {
    std::string body;
    body.reserve(9 + r.orchestrator_id.size() + r.message_id.size() + r.payload.size());
    body.push_back(static_cast<char>(r.kind));
    put32(body, static_cast<uint32_t>(r.orchestrator_id.size()));
    body += r.orchestrator_id;
    put32(body, static_cast<uint32_t>(r.message_id.size()));
    body += r.message_id;
    body += r.payload;
    std::string out;
    out.reserve(kHeader + body.size());
    put32(out, static_cast<uint32_t>(body.size()));
    put32(out, crc32(body.data(), body.size()));
    put32(out, crc32(out.data(), 8));
    out += body;
    return out;
}

bool StorageJournal::open_segment_locked(std::string& error) {
    const uint64_t seq = next_seq_;
    const std::string path = path_of(seq);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        error = path + ": " + std::strerror(errno);
        return false;
    }
    if (::pwrite(fd, kMagic, sizeof kMagic, 0) != static_cast<ssize_t>(sizeof kMagic)) {
        error = path + ": " + (errno != 0 ? std::strerror(errno) : "short write");
        ::close(fd);
        ::unlink(path.c_str());
        return false;
    }
    ++next_seq_;
    current_ = Segment{seq, fd, sizeof kMagic, 0, false};
    total_bytes_ += sizeof kMagic;
    broken_ = false;
    current_dirty_ = true;
    dir_dirty_ = true;
    return true;
}

bool StorageJournal::failed_locked(const std::string& what) {
    errors_->add(1);
    if (!failing_) {
        failing_ = true;
        log_.warn("storage journal: " + what +
                  "; orchestrator writes are refused with `busy` until it can be written");
    }
    return false;
}

bool StorageJournal::append(const std::string& encoded) {
    std::lock_guard<std::mutex> lock(m_);
    if (broken_ && current_.fd >= 0) {
        closed_.push_back(current_);  // sync() closes it
        current_ = Segment{};
    }
    std::string error;
    if (current_.fd < 0 && !open_segment_locked(error))
        return failed_locked("cannot create a segment: " + error);
    // pwrite at the known end: a failed write is cut off again below, and
    // the next record starts where this one would have.
    size_t done = 0;
    int err = 0;
    while (done < encoded.size()) {
        const ssize_t w = ::pwrite(current_.fd, encoded.data() + done, encoded.size() - done,
                                   static_cast<off_t>(current_.bytes + done));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            err = w < 0 ? errno : EIO;
            break;
        }
        done += static_cast<size_t>(w);
    }
    if (done < encoded.size()) {
        // A torn record would end the segment at replay: cut it, or move on.
        if (done > 0 && ::ftruncate(current_.fd, static_cast<off_t>(current_.bytes)) != 0)
            broken_ = true;
        return failed_locked("cannot append to " + path_of(current_.seq) + ": " +
                             std::strerror(err));
    }
    current_.bytes += encoded.size();
    ++current_.records;
    total_bytes_ += encoded.size();
    bytes_->set(static_cast<double>(total_bytes_));
    current_dirty_ = true;
    if (failing_) {
        failing_ = false;
        log_.info("storage journal: appends succeed again in " + dir_);
    }
    return true;
}

uint64_t StorageJournal::rotate() {
    std::lock_guard<std::mutex> lock(m_);
    if (current_.fd >= 0 && current_.records == 0 && !broken_) return current_.seq - 1;
    if (current_.fd >= 0) {
        closed_.push_back(current_);  // sync() closes it
        current_ = Segment{};
    }
    const uint64_t mark = next_seq_ - 1;
    std::string error;
    if (!open_segment_locked(error)) failed_locked("cannot create a segment: " + error);
    return mark;
}

void StorageJournal::sync() {
    std::vector<int> fds;  // ours: closed once synced
    bool dir = false;
    {
        std::lock_guard<std::mutex> lock(m_);
        for (Segment& s : closed_) {
            if (s.fd < 0) continue;
            fds.push_back(s.fd);
            s.fd = -1;
        }
        if (current_dirty_ && current_.fd >= 0) {
            const int fd = ::dup(current_.fd);
            if (fd >= 0) fds.push_back(fd);
            current_dirty_ = false;
        }
        dir = dir_dirty_;
        dir_dirty_ = false;
    }
    // Outside the lock: appends (io threads) never wait for a disk flush.
    int err = 0;
    for (int fd : fds) {
        if (::fsync(fd) != 0 && err == 0) err = errno;
        ::close(fd);
    }
    if (dir) {
        const int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if ((fd < 0 || ::fsync(fd) != 0) && err == 0) err = errno;
        if (fd >= 0) ::close(fd);
    }
    if (err != 0) {
        errors_->add(1);
        log_.warn("storage journal: fsync failed in " + dir_ + ": " + std::strerror(err) +
                  " (a machine crash may lose the last writes)");
    }
}

void StorageJournal::remove_through(uint64_t mark) {
    std::vector<std::string> paths;
    {
        std::lock_guard<std::mutex> lock(m_);
        auto keep = std::partition(closed_.begin(), closed_.end(), [&](const Segment& s) {
            return s.seq > mark || (s.from_before && !replayed_);
        });
        for (auto it = keep; it != closed_.end(); ++it) {
            if (it->fd >= 0) ::close(it->fd);
            paths.push_back(path_of(it->seq));
            total_bytes_ -= std::min(total_bytes_, it->bytes);
        }
        closed_.erase(keep, closed_.end());
        bytes_->set(static_cast<double>(total_bytes_));
    }
    for (const std::string& p : paths) {
        if (::unlink(p.c_str()) != 0 && errno != ENOENT) {
            errors_->add(1);
            log_.warn("storage journal: cannot delete " + p + ": " + std::strerror(errno) +
                      " (its writes are stored; it would be replayed at the next start)");
        }
    }
}

size_t StorageJournal::replay(const std::function<void(Record&&)>& take) {
    std::vector<Segment> before;
    {
        std::lock_guard<std::mutex> lock(m_);
        for (const Segment& s : closed_)
            if (s.from_before) before.push_back(s);
    }
    size_t n = 0;
    for (const Segment& s : before) read_segment(s, take, n);
    {
        std::lock_guard<std::mutex> lock(m_);
        replayed_ = true;
    }
    replayed_total_->add(static_cast<double>(n));
    return n;
}

void StorageJournal::read_segment(const Segment& s, const std::function<void(Record&&)>& take,
                                  size_t& n) {
    const std::string path = path_of(s.seq);
    auto skip = [&](size_t offset, const std::string& why) {
        errors_->add(1);
        log_.warn("storage journal: " + path + " at offset " + std::to_string(offset) + ": " + why);
    };
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        errors_->add(1);
        log_.warn("storage journal: cannot read " + path + ": " + std::strerror(errno));
        return;
    }
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Empty: killed between creating the file and writing its header.
    if (data.empty()) return;
    if (data.size() < sizeof kMagic || data.compare(0, sizeof kMagic, kMagic, sizeof kMagic) != 0)
        return skip(0, "not a journal segment (bad header), skipped");
    size_t at = sizeof kMagic;
    while (at < data.size()) {
        const char* p = data.data() + at;
        const size_t left = data.size() - at;
        if (left < kHeader) return skip(at, "torn last record (stopped mid-write), skipped");
        if (crc32(p, 8) != get32(p + 8))
            return skip(at, "damaged record header, the rest of the segment skipped");
        const size_t len = get32(p);
        if (left - kHeader < len) return skip(at, "torn last record (stopped mid-write), skipped");
        Record r;
        if (crc32(p + kHeader, len) != get32(p + 4))
            skip(at, "bad checksum, record skipped");
        else if (!decode(p + kHeader, len, r))
            skip(at, "malformed record, skipped");
        else {
            take(std::move(r));
            ++n;
        }
        at += kHeader + len;
    }
}

}  // namespace moolai::host
