// SessionCache: sessions this controller validated recently, by token hash,
// to keep logged-in operators in while storage is unreachable, and the
// logouts made meanwhile, until storage has been told. Storage stays the
// authority whenever it answers: the cache is read only when it does not.
// Bounded: the least recently validated entry goes first. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "auth/session_auth.hpp"

namespace moolai::host {

class SessionCache {
public:
    // An entry serves for `max_age_ms` after its last validation against
    // storage, and never past the session's own expiry.
    SessionCache(size_t max_sessions, int64_t max_age_ms, size_t max_pending_revocations);

    void remember(const std::string& token_hash, const Principal& who, int64_t validated_ms,
                  int64_t expires_ms);
    std::optional<Principal> find(const std::string& token_hash, int64_t now_ms) const;
    void forget(const std::string& token_hash);
    // Every entry of `username` (their sessions ended in storage), but
    // `keep` (a token hash; "" = none).
    void forget_user(const std::string& username, const std::string& keep);

    // A logout storage could not record yet: the token is refused from now
    // on. False when the list is full (the caller says 503).
    bool revoke_later(const std::string& token_hash);
    bool revocation_pending(const std::string& token_hash) const;
    void revocation_done(const std::string& token_hash);
    std::vector<std::string> pending_revocations() const;

    size_t size() const;

private:
    struct Entry {
        Principal who;
        int64_t validated_ms;
        int64_t expires_ms;
        std::list<std::string>::iterator age;  // position in by_age_
    };
    const size_t max_sessions_;
    const int64_t max_age_ms_;
    const size_t max_pending_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> sessions_;
    std::list<std::string> by_age_;  // front: validated longest ago
    std::unordered_set<std::string> pending_;
};

}  // namespace moolai::host
