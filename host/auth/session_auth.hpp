// SessionAuth: who is calling the REST API. Passwords and tokens are
// hashed by the auth plugin; users and sessions live in storage. Only a
// hash of each session token is stored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "plugins/capability_clients.hpp"

namespace moolai::host {

class Log;

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

class SessionAuth {
public:
    SessionAuth(const StorageClient& storage, const AuthClient& auth, Log& log,
                std::string dev_bearer_token, int session_ttl_sec);

    LoginResult login(std::string_view username, std::string_view password) const;
    // The principal behind "Authorization: Bearer <token>"; nullopt if none.
    std::optional<Principal> authenticate(std::string_view authorization_header) const;
    // Revokes the session; false when the token was not a live session.
    bool logout(std::string_view authorization_header) const;

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
};

}  // namespace moolai::host
