// A FailureBackoff behind a mutex, for callers that check and count one key
// at a time from several threads (failed WebSocket registrations per source).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "abuse/failure_backoff.hpp"

namespace moolai::host {

class LockedBackoff {
public:
    explicit LockedBackoff(FailureBackoff::Options options) : backoff_(options) {}

    int64_t wait_ms(const std::string& key, int64_t now_ms) {
        std::lock_guard<std::mutex> lock(mutex_);
        return backoff_.wait_ms(key, now_ms);
    }
    void fail(const std::string& key, int64_t now_ms) {
        std::lock_guard<std::mutex> lock(mutex_);
        backoff_.fail(key, now_ms);
    }
    void forget(const std::string& key) {
        std::lock_guard<std::mutex> lock(mutex_);
        backoff_.forget(key);
    }
    size_t size() {
        std::lock_guard<std::mutex> lock(mutex_);
        return backoff_.size();
    }

private:
    std::mutex mutex_;
    FailureBackoff backoff_;
};

}  // namespace moolai::host
