// FailureBackoff: recent failures per key (a source address, a username at
// an address) with exponential backoff. The first `free_failures` cost
// nothing; after that each failure doubles the wait before the next attempt
// (base, 2 x base, ... at most max). It never locks anyone out for good:
// the wait is bounded, and a key is forgotten `forget_after` after its last
// failure. At most `max_keys` keys, the longest quiet evicted first, so a
// spray of made-up keys costs bounded memory and O(1) per call.
//
// Not thread-safe: the owner locks (it often checks two keys as one step).
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>

namespace moolai::host {

class FailureBackoff {
public:
    struct Options {
        uint32_t free_failures = 5;
        int64_t base_ms = 1000;
        int64_t max_ms = 15 * 60 * 1000;
        int64_t forget_after_ms = 15 * 60 * 1000;
        size_t max_keys = 65536;
    };

    explicit FailureBackoff(Options options) : options_(options) {}

    // Milliseconds until `key` may try again; 0 = now.
    int64_t wait_ms(const std::string& key, int64_t now_ms);
    // Counts one failure for `key` at `now_ms`. Callers count an attempt
    // before its outcome is known (so concurrent attempts cannot all slip
    // in) and take it back with undo() when it succeeds.
    void fail(const std::string& key, int64_t now_ms);
    // Takes back one failure counted by fail().
    void undo(const std::string& key);
    // Forgets `key` (a success that clears its record).
    void forget(const std::string& key);

    size_t size() const noexcept { return entries_.size(); }
    uint32_t failures(const std::string& key) const;

private:
    struct Entry {
        uint32_t failures = 0;
        int64_t last_ms = 0;
        std::list<std::string>::iterator order;  // in quiet_
    };
    void expire(int64_t now_ms);

    Options options_;
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> quiet_;  // least recently failed first
};

}  // namespace moolai::host
