// A plugin as its author built it in the ABI 1.0 days: compiled against the
// frozen 1.0 headers (tests/abi/frozen/1.0: plugin_api and the SDK of that
// release) and nothing newer. It offers every capability, and every entry
// of every 1.0 table writes back its name and arguments, so the test can
// call each one through the current host and see that it arrived intact.
#include <moolai/sdk.hpp>
#include <string>

#if MOOLAI_ABI_MINOR != 0
#error "frozen_1_0_plugin must be built against tests/abi/frozen/1.0/include only"
#endif

namespace sdk = moolai::sdk;
using sdk::Call;
using sdk::Status;
using sdk::Str;

namespace {

std::string q(const moolai_query& query) {
    return "q(" + std::to_string(query.offset) + "," + std::to_string(query.limit) + "," +
           std::string(sdk::view(query.organization_id)) + "," +
           std::string(sdk::view(query.search)) + "," + std::string(sdk::view(query.kind)) + ")";
}

}  // namespace

class Frozen10 : public sdk::Plugin,
                 public sdk::Auth,
                 public sdk::IndependencePolicy,
                 public sdk::Messaging,
                 public sdk::Observer,
                 public sdk::Storage {
public:
    static constexpr const char* name = "frozen_1_0";
    static constexpr const char* version = "1.0.0";
    static constexpr const char* description = "built against the frozen ABI 1.0 headers";
    static constexpr uint32_t threading = MOOLAI_THREADING_CONCURRENT;

    Frozen10(sdk::Host host, std::string_view config) : Plugin(host) {
        host.info("created by a host of ABI 1." + std::to_string(host.abi_minor()) +
                  " with config " + std::string(config));
        host.metric_add("created", 1);
    }

    // The output of every call: "<function>(<arguments>)".
    static Status echo(Call& call, const std::string& text) { return call.output(text); }

    Status hash_password(Call& c, Str pw) override { return echo(c, "hash_password(" + std::string(pw) + ")"); }
    Status verify_password(Call& c, Str h, Str pw) override {
        return echo(c, "verify_password(" + std::string(h) + "," + std::string(pw) + ")");
    }
    Status new_token(Call& c) override { return echo(c, "new_token()"); }
    Status hash_token(Call& c, Str t) override { return echo(c, "hash_token(" + std::string(t) + ")"); }

    Status on_heartbeat(Call&, const moolai_heartbeat_info& hb, uint32_t& decision) override {
        decision = sdk::view(hb.orchestrator_id) == "ignore-me" ? MOOLAI_HEARTBEAT_IGNORE
                                                                : MOOLAI_HEARTBEAT_PROCESS;
        return MOOLAI_OK;
    }
    Status on_toggle(Call& c, const moolai_toggle_request& r) override {
        if (sdk::view(r.organization_id) == "locked") return c.fail(MOOLAI_E_DENIED, "locked by 1.0");
        return MOOLAI_OK;
    }

    Status accept(Call& c, Str m) override { return echo(c, "accept(" + std::string(m) + ")"); }
    Status route(Call&, const moolai_route_request& r, uint32_t& decision) override {
        decision = r.is_connected ? MOOLAI_ROUTE_FORWARD : MOOLAI_ROUTE_HOLD;
        return MOOLAI_OK;
    }
    Status render(Call& c, Str m) override { return echo(c, "render(" + std::string(m) + ")"); }

    Status on_event(Call& c, const moolai_event& e) override {
        return echo(c, "on_event(" + std::to_string(e.kind) + "," +
                           std::string(sdk::view(e.orchestrator_id)) + ")");
    }

    Status migrate(Call& c) override { return echo(c, "migrate()"); }
    Status ping(Call& c) override { return echo(c, "ping()"); }
#define FROZEN_S1(fn) \
    Status fn(Call& c, Str a) override { return echo(c, #fn "(" + std::string(a) + ")"); }
#define FROZEN_S2(fn)                                                                     \
    Status fn(Call& c, Str a, Str b) override {                                           \
        return echo(c, #fn "(" + std::string(a) + "," + std::string(b) + ")");            \
    }
#define FROZEN_Q(fn) \
    Status fn(Call& c, const moolai_query& query) override { return echo(c, #fn "(" + q(query) + ")"); }
    FROZEN_S1(org_create)
    FROZEN_S2(org_update)
    FROZEN_S1(org_get)
    FROZEN_Q(org_list)
    FROZEN_S1(org_delete)
    FROZEN_S1(orch_create)
    FROZEN_S2(orch_update)
    FROZEN_S1(orch_get)
    FROZEN_Q(orch_list)
    FROZEN_S1(orch_delete)
    Status orch_scan(Call&, moolai_orchestrator_row_fn fn, void* cookie) override {
        moolai_orchestrator_row row{};
        row.struct_size = sizeof row;  // the 1.0 size: this plugin knows no other
        row.status = MOOLAI_ORCH_ACTIVE;
        row.orchestrator_id = sdk::str("scanned-1");
        row.organization_id = sdk::str("org-1");
        row.last_seen_ms = 1234;
        return fn(cookie, &row);
    }
    Status orch_set_independence(Call& c, Str id, bool on) override {
        return echo(c, "orch_set_independence(" + std::string(id) + "," + (on ? "1" : "0") + ")");
    }
    FROZEN_S2(orch_set_credential)
    Status heartbeats_write(Call& c, const moolai_heartbeat_row* rows, uint64_t n,
                            uint64_t row_size) override {
        std::string out = "heartbeats_write(";
        for (uint64_t i = 0; i < n; ++i)
            out += std::string(sdk::view(sdk::row_at(rows, i, row_size).orchestrator_id)) + ";";
        return echo(c, out + ")");
    }
    FROZEN_S1(msg_create)
    FROZEN_S1(msg_get)
    FROZEN_Q(msg_list)
    Status msg_set_status(Call& c, Str id, Str expected, Str status) override {
        return echo(c, "msg_set_status(" + std::string(id) + "," + std::string(expected) + "," +
                           std::string(status) + ")");
    }
    FROZEN_S2(msg_update_delivery)
    FROZEN_S1(usage_insert)
    FROZEN_Q(usage_aggregate)
    FROZEN_S1(user_create)
    FROZEN_S1(user_get)
    FROZEN_S2(user_update)
    FROZEN_Q(user_list)
    FROZEN_S1(user_delete)
    FROZEN_S1(session_create)
    FROZEN_S1(session_get)
    FROZEN_S1(session_delete)
    Status session_purge(Call& c, int64_t now_ms) override {
        return echo(c, "session_purge(" + std::to_string(now_ms) + ")");
    }
    FROZEN_S1(audit_append)
    FROZEN_Q(audit_list)
#undef FROZEN_S1
#undef FROZEN_S2
#undef FROZEN_Q
};

MOOLAI_PLUGIN(Frozen10);
