#include "auth/session_cache.hpp"

namespace moolai::host {

SessionCache::SessionCache(size_t max_sessions, int64_t max_age_ms, size_t max_pending_revocations)
    : max_sessions_(max_sessions), max_age_ms_(max_age_ms), max_pending_(max_pending_revocations) {}

void SessionCache::remember(const std::string& token_hash, const Principal& who,
                            int64_t validated_ms, int64_t expires_ms) {
    if (max_sessions_ == 0) return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = sessions_.find(token_hash);
    if (it != sessions_.end()) {
        by_age_.erase(it->second.age);
        sessions_.erase(it);
    }
    while (sessions_.size() >= max_sessions_) {
        sessions_.erase(by_age_.front());
        by_age_.pop_front();
    }
    by_age_.push_back(token_hash);
    sessions_.emplace(token_hash, Entry{who, validated_ms, expires_ms, std::prev(by_age_.end())});
}

std::optional<Principal> SessionCache::find(const std::string& token_hash, int64_t now_ms) const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pending_.count(token_hash) != 0) return std::nullopt;
    auto it = sessions_.find(token_hash);
    if (it == sessions_.end()) return std::nullopt;
    const Entry& e = it->second;
    if (now_ms - e.validated_ms > max_age_ms_ || now_ms >= e.expires_ms) return std::nullopt;
    return e.who;
}

void SessionCache::forget_user(const std::string& username, const std::string& keep) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
        if (it->second.who.username == username && it->first != keep) {
            by_age_.erase(it->second.age);
            it = sessions_.erase(it);
        } else {
            ++it;
        }
    }
}

void SessionCache::forget(const std::string& token_hash) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = sessions_.find(token_hash);
    if (it == sessions_.end()) return;
    by_age_.erase(it->second.age);
    sessions_.erase(it);
}

bool SessionCache::revoke_later(const std::string& token_hash) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pending_.count(token_hash) == 0 && pending_.size() >= max_pending_) return false;
    pending_.insert(token_hash);
    auto it = sessions_.find(token_hash);
    if (it != sessions_.end()) {
        by_age_.erase(it->second.age);
        sessions_.erase(it);
    }
    return true;
}

bool SessionCache::revocation_pending(const std::string& token_hash) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return pending_.count(token_hash) != 0;
}

void SessionCache::revocation_done(const std::string& token_hash) {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.erase(token_hash);
}

std::vector<std::string> SessionCache::pending_revocations() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return {pending_.begin(), pending_.end()};
}

size_t SessionCache::size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return sessions_.size();
}

}  // namespace moolai::host
