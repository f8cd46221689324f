// Minor-version tolerance, both directions, through the real loader and
// the host's capability clients:
//   - a plugin built against the frozen 1.0 headers and SDK loads into this
//     host and answers through every 1.0 entry of every table;
//   - a plugin built as if against 1.6 (longer descriptor, table and event,
//     abi_minor_built above the host's, abi_minor_required 1) loads, is
//     read only as far as this host knows, and uses the 1.1 config services.
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "config_cases.hpp"
#include "events/event.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "plugins/capability_clients.hpp"
#include "plugins/host_services.hpp"
#include "plugins/plugin_loader.hpp"

namespace moolai::host {
namespace {

using nlohmann::json;

class AbiCompat : public ::testing::Test {
protected:
    Log log{200};
    Metrics metrics;
    HostServices services;
    std::mutex mu;
    std::vector<Event> published;
    std::unique_ptr<PluginLoader> loader;

    void SetUp() override {
        services.log = &log;
        services.metrics = &metrics;
        services.publish = [this](Event&& e) {
            std::lock_guard<std::mutex> lock(mu);
            published.push_back(std::move(e));
        };
        loader = std::make_unique<PluginLoader>(services);
    }
};

std::string out(const CallResult& r) {
    EXPECT_TRUE(r.ok()) << status_name(r.status) << ": " << r.error;
    return r.output;
}

TEST_F(AbiCompat, AFrozen10PluginLoadsAndAnswersThroughEvery10Entry) {
    auto p = loader->load(FROZEN_1_0_PLUGIN, json{{"any", "config"}});
    EXPECT_EQ(p->abi_version(), "1.0");
    EXPECT_EQ(p->abi_minor_required(), 0u);
    EXPECT_EQ(p->capabilities(), MOOLAI_CAP_AUTH | MOOLAI_CAP_INDEPENDENCE | MOOLAI_CAP_MESSAGING |
                                     MOOLAI_CAP_OBSERVER | MOOLAI_CAP_STORAGE);
    bool logged = false;
    for (const LogLine& l : log.recent(50))
        logged |= l.source == "frozen_1_0" &&
                  l.text == "created by a host of ABI 1.5 with config {\"any\":\"config\"}";
    EXPECT_TRUE(logged);

    AuthClient auth(*p);
    EXPECT_EQ(out(auth.hash_password("pw")), "hash_password(pw)");
    EXPECT_EQ(out(auth.verify_password("h", "pw")), "verify_password(h,pw)");
    EXPECT_EQ(out(auth.new_token()), "new_token()");
    EXPECT_EQ(out(auth.hash_token("t")), "hash_token(t)");

    IndependenceClient policy(*p);
    moolai_heartbeat_info hb{};
    hb.struct_size = sizeof hb;
    uint32_t decision = 99;
    const std::string ignored = "ignore-me", kept = "keep-me";
    hb.orchestrator_id = moolai_str{ignored.data(), ignored.size()};
    ASSERT_TRUE(policy.on_heartbeat(hb, decision).ok());
    EXPECT_EQ(decision, MOOLAI_HEARTBEAT_IGNORE);
    hb.orchestrator_id = moolai_str{kept.data(), kept.size()};
    ASSERT_TRUE(policy.on_heartbeat(hb, decision).ok());
    EXPECT_EQ(decision, MOOLAI_HEARTBEAT_PROCESS);
    moolai_toggle_request toggle{};
    toggle.struct_size = sizeof toggle;
    const std::string locked = "locked";
    toggle.organization_id = moolai_str{locked.data(), locked.size()};
    CallResult refused = policy.on_toggle(toggle);
    EXPECT_EQ(refused.status, MOOLAI_E_DENIED);
    EXPECT_EQ(refused.error, "locked by 1.0");

    MessagingClient messaging(*p);
    EXPECT_EQ(out(messaging.accept("{}")), "accept({})");
    moolai_route_request route{};
    route.struct_size = sizeof route;
    route.is_connected = 1;
    ASSERT_TRUE(messaging.route(route, decision).ok());
    EXPECT_EQ(decision, MOOLAI_ROUTE_FORWARD);
    EXPECT_EQ(out(messaging.render("m")), "render(m)");

    ObserverClient observer(*p);
    Event e = Event::about(MOOLAI_EVENT_STATUS_CHANGED, "org", "orch-7", "inactive", "active", "system");
    EXPECT_EQ(out(observer.on_event(e.view())), "on_event(3,orch-7)");

    StorageClient s(*p);
    Query q;
    q.offset = 5;
    q.limit = 7;
    q.organization_id = "org";
    q.search = "needle";
    q.kind = "k";
    const std::string qs = "q(5,7,org,needle,k)";
    // A 1.3 host's query is longer (sort, descending): the 1.0 plugin reads
    // its own part and answers as before; the listing it returns has no
    // "sort" echo, so the REST answer says the default order (Listing.*).
    q.sort = "name";
    q.descending = true;
    EXPECT_EQ(out(s.migrate()), "migrate()");
    EXPECT_EQ(out(s.ping()), "ping()");
    EXPECT_EQ(out(s.org_create("r")), "org_create(r)");
    EXPECT_EQ(out(s.org_update("o", "p")), "org_update(o,p)");
    EXPECT_EQ(out(s.org_get("o")), "org_get(o)");
    EXPECT_EQ(out(s.org_list(q)), "org_list(" + qs + ")");
    EXPECT_EQ(out(s.org_delete("o")), "org_delete(o)");
    EXPECT_EQ(out(s.orch_create("r")), "orch_create(r)");
    EXPECT_EQ(out(s.orch_update("x", "p")), "orch_update(x,p)");
    EXPECT_EQ(out(s.orch_get("x")), "orch_get(x)");
    EXPECT_EQ(out(s.orch_list(q)), "orch_list(" + qs + ")");
    EXPECT_EQ(out(s.orch_delete("x")), "orch_delete(x)");
    std::vector<std::string> scanned;
    ASSERT_TRUE(s.orch_scan([&](const moolai_orchestrator_row& row) {
                     scanned.emplace_back(row.orchestrator_id.ptr, row.orchestrator_id.len);
                     return MOOLAI_OK;
                 }).ok());
    EXPECT_EQ(scanned, std::vector<std::string>{"scanned-1"});
    EXPECT_EQ(out(s.orch_set_independence("x", true)), "orch_set_independence(x,1)");
    EXPECT_EQ(out(s.orch_set_credential("x", "h")), "orch_set_credential(x,h)");
    moolai_heartbeat_row rows[2]{};
    const std::string a = "a", b = "b";
    rows[0].orchestrator_id = moolai_str{a.data(), a.size()};
    rows[1].orchestrator_id = moolai_str{b.data(), b.size()};
    EXPECT_EQ(out(s.heartbeats_write(rows, 2)), "heartbeats_write(a;b;)");
    EXPECT_EQ(out(s.msg_create("r")), "msg_create(r)");
    EXPECT_EQ(out(s.msg_get("m")), "msg_get(m)");
    EXPECT_EQ(out(s.msg_list(q)), "msg_list(" + qs + ")");
    EXPECT_EQ(out(s.msg_set_status("m", "pending", "accepted")), "msg_set_status(m,pending,accepted)");
    EXPECT_EQ(out(s.msg_update_delivery("m", "p")), "msg_update_delivery(m,p)");
    EXPECT_EQ(out(s.usage_insert("r")), "usage_insert(r)");
    EXPECT_EQ(out(s.usage_aggregate(q)), "usage_aggregate(" + qs + ")");
    EXPECT_EQ(out(s.user_create("r")), "user_create(r)");
    EXPECT_EQ(out(s.user_get("u")), "user_get(u)");
    EXPECT_EQ(out(s.user_update("u", "p")), "user_update(u,p)");
    EXPECT_EQ(out(s.user_list(q)), "user_list(" + qs + ")");
    EXPECT_EQ(out(s.user_delete("u")), "user_delete(u)");
    EXPECT_EQ(out(s.session_create("r")), "session_create(r)");
    EXPECT_EQ(out(s.session_get("t")), "session_get(t)");
    EXPECT_EQ(out(s.session_delete("t")), "session_delete(t)");
    EXPECT_EQ(out(s.session_purge(42)), "session_purge(42)");
    EXPECT_EQ(out(s.audit_append("r")), "audit_append(r)");
    EXPECT_EQ(out(s.audit_list(q)), "audit_list(" + qs + ")");
    // 1.2's batch insert is past the end of its 1.0 table: never read, and
    // the client says so (the storage writer then inserts one by one).
    const CallResult batch = s.usage_insert_batch("[]");
    EXPECT_EQ(batch.status, MOOLAI_E_UNSUPPORTED);
    EXPECT_NE(batch.error.find("no usage_insert_batch"), std::string::npos) << batch.error;
    // 1.3's audit chain check likewise: the plugin keeps no chain.
    const CallResult verify = s.audit_verify();
    EXPECT_EQ(verify.status, MOOLAI_E_UNSUPPORTED);
    EXPECT_NE(verify.error.find("keeps no audit chain"), std::string::npos) << verify.error;
    // 1.4's several-hosts entries likewise: the plugin serves one host alone.
    EXPECT_FALSE(s.shares_hosts());
    const CallResult lease = s.host_lease("host-a", 15000, "{}");
    EXPECT_EQ(lease.status, MOOLAI_E_UNSUPPORTED);
    EXPECT_NE(lease.error.find("serves one host alone"), std::string::npos) << lease.error;
    EXPECT_EQ(s.notify("moolai_cluster", "{}").status, MOOLAI_E_UNSUPPORTED);
    // And 1.5's leased batch: the host renews the lease apart.
    const CallResult leased = s.heartbeats_write_leased(nullptr, 0, "host-a", 15000, "{}");
    EXPECT_EQ(leased.status, MOOLAI_E_UNSUPPORTED);
    EXPECT_NE(leased.error.find("renewed in a transaction of its own"), std::string::npos)
        << leased.error;
}

TEST_F(AbiCompat, ANewerMinorPluginLoadsAndIsReadOnlyAsFarAsThisHostKnows) {
    auto p = loader->load(NEWER_MINOR_PLUGIN, json{{"greeting", "hello from 1.6"}});
    EXPECT_EQ(p->abi_version(), "1.6");
    EXPECT_EQ(p->abi_minor_required(), 1u);
    ObserverClient observer(*p);
    Event e = Event::about(MOOLAI_EVENT_STATUS_CHANGED, "org", "orch-1", "inactive", "active", "system");
    // The greeting came through config_string; "0" is MOOLAI_OK for the
    // 1.6-sized event it emitted; the 1.6 entries were never called (they abort).
    EXPECT_EQ(out(observer.on_event(e.view())), "hello from 1.6|3|0");
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(published.size(), 1u);
    EXPECT_EQ(published[0].kind, MOOLAI_EVENT_CUSTOM);
    EXPECT_EQ(published[0].source, "newer_minor");
    EXPECT_EQ(published[0].detail_json, "{\"from\":\"the future\"}");
}

TEST_F(AbiCompat, ANewerMinorPluginStillMeetsItsSchemaAndItsOwnChecks) {
    try {
        loader->load(NEWER_MINOR_PLUGIN, json::object());
        FAIL() << "loaded without its required greeting";
    } catch (const PluginRefused& e) {
        EXPECT_NE(std::string(e.what()).find("plugin ABI 1.6 (requires 1.1), host ABI 1.5"),
                  std::string::npos)
            << e.what();
    }
}

// Every config reader through the host's config services (the fake host's
// tests/testkit asks the same and must answer the same).
TEST_F(AbiCompat, TheConfigServicesAnswerEveryReaderByJsonPointer) {
    auto p = loader->load(CONFIG_PROBE_PLUGIN, json::parse(moolai::test::kProbeConfig));
    Event e = Event::about(MOOLAI_EVENT_CUSTOM, "", "", "", "", "test");
    e.detail_json = moolai::test::config_batch().first;
    moolai::test::expect_config_answers(out(ObserverClient(*p).on_event(e.view())));
}

}  // namespace
}  // namespace moolai::host
