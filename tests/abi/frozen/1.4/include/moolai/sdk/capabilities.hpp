// moolai/sdk/capabilities.hpp -- one base class per capability. A plugin
// class derives from sdk::Plugin and from each capability it offers; the
// export macro (moolai/sdk/export.hpp) builds the C tables from them.
//
// Every method mirrors one function of moolai/plugin_api.h, whose comment
// is the contract, with the same name and parameter names (checked in
// tests/abi/tables/). Methods return a Status, write results with
// call.output(), and may throw (sdk::Error keeps its status; anything else
// becomes MOOLAI_E_INTERNAL). Arguments are borrowed for the call.
#ifndef MOOLAI_SDK_CAPABILITIES_HPP
#define MOOLAI_SDK_CAPABILITIES_HPP

#include <cstdint>
#include <string_view>

#include "moolai/sdk/core.hpp"

namespace moolai::sdk {

using Str = std::string_view;

class Auth {
public:
    virtual ~Auth() = default;
    virtual Status hash_password(Call& call, Str password) = 0;
    virtual Status verify_password(Call& call, Str encoded_hash, Str password) = 0;
    virtual Status new_token(Call& call) = 0;
    virtual Status hash_token(Call& call, Str token) = 0;
};

class IndependencePolicy {
public:
    virtual ~IndependencePolicy() = default;
    // HOT PATH: no blocking, no I/O. Set `decision` to MOOLAI_HEARTBEAT_*.
    virtual Status on_heartbeat(Call& call, const moolai_heartbeat_info& heartbeat,
                                uint32_t& decision) = 0;
    virtual Status on_toggle(Call&, const moolai_toggle_request&) { return MOOLAI_OK; }
};

class Messaging {
public:
    virtual ~Messaging() = default;
    virtual Status accept(Call& call, Str message_json) = 0;
    // Set `decision` to MOOLAI_ROUTE_*.
    virtual Status route(Call& call, const moolai_route_request& request, uint32_t& decision) = 0;
    virtual Status render(Call& call, Str message_json) = 0;
};

class Observer {
public:
    virtual ~Observer() = default;
    virtual Status on_event(Call& call, const moolai_event& event) = 0;
};

class Storage {
public:
    virtual ~Storage() = default;
    virtual Status migrate(Call& call) = 0;
    virtual Status ping(Call& call) = 0;

    virtual Status org_create(Call& call, Str record_json) = 0;
    virtual Status org_update(Call& call, Str organization_id, Str patch_json) = 0;
    virtual Status org_get(Call& call, Str organization_id) = 0;
    virtual Status org_list(Call& call, const moolai_query& query) = 0;
    virtual Status org_delete(Call& call, Str organization_id) = 0;

    virtual Status orch_create(Call& call, Str record_json) = 0;
    virtual Status orch_update(Call& call, Str orchestrator_id, Str patch_json) = 0;
    virtual Status orch_get(Call& call, Str orchestrator_id) = 0;
    virtual Status orch_list(Call& call, const moolai_query& query) = 0;
    virtual Status orch_delete(Call& call, Str orchestrator_id) = 0;
    virtual Status orch_scan(Call& call, moolai_orchestrator_row_fn fn, void* cookie) = 0;
    virtual Status orch_set_independence(Call& call, Str orchestrator_id, bool is_independent) = 0;
    virtual Status orch_set_credential(Call& call, Str orchestrator_id, Str credential_hash) = 0;
    // `row_size` is the caller's stride; read rows with sdk::row_at().
    virtual Status heartbeats_write(Call& call, const moolai_heartbeat_row* rows, uint64_t count,
                                    uint64_t row_size) = 0;

    virtual Status msg_create(Call& call, Str record_json) = 0;
    virtual Status msg_get(Call& call, Str message_id) = 0;
    virtual Status msg_list(Call& call, const moolai_query& query) = 0;
    virtual Status msg_set_status(Call& call, Str message_id, Str expected, Str status) = 0;
    virtual Status msg_update_delivery(Call& call, Str message_id, Str patch_json) = 0;

    virtual Status usage_insert(Call& call, Str record_json) = 0;
    virtual Status usage_aggregate(Call& call, const moolai_query& query) = 0;
    // 1.2, optional: a JSON array of usage records in one transaction, all
    // or none. The default says "unsupported" and the host falls back to
    // usage_insert per record.
    virtual Status usage_insert_batch(Call&, Str) { return MOOLAI_E_UNSUPPORTED; }

    virtual Status user_create(Call& call, Str record_json) = 0;
    virtual Status user_get(Call& call, Str username) = 0;
    virtual Status user_update(Call& call, Str username, Str patch_json) = 0;
    virtual Status user_list(Call& call, const moolai_query& query) = 0;
    virtual Status user_delete(Call& call, Str username) = 0;

    virtual Status session_create(Call& call, Str record_json) = 0;
    virtual Status session_get(Call& call, Str token_hash) = 0;
    virtual Status session_delete(Call& call, Str token_hash) = 0;
    virtual Status session_purge(Call& call, int64_t now_ms) = 0;

    virtual Status audit_append(Call& call, Str record_json) = 0;
    virtual Status audit_list(Call& call, const moolai_query& query) = 0;
    // 1.3, optional: checks the audit log's hash chain. The default says
    // "unsupported" (the plugin keeps no chain).
    virtual Status audit_verify(Call&) { return MOOLAI_E_UNSUPPORTED; }
    // 1.4, optional: several hosts on one store. The defaults say
    // "unsupported" (the plugin serves one host alone).
    virtual Status notify(Call&, Str, Str) { return MOOLAI_E_UNSUPPORTED; }
    virtual Status listen(Call&, Str) { return MOOLAI_E_UNSUPPORTED; }
    virtual Status host_lease(Call&, Str, int64_t, Str) {
        return MOOLAI_E_UNSUPPORTED;
    }
    virtual Status connections_write(Call&, Str, Str) {
        return MOOLAI_E_UNSUPPORTED;
    }
    virtual Status connections_list(Call&) { return MOOLAI_E_UNSUPPORTED; }
};

// Row i of an array passed with the caller's stride (see heartbeats_write).
inline const moolai_heartbeat_row& row_at(const moolai_heartbeat_row* rows, uint64_t i,
                                          uint64_t row_size) noexcept {
    return *reinterpret_cast<const moolai_heartbeat_row*>(reinterpret_cast<const char*>(rows) +
                                                          i * row_size);
}

}  // namespace moolai::sdk

#endif  // MOOLAI_SDK_CAPABILITIES_HPP
