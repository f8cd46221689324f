// auth_local -- the default auth plugin.
//
// Passwords: Argon2id through libsodium's crypto_pwhash_str (salted, the
// parameters embedded in the stored string). Each hash or verification
// allocates `memlimit` bytes, so at most `max_concurrent_hashes` run at once
// (a counting semaphore); a burst of logins waits instead of exhausting RAM.
// Tokens: 32 random bytes, base64url without padding (43 characters); the
// stored form is BLAKE2b-256 of the token, hex, keyed with an optional
// pepper.
//
// Config (every field optional):
//   argon2_opslimit        integer 2..32, default 2 (libsodium INTERACTIVE)
//   argon2_memlimit_mib    integer 19..4096, default 64 (INTERACTIVE); the
//                          floors are OWASP's weakest Argon2id setting
//                          (t=2, m=19 MiB)
//   max_concurrent_hashes  integer 1..256, default 2
//   token_pepper           string of 16..64 bytes; changing it invalidates
//                          every stored token hash (sessions, orchestrator
//                          credentials)
//
// Metrics: gauge moolai_plugin_auth_local_hashes_in_flight, counter
// moolai_plugin_auth_local_hash_waits_total (a call had to queue).
#include <sodium.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "moolai/sdk.hpp"
#include "plugin_config/plugin_config.hpp"

namespace {

using moolai::sdk::Call;
using moolai::sdk::Error;
using moolai::sdk::Host;
using moolai::sdk::Status;
using json = nlohmann::json;

constexpr uint64_t kOpsMin = 2, kOpsMax = 32;
constexpr uint64_t kMemMibMin = 19, kMemMibMax = 4096;
constexpr uint64_t kConcurrencyMin = 1, kConcurrencyMax = 256;
constexpr size_t kPepperMin = crypto_generichash_KEYBYTES_MIN;  // 16
constexpr size_t kPepperMax = crypto_generichash_KEYBYTES_MAX;  // 64
constexpr size_t kTokenBytes = 32;
constexpr size_t kTokenHashBytes = crypto_generichash_BYTES;  // 32, BLAKE2b-256

constexpr std::string_view kName = "auth_local";

[[noreturn]] void bad_config(const std::string& field, const std::string& what) {
    moolai::plugin_config::bad(kName, field, what);
}

// A counting semaphore over mutex + condition variable (std::counting_semaphore
// is C++20). Reports the number of hashes in flight as a gauge.
class HashSlots {
public:
    HashSlots(const Host& host, uint32_t slots) : host_(host), free_(slots) {}

    class Lease {
    public:
        explicit Lease(HashSlots& s) : s_(s) { s_.acquire(); }
        ~Lease() { s_.release(); }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;

    private:
        HashSlots& s_;
    };

private:
    void acquire() {
        std::unique_lock<std::mutex> lock(mu_);
        if (free_ == 0) {
            host_.metric_add("hash_waits_total", 1);
            cv_.wait(lock, [this] { return free_ > 0; });
        }
        --free_;
        ++in_flight_;
        host_.metric_set("hashes_in_flight", in_flight_);
    }
    void release() noexcept {
        {
            std::lock_guard<std::mutex> lock(mu_);
            ++free_;
            --in_flight_;
            host_.metric_set("hashes_in_flight", in_flight_);
        }
        cv_.notify_one();
    }

    Host host_;
    std::mutex mu_;
    std::condition_variable cv_;
    uint32_t free_;
    uint32_t in_flight_ = 0;
};

std::string to_hex(const unsigned char* bytes, size_t n) {
    std::string out(n * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), bytes, n);
    out.pop_back();  // the terminating NUL
    return out;
}

class AuthLocal final : public moolai::sdk::Plugin, public moolai::sdk::Auth {
public:
    static constexpr const char* name = "auth_local";
    static constexpr const char* version = "1.0.0";
    static constexpr const char* description =
        "Local auth: Argon2id password hashes, random bearer tokens stored as BLAKE2b hashes";
    static constexpr uint32_t threading = MOOLAI_THREADING_CONCURRENT;
    static constexpr const char* config_schema = R"({
  "type": "object",
  "properties": {
    "argon2_opslimit": {"type": "integer", "minimum": 2, "maximum": 32},
    "argon2_memlimit_mib": {"type": "integer", "minimum": 19, "maximum": 4096},
    "max_concurrent_hashes": {"type": "integer", "minimum": 1, "maximum": 256},
    "token_pepper": {"type": "string", "minLength": 16, "maxLength": 64}
  },
  "additionalProperties": false
})";

    AuthLocal(Host host, std::string_view config_json)
        : Plugin(host), slots_(host, load(config_json)) {}

    Status hash_password(Call& call, moolai::sdk::Str password) override {
        if (password.empty()) return call.fail(MOOLAI_E_INVALID, "password must not be empty");
        char out[crypto_pwhash_STRBYTES];
        {
            HashSlots::Lease lease(slots_);
            if (crypto_pwhash_str(out, password.data(), password.size(), opslimit_, memlimit_) != 0)
                return call.fail(MOOLAI_E_INTERNAL, "Argon2id hashing failed (out of memory)");
        }
        return call.output(out);
    }

    Status verify_password(Call& call, moolai::sdk::Str encoded_hash,
                           moolai::sdk::Str password) override {
        // libsodium wants a NUL-terminated string no longer than STRBYTES-1.
        if (encoded_hash.empty() || encoded_hash.size() >= crypto_pwhash_STRBYTES ||
            encoded_hash.find('\0') != std::string_view::npos)
            return call.fail(MOOLAI_E_INVALID, "not an Argon2 password hash");
        char stored[crypto_pwhash_STRBYTES] = {};
        encoded_hash.copy(stored, encoded_hash.size());
        // Decodes the parameters: -1 for anything that is not an Argon2i/id
        // string, 1 when the stored parameters differ from ours.
        const int rehash = crypto_pwhash_str_needs_rehash(stored, opslimit_, memlimit_);
        if (rehash < 0) return call.fail(MOOLAI_E_INVALID, "not an Argon2 password hash");
        if (password.empty()) return call.fail(MOOLAI_E_DENIED, "wrong password");

        char upgraded[crypto_pwhash_STRBYTES];
        {
            HashSlots::Lease lease(slots_);
            if (crypto_pwhash_str_verify(stored, password.data(), password.size()) != 0)
                return call.fail(MOOLAI_E_DENIED, "wrong password");
            if (rehash == 0) return MOOLAI_OK;
            if (crypto_pwhash_str(upgraded, password.data(), password.size(), opslimit_,
                                  memlimit_) != 0)
                return MOOLAI_OK;  // the password is right; the upgrade waits for the next login
        }
        return call.output(upgraded);
    }

    Status new_token(Call& call) override {
        unsigned char raw[kTokenBytes];
        randombytes_buf(raw, sizeof raw);
        char
            token[sodium_base64_ENCODED_LEN(kTokenBytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
        sodium_bin2base64(token, sizeof token, raw, sizeof raw,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        sodium_memzero(raw, sizeof raw);
        const std::string_view t(token);
        std::string out = R"({"token":")";
        out.append(t);  // base64url and hex need no JSON escaping
        out.append(R"(","token_hash":")");
        out.append(token_hash(t));
        out.append(R"("})");
        sodium_memzero(token, sizeof token);
        Status s = call.output(out);
        sodium_memzero(out.data(), out.size());
        return s;
    }

    Status hash_token(Call& call, moolai::sdk::Str token) override {
        if (token.empty()) return call.fail(MOOLAI_E_INVALID, "token must not be empty");
        return call.output(token_hash(token));
    }

private:
    // Reads the config into the members; returns the semaphore size.
    uint32_t load(std::string_view config_json) {
        if (sodium_init() < 0) throw Error(MOOLAI_E_INTERNAL, "auth_local: sodium_init failed");
        const json config = moolai::plugin_config::parse(
            kName, config_json,
            {"argon2_opslimit", "argon2_memlimit_mib", "max_concurrent_hashes", "token_pepper"});
        opslimit_ = moolai::plugin_config::integer(kName, config, "argon2_opslimit", kOpsMin,
                                                   kOpsMax, crypto_pwhash_OPSLIMIT_INTERACTIVE);
        memlimit_ = static_cast<size_t>(moolai::plugin_config::integer(
                        kName, config, "argon2_memlimit_mib", kMemMibMin, kMemMibMax, 64)) *
                    1024u * 1024u;
        auto pepper = config.find("token_pepper");
        if (pepper != config.end()) {
            if (!pepper->is_string()) bad_config("token_pepper", "must be a string");
            pepper_ = pepper->get<std::string>();
            if (pepper_.size() < kPepperMin || pepper_.size() > kPepperMax)
                bad_config("token_pepper", "must be 16 to 64 bytes long");
        }
        return static_cast<uint32_t>(moolai::plugin_config::integer(
            kName, config, "max_concurrent_hashes", kConcurrencyMin, kConcurrencyMax, 2));
    }

    std::string token_hash(std::string_view token) const {
        unsigned char digest[kTokenHashBytes];
        const auto* key = reinterpret_cast<const unsigned char*>(pepper_.data());
        crypto_generichash(digest, sizeof digest,
                           reinterpret_cast<const unsigned char*>(token.data()), token.size(),
                           pepper_.empty() ? nullptr : key, pepper_.size());
        return to_hex(digest, sizeof digest);
    }

    unsigned long long opslimit_ = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    size_t memlimit_ = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    std::string pepper_;
    HashSlots slots_;  // last: built from load()'s result
};

}  // namespace

MOOLAI_PLUGIN(AuthLocal);
