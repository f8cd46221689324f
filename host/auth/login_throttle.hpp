// LoginThrottle: failed logins slow down the address they come from, never
// the account. Two FailureBackoffs under one lock:
//   - per source address: many free failures (a shared office NAT), then
//     exponential backoff -- one address guessing many names;
//   - per (username, source): a few free failures, then exponential
//     backoff -- one address guessing one name.
// Someone elsewhere cannot lock a user out: their failures count against
// their own address. Both waits are bounded (at most 15 minutes by
// default) and forgotten after a quiet spell; memory is capped.
//
// An attempt is counted as a failure when it starts (begin), under the lock,
// so concurrent guesses cannot all pass the check before any is counted; a
// success takes it back.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "abuse/failure_backoff.hpp"

namespace moolai::host {

class LoginThrottle {
public:
    struct Options {
        FailureBackoff::Options per_source{30, 1000, 15 * 60 * 1000, 15 * 60 * 1000, 65536};
        FailureBackoff::Options per_user_source{5, 1000, 15 * 60 * 1000, 15 * 60 * 1000,
                                                65536};
    };

    LoginThrottle() : LoginThrottle(Options{}) {}
    explicit LoginThrottle(Options options)
        : per_source_(options.per_source), per_user_source_(options.per_user_source) {}

    // 0 = go ahead: the attempt is counted as failed until succeeded() or
    // not_counted(). Otherwise the seconds to wait; nothing is counted.
    int64_t begin(const std::string& username, const std::string& source, int64_t now_ms);
    // The attempt begun succeeded: the pair's record is cleared, the
    // source's failure taken back.
    void succeeded(const std::string& username, const std::string& source);
    // The attempt begun could not be judged (storage down): taken back.
    void not_counted(const std::string& username, const std::string& source);

    size_t tracked_keys();

private:
    static std::string pair_key(const std::string& username, const std::string& source);

    std::mutex mutex_;
    FailureBackoff per_source_;
    FailureBackoff per_user_source_;
};

}  // namespace moolai::host
