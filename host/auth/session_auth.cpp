#include "auth/session_auth.hpp"

#include <mutex>
#include <random>

#include <nlohmann/json.hpp>

#include "auth/session_cache.hpp"
#include "common/rfc3339.hpp"
#include "observability/log.hpp"

namespace moolai::host {
using nlohmann::json;

SessionAuth::SessionAuth(const StorageClient& storage, const AuthClient& auth, Log& log,
                         std::string dev_bearer_token, int session_ttl_sec,
                         int64_t cache_max_age_ms, size_t cache_max_sessions)
    : storage_(storage),
      auth_(auth),
      log_(log),
      dev_bearer_token_(std::move(dev_bearer_token)),
      session_ttl_sec_(session_ttl_sec),
      cache_(std::make_unique<SessionCache>(cache_max_sessions, cache_max_age_ms,
                                            cache_max_sessions)) {}

SessionAuth::~SessionAuth() = default;

bool SessionAuth::same_secret(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size() || a.empty()) return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

std::string_view SessionAuth::bearer_token(std::string_view header) noexcept {
    constexpr std::string_view kPrefix = "Bearer ";
    if (header.size() <= kPrefix.size()) return {};
    for (size_t i = 0; i < kPrefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(header[i])) !=
            std::tolower(static_cast<unsigned char>(kPrefix[i])))
            return {};
    }
    std::string_view t = header.substr(kPrefix.size());
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    return t;
}

const std::string& SessionAuth::dummy_hash() const {
    std::call_once(dummy_once_, [this] {
        // A random password nobody knows, hashed with the plugin's current
        // parameters (so verifying against it costs what a real one does).
        CallResult t = auth_.new_token();
        CallResult h = auth_.hash_password(t.ok() ? t.output : "moolai-no-such-user");
        if (h.ok()) dummy_hash_ = h.output;
    });
    return dummy_hash_;
}

LoginResult SessionAuth::login(std::string_view username, std::string_view password) const {
    LoginResult out;
    CallResult user = storage_.user_get(username);
    if (user.status == MOOLAI_E_NOT_FOUND) {
        // The same Argon2 work as for a known name, so the answer's timing
        // does not tell which usernames exist.
        auth_.verify_password(dummy_hash(), password);
        out.status = MOOLAI_E_DENIED;
        out.error = "invalid username or password";
        return out;
    }
    if (!user.ok()) {
        out.status = user.status;
        out.error = user.error;
        return out;
    }
    const json u = json::parse(user.output);
    CallResult v = auth_.verify_password(u.value("password_hash", ""), password);
    if (!v.ok()) {
        out.status = v.status == MOOLAI_E_INVALID ? MOOLAI_E_DENIED : v.status;
        out.error = "invalid username or password";
        return out;
    }
    if (!v.output.empty()) {  // the plugin asks for a stronger hash
        // The same password: the user's other sessions stay (ABI 1.3).
        storage_.user_update(username,
                             json{{"password_hash", v.output}, {"keep_sessions", true}}.dump());
    }
    CallResult tok = auth_.new_token();
    if (!tok.ok()) {
        out.status = tok.status;
        out.error = tok.error;
        return out;
    }
    const json t = json::parse(tok.output);
    out.token = t.at("token").get<std::string>();
    out.expires_at_ms = now_unix_ms() + int64_t{session_ttl_sec_} * 1000;
    CallResult s = storage_.session_create(json{
        {"token_hash", t.at("token_hash")},
        {"username", std::string(username)},
        {"expires_at",
         format_rfc3339(out.expires_at_ms)}}.dump());
    if (!s.ok()) {
        out.status = s.status;
        out.error = s.error;
        out.token.clear();
        return out;
    }
    out.principal = Principal{std::string(username), u.value("role", ""),
                              u.value("organization_id", json()).is_string()
                                  ? u["organization_id"].get<std::string>()
                                  : std::string()};
    // A login just before an outage keeps working through it too.
    cache_->remember(t.at("token_hash").get<std::string>(), out.principal, now_unix_ms(),
                     out.expires_at_ms);
    return out;
}

AuthCheck SessionAuth::check(std::string_view header) const {
    const std::string_view token = bearer_token(header);
    if (token.empty() || token.size() > 512) return {};
    if (!dev_bearer_token_.empty() && same_secret(token, dev_bearer_token_))
        return {AuthVerdict::ok, Principal{"dev-bearer-token", "superadmin", ""}};
    CallResult h = auth_.hash_token(token);
    if (!h.ok()) return {};
    const std::string& hash = h.output;
    if (cache_->revocation_pending(hash)) {
        // Logged out while storage was down: refused, and storage is told
        // now if it answers again.
        CallResult d = storage_.session_delete(hash);
        if (d.ok() || d.status == MOOLAI_E_NOT_FOUND) cache_->revocation_done(hash);
        return {};
    }
    CallResult s = storage_.session_get(hash);
    const int64_t now = now_unix_ms();
    if (s.status == MOOLAI_E_NOT_FOUND || s.status == MOOLAI_E_INVALID) {
        cache_->forget(hash);  // revoked or expired meanwhile, perhaps by another controller
        return {};
    }
    if (!s.ok()) {
        // Storage gave no answer: not a verdict on the token.
        if (std::optional<Principal> cached = cache_->find(hash, now))
            return {AuthVerdict::ok, std::move(*cached)};
        return {AuthVerdict::unavailable, {}};
    }
    const json j = json::parse(s.output);
    const json org = j.value("organization_id", json());
    Principal who{j.value("username", ""), j.value("role", ""),
                  org.is_string() ? org.get<std::string>() : std::string()};
    int64_t expires_ms = now + int64_t{session_ttl_sec_} * 1000;
    const json exp = j.value("expires_at", json());
    if (exp.is_string()) parse_rfc3339(exp.get<std::string>(), expires_ms);
    cache_->remember(hash, who, now, expires_ms);
    return {AuthVerdict::ok, std::move(who)};
}

std::optional<Principal> SessionAuth::authenticate(std::string_view header) const {
    AuthCheck c = check(header);
    if (c.verdict != AuthVerdict::ok) return std::nullopt;
    return std::move(c.who);
}

LogoutResult SessionAuth::logout(std::string_view header) const {
    const std::string_view token = bearer_token(header);
    if (token.empty()) return LogoutResult::revoked;
    CallResult h = auth_.hash_token(token);
    if (!h.ok()) return LogoutResult::revoked;  // no such session can exist
    cache_->forget(h.output);
    CallResult d = storage_.session_delete(h.output);
    if (d.ok() || d.status == MOOLAI_E_NOT_FOUND) return LogoutResult::revoked;
    if (!cache_->revoke_later(h.output)) return LogoutResult::unavailable;
    log_.info("logout recorded in memory; the session is dropped from storage when it returns");
    return LogoutResult::deferred;
}

std::string SessionAuth::session_hash(std::string_view header) const {
    const std::string_view token = bearer_token(header);
    if (token.empty() || token.size() > 512) return {};
    if (!dev_bearer_token_.empty() && same_secret(token, dev_bearer_token_)) return {};
    CallResult h = auth_.hash_token(token);
    return h.ok() ? h.output : std::string();
}

void SessionAuth::forget_user(const std::string& username, const std::string& keep) const {
    cache_->forget_user(username, keep);
}

void SessionAuth::retry_revocations() const {
    size_t told = 0;
    for (const std::string& hash : cache_->pending_revocations()) {
        CallResult d = storage_.session_delete(hash);
        if (!d.ok() && d.status != MOOLAI_E_NOT_FOUND) return;  // down again: next time
        cache_->revocation_done(hash);
        ++told;
    }
    if (told > 0)
        log_.info("storage told of " + std::to_string(told) +
                  " logout(s) made while it was unreachable");
}

CallResult SessionAuth::create_user(std::string_view username, std::string_view password,
                                    std::string_view role, std::string_view organization_id) const {
    CallResult hashed = auth_.hash_password(password);
    if (!hashed.ok()) return hashed;
    json rec = {{"username", std::string(username)},
                {"password_hash", hashed.output},
                {"role", std::string(role)}};
    rec["organization_id"] =
        organization_id.empty() ? json(nullptr) : json(std::string(organization_id));
    return storage_.user_create(rec.dump());
}

namespace {

// 24 characters of [A-Za-z0-9_-]: 144 bits from the kernel's generator.
std::string random_password() {
    static const char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::random_device rd;  // /dev/urandom (getrandom) on Linux
    std::string out;
    for (int i = 0; i < 24; ++i) out += kAlphabet[rd() % 64];
    return out;
}

}  // namespace

void SessionAuth::ensure_superadmin(std::string username, std::string password) const {
    Query q;
    q.status = "superadmin";
    q.limit = 1;
    CallResult existing = storage_.user_list(q);
    if (!existing.ok() || json::parse(existing.output).value("total", 0) > 0) return;
    // No superadmin yet and none named: make one with a random password and
    // show it this once, as a container's or a service's first start needs.
    const bool generated = password.empty();
    if (username.empty()) username = "admin";
    if (generated) password = random_password();
    CallResult r = create_user(username, password, "superadmin", "");
    if (r.ok() && generated) {
        log_.warn("first start: created the superadmin \"" + username + "\" with the password \"" +
                  password +
                  "\" (shown once; set MOOLAI_SUPERADMIN_PASSWORD to choose it instead)");
    } else if (r.ok()) {
        log_.info("created the first superadmin \"" + username +
                  "\" from MOOLAI_SUPERADMIN_USERNAME/PASSWORD");
    } else {
        log_.error("could not create the first superadmin \"" + username +
                   "\": " + status_name(r.status) + ": " + r.error);
    }
}

}  // namespace moolai::host
