// LogLimiter: at most one log line per key (a source address) per interval,
// so a flood of bad attempts cannot turn into a flood of log lines. The line
// that passes says how many like it were held back since the last one.
// Bounded like FailureBackoff: at most `max_keys`, the oldest dropped first.
// Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace moolai::host {

class LogLimiter {
public:
    explicit LogLimiter(int64_t interval_ms = 60000, size_t max_keys = 65536)
        : interval_ms_(interval_ms), max_keys_(max_keys) {}

    // A value = log now; it is how many lines for `key` were held back since
    // the last one logged. Empty = hold this one back.
    std::optional<uint64_t> admit(const std::string& key, int64_t now_ms);

    // " (N more like this from KEY held back)" for N > 0, else "".
    static std::string held_back_note(uint64_t held_back);

private:
    struct Entry {
        int64_t logged_ms = 0;
        uint64_t held_back = 0;
        std::list<std::string>::iterator order;
    };
    const int64_t interval_ms_;
    const size_t max_keys_;
    std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> order_;  // least recently logged first
};

}  // namespace moolai::host
