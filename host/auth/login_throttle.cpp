#include "auth/login_throttle.hpp"

#include <algorithm>

namespace moolai::host {

std::string LoginThrottle::pair_key(const std::string& username, const std::string& source) {
    // A made-up name may be as long as the body allows; the key keeps a
    // bounded prefix (and the length) so the cap on keys bounds memory.
    constexpr size_t kMaxNameInKey = 128;
    std::string key = source;
    key += '\n';
    key.append(username, 0, std::min(username.size(), kMaxNameInKey));
    if (username.size() > kMaxNameInKey) key += '\n' + std::to_string(username.size());
    return key;
}

int64_t LoginThrottle::begin(const std::string& username, const std::string& source,
                             int64_t now_ms) {
    const std::string pair = pair_key(username, source);
    std::lock_guard<std::mutex> lock(mutex_);
    const int64_t wait =
        std::max(per_source_.wait_ms(source, now_ms), per_user_source_.wait_ms(pair, now_ms));
    if (wait > 0) return (wait + 999) / 1000;
    per_source_.fail(source, now_ms);
    per_user_source_.fail(pair, now_ms);
    return 0;
}

void LoginThrottle::succeeded(const std::string& username, const std::string& source) {
    const std::string pair = pair_key(username, source);
    std::lock_guard<std::mutex> lock(mutex_);
    per_source_.undo(source);
    per_user_source_.forget(pair);
}

void LoginThrottle::not_counted(const std::string& username, const std::string& source) {
    const std::string pair = pair_key(username, source);
    std::lock_guard<std::mutex> lock(mutex_);
    per_source_.undo(source);
    per_user_source_.undo(pair);
}

size_t LoginThrottle::tracked_keys() {
    std::lock_guard<std::mutex> lock(mutex_);
    return per_source_.size() + per_user_source_.size();
}

}  // namespace moolai::host
