// The pieces of degraded mode on their own: SessionCache (bounds, age,
// expiry, deferred logouts) and StorageState (one change per transition,
// the gauge and counter, the prober, on_up).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "auth/session_cache.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "plugins/storage_state.hpp"
#include "rest/rest_support.hpp"

namespace moolai::host {
namespace {

using namespace std::chrono_literals;

const Principal kAlice{"alice", "superadmin", ""};

TEST(SessionCache, ServesWithinMaxAgeAndBeforeExpiry) {
    SessionCache cache(10, 1000, 10);
    cache.remember("h", kAlice, 5000, 5800);
    ASSERT_TRUE(cache.find("h", 5000));
    EXPECT_EQ(cache.find("h", 5500)->username, "alice");
    EXPECT_FALSE(cache.find("h", 5800)) << "the session itself expired";
    cache.remember("h", kAlice, 5000, 100000);
    EXPECT_TRUE(cache.find("h", 6000));
    EXPECT_FALSE(cache.find("h", 6001)) << "validated too long ago";
    EXPECT_FALSE(cache.find("other", 5000));
}

TEST(SessionCache, DropsTheLeastRecentlyValidatedWhenFull) {
    SessionCache cache(2, 1000, 10);
    cache.remember("a", kAlice, 1, 100000);
    cache.remember("b", kAlice, 2, 100000);
    cache.remember("a", kAlice, 3, 100000);  // a validated again: b is now the oldest
    cache.remember("c", kAlice, 4, 100000);
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_TRUE(cache.find("a", 10));
    EXPECT_FALSE(cache.find("b", 10));
    EXPECT_TRUE(cache.find("c", 10));
    cache.forget("a");
    EXPECT_FALSE(cache.find("a", 10));
}

TEST(SessionCache, ADeferredLogoutIsRefusedUntilDoneAndTheListIsBounded) {
    SessionCache cache(10, 1000, 2);
    cache.remember("a", kAlice, 1, 100000);
    ASSERT_TRUE(cache.revoke_later("a"));
    EXPECT_FALSE(cache.find("a", 10));
    EXPECT_TRUE(cache.revocation_pending("a"));
    cache.remember("a", kAlice, 2, 100000);  // a stale validation racing the logout
    EXPECT_FALSE(cache.find("a", 10)) << "pending revocation wins";
    ASSERT_TRUE(cache.revoke_later("b"));
    EXPECT_TRUE(cache.revoke_later("b")) << "again: no new room needed";
    EXPECT_FALSE(cache.revoke_later("c")) << "full";
    EXPECT_EQ(cache.pending_revocations().size(), 2u);
    cache.revocation_done("a");
    EXPECT_FALSE(cache.revocation_pending("a"));
    EXPECT_TRUE(cache.revoke_later("c"));
}

// A new password or role ended the user's sessions in storage: the cache
// must not serve them during a later outage (but the one kept).
TEST(SessionCache, ForgetsEveryEntryOfAUserButTheKeptOne) {
    SessionCache cache(10, 1000, 10);
    const Principal bob{"bob", "org_admin", "acme"};
    cache.remember("a1", kAlice, 1, 100000);
    cache.remember("a2", kAlice, 2, 100000);
    cache.remember("a3", kAlice, 3, 100000);
    cache.remember("b1", bob, 4, 100000);
    cache.forget_user("alice", "a2");
    EXPECT_FALSE(cache.find("a1", 10));
    EXPECT_TRUE(cache.find("a2", 10));
    EXPECT_FALSE(cache.find("a3", 10));
    EXPECT_TRUE(cache.find("b1", 10));
    EXPECT_EQ(cache.size(), 2u);
    cache.forget_user("alice", "");
    EXPECT_FALSE(cache.find("a2", 10));
    // The age list stayed consistent: filling up drops the oldest, not a freed entry.
    for (int i = 0; i < 12; ++i) cache.remember("n" + std::to_string(i), bob, 10 + i, 100000);
    EXPECT_EQ(cache.size(), 10u);
    EXPECT_FALSE(cache.find("b1", 30));
    EXPECT_TRUE(cache.find("n11", 30));
}

CallResult result(moolai_status s, std::string error = "") {
    CallResult r;
    r.status = s;
    r.error = std::move(error);
    return r;
}

bool eventually(const std::function<bool()>& probe, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (probe()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return probe();
}

TEST(StorageState, OneLineAndOneCountPerChange) {
    Log log;
    Metrics metrics;
    StorageState state(log, metrics);
    EXPECT_TRUE(state.up());
    state.observe(result(MOOLAI_OK));
    state.observe(result(MOOLAI_E_INTERNAL));  // says nothing about reachability
    EXPECT_EQ(state.transitions(), 0u);
    for (int i = 0; i < 5; ++i) state.observe(result(MOOLAI_E_UNAVAILABLE, "refused"));
    EXPECT_FALSE(state.up());
    EXPECT_NE(metrics.render_prometheus().find("\nmoolai_storage_up 0\n"), std::string::npos);
    state.observe(result(MOOLAI_E_NOT_FOUND));  // the database answered
    state.observe(result(MOOLAI_OK));
    EXPECT_TRUE(state.up());
    EXPECT_EQ(state.transitions(), 2u);
    const std::string text = metrics.render_prometheus();
    EXPECT_NE(text.find("\nmoolai_storage_up 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\nmoolai_storage_state_changes_total 2\n"), std::string::npos) << text;
    std::string lines;
    for (const LogLine& l : log.recent(100)) lines += l.text + "\n";
    EXPECT_EQ(lines.find("storage unreachable: refused"),
              lines.rfind("storage unreachable: refused"));
    EXPECT_NE(lines.find("storage unreachable: refused"), std::string::npos) << lines;
    EXPECT_NE(lines.find("storage is reachable again"), std::string::npos) << lines;
}

TEST(StorageState, ProberPingsWhileDownAndOnUpRunsOncePerReturn) {
    Log log;
    Metrics metrics;
    StorageState state(log, metrics);
    std::atomic<int> pings{0}, ups{0};
    std::atomic<bool> reachable{false};
    state.on_up([&] { ++ups; });
    state.start_prober(
        [&] {
            ++pings;
            state.observe(result(reachable ? MOOLAI_OK : MOOLAI_E_UNAVAILABLE, "down"));
        },
        std::chrono::milliseconds(1000));
    state.observe(result(MOOLAI_E_UNAVAILABLE, "down"));
    ASSERT_TRUE(eventually([&] { return pings >= 1; }, 5s));
    EXPECT_EQ(ups, 0);
    reachable = true;
    ASSERT_TRUE(eventually([&] { return state.up() && ups == 1; }, 5s));
    const int after = pings;
    state.observe(result(MOOLAI_OK));
    EXPECT_EQ(pings, after) << "no pinging while up";
    EXPECT_EQ(ups, 1);
    state.stop();
}

TEST(PublicErrorText, HidesConnectionDetailsAndKeepsTheRest) {
    using RestApi::public_error_text;
    const std::string generic = "the storage plugin failed";
    EXPECT_EQ(public_error_text("postgresql unavailable: connection to server at \"db\" "
                                "(10.0.0.5), port 5432 failed: Connection refused"),
              generic);
    EXPECT_EQ(public_error_text("bad conninfo host=db port=5432 dbname=x"), generic);
    EXPECT_EQ(public_error_text("postgresql://moolai@db:5432/moolai"), generic);
    EXPECT_EQ(public_error_text("could not connect to server: No such file or directory "
                                "Is the server running locally and accepting connections on "
                                "Unix domain socket \"/run/postgresql/.s.PGSQL.5432\"?"),
              generic);
    EXPECT_EQ(public_error_text("organization \"acme\" exists"), "organization \"acme\" exists");
    EXPECT_EQ(public_error_text("unsupported by this plugin; see the report"),
              "unsupported by this plugin; see the report");
}

TEST(StorageError, UnavailableIs503WithRetryAfterAndAFixedMessage) {
    CallResult r = result(MOOLAI_E_UNAVAILABLE, "connection to server at \"db\", port 5432");
    const HttpResponse h = RestApi::storage_error(r);
    EXPECT_EQ(h.status, 503);
    EXPECT_EQ(h.body.find("5432"), std::string::npos) << h.body;
    bool retry_after = false;
    for (const auto& [k, v] : h.headers) retry_after |= k == "Retry-After" && v == "5";
    EXPECT_TRUE(retry_after);
}

// A listing says which order storage applied: the echo of a 1.3 plugin, or
// null for the default order -- also when a plugin built before 1.3
// ignored the sort it was asked for (its output has no echo).
TEST(Listing, SaysWhichOrderStorageApplied) {
    CallResult sorted = result(MOOLAI_OK);
    sorted.output = R"({"items":[],"total":0,"sort":"name","order":"desc"})";
    const auto applied = nlohmann::json::parse(RestApi::listing(sorted, 1, 50).body);
    EXPECT_EQ(applied["data"]["sort"], "name");
    EXPECT_EQ(applied["data"]["order"], "desc");
    CallResult old = result(MOOLAI_OK);
    old.output = R"({"items":[],"total":0})";
    const auto fallback = nlohmann::json::parse(RestApi::listing(old, 1, 50).body);
    ASSERT_TRUE(fallback["data"].contains("sort"));
    EXPECT_TRUE(fallback["data"]["sort"].is_null());
    EXPECT_TRUE(fallback["data"]["order"].is_null());
}

}  // namespace
}  // namespace moolai::host
