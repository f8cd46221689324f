// independence_default through the C ABI.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "support/abi_test_host.hpp"

// Counts operator new calls in this process (plugins resolve operator new
// to the executable's definition, as they do in the host), to prove that
// on_heartbeat allocates nothing. Left out under AddressSanitizer, which
// has its own operator new.
#if defined(__SANITIZE_ADDRESS__)
#define MOOLAI_COUNT_NEW 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MOOLAI_COUNT_NEW 0
#endif
#endif
#ifndef MOOLAI_COUNT_NEW
#define MOOLAI_COUNT_NEW 1
#endif

#if MOOLAI_COUNT_NEW
static std::atomic<long> g_news{0};
void* operator new(std::size_t n) {
    g_news.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

using moolai::plugin_test::call;
using moolai::plugin_test::Instance;
using moolai::plugin_test::Library;
using moolai::plugin_test::Result;
using moolai::plugin_test::str;

namespace {

class IndependenceDefault : public ::testing::Test {
protected:
    static Library& lib() {
        static Library l(MOOLAI_TEST_INDEPENDENCE_DEFAULT);
        return l;
    }
    static const moolai_independence_v1& policy() {
        return *lib().capability<moolai_independence_v1>(MOOLAI_CAP_INDEPENDENCE);
    }
    static std::unique_ptr<Instance> make(const std::string& config) {
        Result r;
        auto inst = Instance::create(lib(), config, &r);
        EXPECT_NE(inst, nullptr) << r.error;
        return inst;
    }
    static Result heartbeat(Instance& i, uint32_t independent, uint32_t* decision) {
        moolai_heartbeat_info hb{};
        hb.struct_size = sizeof hb;
        hb.status = MOOLAI_ORCH_ACTIVE;
        hb.orchestrator_id = str("orch-1");
        hb.organization_id = str("org-1");
        hb.now_ms = 1'764'000'000'000;
        hb.is_independent = independent;
        return call([&](moolai_call* c) { return policy().on_heartbeat(i.get(), c, &hb, decision); });
    }
    static Result toggle(Instance& i, const std::string& org, uint32_t now, uint32_t requested) {
        moolai_toggle_request t{};
        t.struct_size = sizeof t;
        t.is_independent_now = now;
        t.orchestrator_id = str("orch-7");
        t.organization_id = str(org);
        t.actor = str("alice");
        t.is_independent_requested = requested;
        return call([&](moolai_call* c) { return policy().on_toggle(i.get(), c, &t); });
    }
};

TEST_F(IndependenceDefault, TableIsComplete) {
    EXPECT_EQ(policy().struct_size, sizeof(moolai_independence_v1));
    EXPECT_NE(policy().on_heartbeat, nullptr);
    EXPECT_NE(policy().on_toggle, nullptr);
}

TEST_F(IndependenceDefault, IgnoresHeartbeatsOfIndependentOrchestrators) {
    auto inst = make("{}");
    uint32_t decision = 99;
    Result r = heartbeat(*inst, 1, &decision);
    EXPECT_EQ(r.status, MOOLAI_OK);
    EXPECT_EQ(decision, MOOLAI_HEARTBEAT_IGNORE);
    EXPECT_EQ(r.output, "");

    decision = 99;
    r = heartbeat(*inst, 0, &decision);
    EXPECT_EQ(r.status, MOOLAI_OK);
    EXPECT_EQ(decision, MOOLAI_HEARTBEAT_PROCESS);
}

TEST_F(IndependenceDefault, HeartbeatAllocatesNothing) {
#if MOOLAI_COUNT_NEW
    auto inst = make(R"({"locked_organizations": ["acme"]})");
    moolai_heartbeat_info hb{};
    hb.struct_size = sizeof hb;
    hb.orchestrator_id = str("orch-1");
    hb.organization_id = str("acme");
    moolai::plugin_test::kit::detail::CallState c;
    uint32_t decision = 0;
    const long before = g_news.load();
    for (uint32_t i = 0; i < 10000; ++i) {
        hb.is_independent = i & 1u;
        ASSERT_EQ(policy().on_heartbeat(inst->get(), c.handle(), &hb, &decision), MOOLAI_OK);
        ASSERT_EQ(decision, (i & 1u) ? MOOLAI_HEARTBEAT_IGNORE : MOOLAI_HEARTBEAT_PROCESS);
    }
    EXPECT_EQ(g_news.load() - before, 0);
    // The probe works: a call that does allocate (a denial message) is seen.
    moolai_toggle_request t{};
    t.struct_size = sizeof t;
    t.organization_id = str("acme");
    const long before_toggle = g_news.load();
    EXPECT_EQ(policy().on_toggle(inst->get(), c.handle(), &t), MOOLAI_E_DENIED);
    EXPECT_GT(g_news.load() - before_toggle, 0);
#else
    GTEST_SKIP() << "operator new is AddressSanitizer's in this build";
#endif
}

TEST_F(IndependenceDefault, NullArgumentsAreInvalidNotACrash) {
    auto inst = make("{}");
    uint32_t decision = 0;
    EXPECT_EQ(call([&](moolai_call* c) {
                  return policy().on_heartbeat(inst->get(), c, nullptr, &decision);
              }).status,
              MOOLAI_E_INVALID);
    EXPECT_EQ(call([&](moolai_call* c) {
                  return policy().on_toggle(inst->get(), c, nullptr);
              }).status,
              MOOLAI_E_INVALID);
}

TEST_F(IndependenceDefault, AllowsEveryToggleByDefault) {
    auto inst = make("{}");
    EXPECT_EQ(toggle(*inst, "org-1", 0, 1).status, MOOLAI_OK);
    EXPECT_EQ(toggle(*inst, "org-1", 1, 0).status, MOOLAI_OK);
    EXPECT_EQ(toggle(*inst, "", 0, 1).status, MOOLAI_OK);
}

TEST_F(IndependenceDefault, DeniesTogglesInLockedOrganizationsNamingThem) {
    auto inst = make(R"({"locked_organizations": ["acme", "globex"]})");
    for (uint32_t requested : {0u, 1u}) {
        Result r = toggle(*inst, "globex", 1 - requested, requested);
        EXPECT_EQ(r.status, MOOLAI_E_DENIED);
        EXPECT_NE(r.error.find("\"globex\""), std::string::npos) << r.error;
    }
    EXPECT_EQ(toggle(*inst, "initech", 0, 1).status, MOOLAI_OK);
    EXPECT_EQ(toggle(*inst, "acm", 0, 1).status, MOOLAI_OK);    // exact match only
    EXPECT_EQ(toggle(*inst, "ACME", 0, 1).status, MOOLAI_OK);   // ids are case-sensitive
    EXPECT_EQ(toggle(*inst, "acme", 0, 1).status, MOOLAI_E_DENIED);

    // Heartbeats are unaffected by the lock.
    uint32_t decision = 99;
    EXPECT_EQ(heartbeat(*inst, 0, &decision).status, MOOLAI_OK);
    EXPECT_EQ(decision, MOOLAI_HEARTBEAT_PROCESS);
}

TEST_F(IndependenceDefault, RejectsBadConfigNamingTheField) {
    const std::pair<const char*, const char*> cases[] = {
        {R"({"locked_organizations": "acme"})", "\"locked_organizations\""},
        {R"({"locked_organizations": {"acme": true}})", "\"locked_organizations\""},
        {R"({"locked_organizations": ["acme", 7]})", "\"locked_organizations[1]\""},
        {R"({"locked_organizations": [""]})", "\"locked_organizations[0]\""},
        {R"({"locked_orgs": []})", "\"locked_orgs\""},
    };
    for (const auto& [config, field] : cases) {
        Result r;
        EXPECT_EQ(Instance::create(lib(), config, &r), nullptr) << config;
        EXPECT_EQ(r.status, MOOLAI_E_INVALID) << config;
        EXPECT_NE(r.error.find(field), std::string::npos) << config << " -> " << r.error;
    }
    EXPECT_NE(make(R"({"locked_organizations": []})"), nullptr);
}

}  // namespace
