// auth_local through the C ABI.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/abi_test_host.hpp"

using moolai::plugin_test::call;
using moolai::plugin_test::Instance;
using moolai::plugin_test::Library;
using moolai::plugin_test::Result;
using moolai::plugin_test::str;

namespace {

// Cheapest parameters the plugin allows, so the tests stay fast.
constexpr const char* kFast = R"({"argon2_opslimit": 2, "argon2_memlimit_mib": 19})";

class AuthLocal : public ::testing::Test {
protected:
    static Library& lib() {
        static Library l(MOOLAI_TEST_AUTH_LOCAL);
        return l;
    }
    static const moolai_auth_v1& auth() {
        const auto* t = lib().capability<moolai_auth_v1>(MOOLAI_CAP_AUTH);
        EXPECT_NE(t, nullptr);
        return *t;
    }
    static std::unique_ptr<Instance> make(const std::string& config) {
        Result r;
        auto inst = Instance::create(lib(), config, &r);
        EXPECT_NE(inst, nullptr) << r.error;
        return inst;
    }
    static Result hash(Instance& i, std::string_view pw) {
        return call([&](moolai_call* c) { return auth().hash_password(i.get(), c, str(pw)); });
    }
    static Result verify(Instance& i, std::string_view h, std::string_view pw) {
        return call(
            [&](moolai_call* c) { return auth().verify_password(i.get(), c, str(h), str(pw)); });
    }
    static Result token(Instance& i) {
        return call([&](moolai_call* c) { return auth().new_token(i.get(), c); });
    }
    static Result hash_token(Instance& i, std::string_view t) {
        return call([&](moolai_call* c) { return auth().hash_token(i.get(), c, str(t)); });
    }
    // create() must fail with MOOLAI_E_INVALID and name `field`.
    static void expect_rejected(const std::string& config, const std::string& field) {
        Result r;
        EXPECT_EQ(Instance::create(lib(), config, &r), nullptr) << config;
        EXPECT_EQ(r.status, MOOLAI_E_INVALID) << config;
        EXPECT_NE(r.error.find("\"" + field + "\""), std::string::npos)
            << config << " -> " << r.error;
    }
};

TEST_F(AuthLocal, TableIsComplete) {
    EXPECT_EQ(auth().struct_size, sizeof(moolai_auth_v1));
    EXPECT_NE(auth().hash_password, nullptr);
    EXPECT_NE(auth().verify_password, nullptr);
    EXPECT_NE(auth().new_token, nullptr);
    EXPECT_NE(auth().hash_token, nullptr);
}

TEST_F(AuthLocal, HashThenVerify) {
    auto inst = make(kFast);
    Result h = hash(*inst, "correct horse battery staple");
    ASSERT_EQ(h.status, MOOLAI_OK) << h.error;
    EXPECT_EQ(h.output.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << h.output;

    Result ok = verify(*inst, h.output, "correct horse battery staple");
    EXPECT_EQ(ok.status, MOOLAI_OK) << ok.error;
    EXPECT_EQ(ok.output, "");  // same parameters: no upgrade

    Result wrong = verify(*inst, h.output, "correct horse battery stapl");
    EXPECT_EQ(wrong.status, MOOLAI_E_DENIED);
    EXPECT_EQ(wrong.output, "");
    EXPECT_EQ(verify(*inst, h.output, "").status, MOOLAI_E_DENIED);

    // Salted: the same password never hashes to the same string twice.
    Result again = hash(*inst, "correct horse battery staple");
    ASSERT_EQ(again.status, MOOLAI_OK);
    EXPECT_NE(again.output, h.output);
}

TEST_F(AuthLocal, PasswordsWithNulBytesAreWholeStrings) {
    auto inst = make(kFast);
    const std::string pw("ab\0cd", 5);
    Result h = hash(*inst, pw);
    ASSERT_EQ(h.status, MOOLAI_OK);
    EXPECT_EQ(verify(*inst, h.output, pw).status, MOOLAI_OK);
    EXPECT_EQ(verify(*inst, h.output, "ab").status, MOOLAI_E_DENIED);
}

TEST_F(AuthLocal, RejectsEmptyPassword) {
    auto inst = make(kFast);
    Result r = hash(*inst, "");
    EXPECT_EQ(r.status, MOOLAI_E_INVALID);
    EXPECT_NE(r.error.find("empty"), std::string::npos) << r.error;
    EXPECT_EQ(r.output, "");
}

TEST_F(AuthLocal, GarbageHashIsInvalidNotDenied) {
    auto inst = make(kFast);
    const std::string good = hash(*inst, "pw").output;
    const std::string garbage[] = {
        "",
        "not a hash",
        "$argon2id$",
        "$argon2id$v=19$m=19456,t=2,p=1$",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  // bcrypt
        good.substr(0, 20),
        std::string("$argon2id\0$v=19", 15),
        std::string(200, 'a'),
    };
    for (const std::string& g : garbage) {
        Result r = verify(*inst, g, "pw");
        EXPECT_EQ(r.status, MOOLAI_E_INVALID) << "hash: " << g;
        EXPECT_FALSE(r.error.empty());
    }
}

TEST_F(AuthLocal, VerifyOutputsUpgradedHashWhenParametersChanged) {
    auto old_params = make(kFast);
    auto new_params = make(R"({"argon2_opslimit": 3, "argon2_memlimit_mib": 20})");
    const std::string stored = hash(*old_params, "hunter2hunter2").output;

    Result r = verify(*new_params, stored, "hunter2hunter2");
    ASSERT_EQ(r.status, MOOLAI_OK) << r.error;
    EXPECT_EQ(r.output.rfind("$argon2id$v=19$m=20480,t=3,p=1$", 0), 0u) << r.output;

    // The upgraded hash verifies and needs no further upgrade.
    Result again = verify(*new_params, r.output, "hunter2hunter2");
    EXPECT_EQ(again.status, MOOLAI_OK);
    EXPECT_EQ(again.output, "");
    // A wrong password gets no upgrade.
    Result wrong = verify(*new_params, stored, "hunter3");
    EXPECT_EQ(wrong.status, MOOLAI_E_DENIED);
    EXPECT_EQ(wrong.output, "");
}

// Runs `threads` hashes at once (released together) on one instance and
// returns the peak of the plugin's hashes_in_flight gauge.
double peak_in_flight(Instance& inst, const moolai_auth_v1& auth, int threads) {
    std::mutex mu;
    std::condition_variable cv;
    bool go = false;
    std::vector<std::thread> pool;
    std::vector<moolai_status> status(threads, MOOLAI_E_INTERNAL);
    for (int i = 0; i < threads; ++i) {
        pool.emplace_back([&, i] {
            {
                std::unique_lock<std::mutex> lock(mu);
                cv.wait(lock, [&] { return go; });
            }
            status[i] = call([&](moolai_call* c) {
                            return auth.hash_password(inst.get(), c, str("pw" + std::to_string(i)));
                        }).status;
        });
    }
    {
        std::lock_guard<std::mutex> lock(mu);
        go = true;
    }
    cv.notify_all();
    for (auto& t : pool) t.join();
    for (int i = 0; i < threads; ++i) EXPECT_EQ(status[i], MOOLAI_OK) << "thread " << i;
    EXPECT_EQ(inst.host().gauge("hashes_in_flight").value_or(-1), 0);  // all slots returned
    return inst.host().gauge_peak("hashes_in_flight").value_or(-1);
}

TEST_F(AuthLocal, AtMostMaxConcurrentHashesInFlight) {
    auto inst = make(R"({"argon2_opslimit": 2, "argon2_memlimit_mib": 19,
                         "max_concurrent_hashes": 2})");
    EXPECT_EQ(peak_in_flight(*inst, auth(), 6), 2);
    EXPECT_GE(inst->host().counter("hash_waits_total"), 1);  // some callers queued
}

// The control for the test above: with room for all six, the same probe
// sees more than two in flight, so it can catch a limit that does not hold.
TEST_F(AuthLocal, ConcurrencyProbeSeesOverlapWithoutALimit) {
    auto inst = make(R"({"argon2_opslimit": 3, "argon2_memlimit_mib": 32,
                         "max_concurrent_hashes": 6})");
    EXPECT_GT(peak_in_flight(*inst, auth(), 6), 2);
}

TEST_F(AuthLocal, SerialLimitOfOne) {
    auto inst = make(R"({"argon2_opslimit": 2, "argon2_memlimit_mib": 19,
                         "max_concurrent_hashes": 1})");
    EXPECT_EQ(peak_in_flight(*inst, auth(), 4), 1);
}

TEST_F(AuthLocal, TokensAreUniqueBase64UrlAndComeWithTheirHash) {
    auto inst = make(kFast);
    const std::regex b64url("[A-Za-z0-9_-]{43}");
    const std::regex hex("[0-9a-f]{64}");
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) {
        Result r = token(*inst);
        ASSERT_EQ(r.status, MOOLAI_OK) << r.error;
        const auto j = nlohmann::json::parse(r.output);
        ASSERT_EQ(j.size(), 2u) << r.output;
        const std::string t = j.at("token"), th = j.at("token_hash");
        EXPECT_TRUE(std::regex_match(t, b64url)) << t;
        EXPECT_TRUE(std::regex_match(th, hex)) << th;
        EXPECT_EQ(hash_token(*inst, t).output, th);
        EXPECT_TRUE(seen.insert(t).second) << "duplicate token " << t;
    }
}

TEST_F(AuthLocal, HashTokenIsBlake2b256HexDeterministicAndPepperDependent) {
    auto plain = make(kFast);
    auto peppered = make(R"({"token_pepper": "pepper-0123456789"})");
    auto other = make(R"({"token_pepper": "pepper-0123456780"})");
    // Known answers (BLAKE2b-256 of "abc", unkeyed and keyed).
    EXPECT_EQ(hash_token(*plain, "abc").output,
              "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    EXPECT_EQ(hash_token(*peppered, "abc").output,
              "64c1bbcf86852a409937c48ca56d0a15d942614f7f7915dfb84ccf5402ec3703");
    const std::string t = "some-token-value";
    EXPECT_EQ(hash_token(*plain, t).output, hash_token(*plain, t).output);
    EXPECT_EQ(hash_token(*peppered, t).output, hash_token(*peppered, t).output);
    EXPECT_NE(hash_token(*plain, t).output, hash_token(*peppered, t).output);
    EXPECT_NE(hash_token(*peppered, t).output, hash_token(*other, t).output);
    EXPECT_NE(hash_token(*plain, t).output, hash_token(*plain, t + "x").output);
    Result empty = hash_token(*plain, "");
    EXPECT_EQ(empty.status, MOOLAI_E_INVALID);
    EXPECT_EQ(empty.output, "");
}

TEST_F(AuthLocal, RejectsBadConfigNamingTheField) {
    expect_rejected(R"({"argon2_opslimit": 1})", "argon2_opslimit");
    expect_rejected(R"({"argon2_opslimit": 33})", "argon2_opslimit");
    expect_rejected(R"({"argon2_opslimit": "2"})", "argon2_opslimit");
    expect_rejected(R"({"argon2_opslimit": 2.5})", "argon2_opslimit");
    expect_rejected(R"({"argon2_memlimit_mib": 8})", "argon2_memlimit_mib");
    expect_rejected(R"({"argon2_memlimit_mib": 4097})", "argon2_memlimit_mib");
    expect_rejected(R"({"argon2_memlimit_mib": -64})", "argon2_memlimit_mib");
    expect_rejected(R"({"max_concurrent_hashes": 0})", "max_concurrent_hashes");
    expect_rejected(R"({"max_concurrent_hashes": 257})", "max_concurrent_hashes");
    expect_rejected(R"({"max_concurrent_hashes": null})", "max_concurrent_hashes");
    expect_rejected(R"({"token_pepper": "too-short"})", "token_pepper");
    expect_rejected(R"({"token_pepper": 1234567890123456789})", "token_pepper");
    expect_rejected(R"({"token_pepper": ")" + std::string(65, 'p') + "\"}", "token_pepper");
    expect_rejected(R"({"argon2_opslimit": 2, "memlimit": 64})", "memlimit");
}

TEST_F(AuthLocal, AcceptsDefaultsAndIntegralFloats) {
    EXPECT_NE(make("{}"), nullptr);
    EXPECT_NE(make(R"({"argon2_opslimit": 3.0, "max_concurrent_hashes": 4,
                       "token_pepper": "0123456789abcdef"})"),
              nullptr);
}

TEST_F(AuthLocal, DefaultParametersAreInteractive) {
    auto inst = make("{}");
    Result h = hash(*inst, "pw");
    ASSERT_EQ(h.status, MOOLAI_OK);
    EXPECT_EQ(h.output.rfind("$argon2id$v=19$m=65536,t=2,p=1$", 0), 0u) << h.output;
}

}  // namespace
