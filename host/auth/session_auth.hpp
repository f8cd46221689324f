// SessionAuth: who is calling the REST API. Passwords and tokens are
// hashed by the auth plugin; users and sessions live in storage. Only a
// hash of each session token is stored. While storage is unreachable,
// sessions validated in the last few minutes are served from a SessionCache
// and logouts are remembered until storage can be told.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "plugins/capability_clients.hpp"

namespace moolai::host {

class Log;
class SessionCache;

struct Principal {
    std::string username;
    std::string role;             // "superadmin" | "org_admin"
    std::string organization_id;  // org_admin's organization; "" for superadmin

    bool superadmin() const noexcept { return role == "superadmin"; }
};

struct LoginResult {
    moolai_status status = MOOLAI_OK;  // DENIED for wrong credentials
    std::string error;
    std::string token;
    int64_t expires_at_ms = 0;
    Principal principal;
};

// What a token check found: a principal, a token known bad (no session,
// expired, revoked, malformed), or no answer (storage unreachable and the
// session not among the recently validated).
enum class AuthVerdict { ok, denied, unavailable };

struct AuthCheck {
    AuthVerdict verdict = AuthVerdict::denied;
    Principal who;  // when ok
};

enum class LogoutResult {
    revoked,     // storage dropped the session (or it was not there)
    deferred,    // storage unreachable: refused here from now on, dropped from storage on return
    unavailable  // storage unreachable and the list of deferred logouts is full
};

class SessionAuth {
public:
    // Defaults for the degraded-mode cache: sessions validated within the
    // last 15 minutes, at most 10,000 of them, and as many deferred logouts.
    static constexpr int64_t kCacheMaxAgeMs = 15 * 60 * 1000;
    static constexpr size_t kCacheMaxSessions = 10000;

    SessionAuth(const StorageClient& storage, const AuthClient& auth, Log& log,
                std::string dev_bearer_token, int session_ttl_sec,
                int64_t cache_max_age_ms = kCacheMaxAgeMs,
                size_t cache_max_sessions = kCacheMaxSessions);
    ~SessionAuth();

    LoginResult login(std::string_view username, std::string_view password) const;
    AuthCheck check(std::string_view authorization_header) const;
    // The principal behind "Authorization: Bearer <token>"; nullopt if none
    // or when it cannot be told (check() tells those apart).
    std::optional<Principal> authenticate(std::string_view authorization_header) const;
    LogoutResult logout(std::string_view authorization_header) const;
    // The stored hash of the session behind the header; "" for none or for
    // DEV_BEARER_TOKEN (which is no session).
    std::string session_hash(std::string_view authorization_header) const;
    // After storage ended `username`'s sessions (but `keep`): the
    // degraded-mode cache must not serve them during a later outage.
    void forget_user(const std::string& username, const std::string& keep) const;
    // Tells storage the logouts deferred while it was unreachable; called
    // when it is reachable again. Those not yet told stay refused here.
    void retry_revocations() const;

    // Creates a user with a hashed password. MOOLAI_E_CONFLICT if it exists.
    CallResult create_user(std::string_view username, std::string_view password,
                           std::string_view role, std::string_view organization_id) const;
    // The first-start bootstrap, when no superadmin exists: creates
    // `username` ("" = admin) with `password`, or with a random password
    // that is logged this once when `password` is "".
    void ensure_superadmin(std::string username, std::string password) const;

    static std::string_view bearer_token(std::string_view authorization_header) noexcept;
    // Constant-time equality of two non-empty secrets (tokens, token hashes).
    static bool same_secret(std::string_view a, std::string_view b) noexcept;

private:
    const StorageClient& storage_;
    const AuthClient& auth_;
    Log& log_;
    std::string dev_bearer_token_;
    int session_ttl_sec_;
    std::unique_ptr<SessionCache> cache_;  // thread-safe on its own

    // What an unknown username's password is checked against.
    const std::string& dummy_hash() const;
    mutable std::once_flag dummy_once_;
    mutable std::string dummy_hash_;
};

}  // namespace moolai::host
