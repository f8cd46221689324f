// Typed C++ faces of the capability tables of loaded plugins. Each method
// is one ABI call under the plugin's threading rule; strings are borrowed
// for the call, results come back copied in a CallResult.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/loaded_plugin.hpp"

namespace moolai::host {

// An owned listing query; view() lends it as a moolai_query.
struct Query {
    uint64_t offset = 0;
    uint64_t limit = 0;
    std::string organization_id;
    std::string orchestrator_id;
    std::string status;
    std::string search;
    std::string kind;
    int64_t from_ms = 0;
    int64_t to_ms = 0;
    std::string sort;         // 1.3: a field to order by; "" = the default order
    bool descending = false;  // 1.3

    moolai_query view() const noexcept;
};

// One method per entry of moolai_storage_v1, with the entry's name and its
// parameters' names (tests/abi/tables/ fails when they drift apart).
class StorageClient {
public:
    explicit StorageClient(const LoadedPlugin& plugin) : plugin_(plugin), t_(plugin.storage()) {}
    const LoadedPlugin& plugin() const noexcept { return plugin_; }
    // Told the result of every call (StorageState learns reachability
    // from it). Set before the client is used from several threads.
    void set_observer(std::function<void(const CallResult&)> observer) {
        observer_ = std::move(observer);
    }

    CallResult migrate() const;
    CallResult ping() const;

    CallResult org_create(std::string_view record_json) const;
    CallResult org_update(std::string_view organization_id, std::string_view patch_json) const;
    CallResult org_get(std::string_view organization_id) const;
    CallResult org_list(const Query& query) const;
    CallResult org_delete(std::string_view organization_id) const;

    CallResult orch_create(std::string_view record_json) const;
    CallResult orch_update(std::string_view orchestrator_id, std::string_view patch_json) const;
    CallResult orch_get(std::string_view orchestrator_id) const;
    CallResult orch_list(const Query& query) const;
    CallResult orch_delete(std::string_view orchestrator_id) const;
    // Calls `fn` for every stored orchestrator; stops at the first non-OK.
    // The ABI's fn + cookie pair is this one callable.
    CallResult orch_scan(
        const std::function<moolai_status(const moolai_orchestrator_row&)>& fn) const;
    CallResult orch_set_independence(std::string_view orchestrator_id, bool is_independent) const;
    CallResult orch_set_credential(std::string_view orchestrator_id,
                                   std::string_view credential_hash) const;
    // row_size is this host's sizeof(moolai_heartbeat_row), passed for the caller.
    CallResult heartbeats_write(const moolai_heartbeat_row* rows, size_t count) const;

    CallResult msg_create(std::string_view record_json) const;
    CallResult msg_get(std::string_view message_id) const;
    CallResult msg_list(const Query& query) const;
    CallResult msg_set_status(std::string_view message_id, std::string_view expected,
                              std::string_view status) const;
    CallResult msg_update_delivery(std::string_view message_id, std::string_view patch_json) const;

    CallResult usage_insert(std::string_view record_json) const;
    CallResult usage_aggregate(const Query& query) const;

    CallResult user_create(std::string_view record_json) const;
    CallResult user_get(std::string_view username) const;
    CallResult user_update(std::string_view username, std::string_view patch_json) const;
    CallResult user_list(const Query& query) const;
    CallResult user_delete(std::string_view username) const;

    CallResult session_create(std::string_view record_json) const;
    CallResult session_get(std::string_view token_hash) const;
    CallResult session_delete(std::string_view token_hash) const;
    CallResult session_purge(int64_t now_ms) const;

    CallResult audit_append(std::string_view record_json) const;
    CallResult audit_list(const Query& query) const;

    // 1.2, optional: MOOLAI_E_UNSUPPORTED when the plugin's table ends
    // before it or leaves it NULL; the caller then inserts one by one.
    CallResult usage_insert_batch(std::string_view records_json) const;

    // 1.3, optional: MOOLAI_E_UNSUPPORTED when the plugin's table ends
    // before it or leaves it NULL (the plugin keeps no audit chain).
    CallResult audit_verify() const;

    // 1.4, optional (several hosts on one store): MOOLAI_E_UNSUPPORTED when
    // the plugin's table ends before them or leaves them NULL.
    CallResult notify(std::string_view channel, std::string_view payload) const;
    CallResult listen(std::string_view channel) const;
    CallResult host_lease(std::string_view host_id, int64_t lease_ms,
                          std::string_view info_json) const;
    CallResult connections_write(std::string_view host_id, std::string_view changes_json) const;
    CallResult connections_list() const;
    // True when the plugin has every 1.4 entry: it can serve several hosts.
    bool shares_hosts() const noexcept;
    // 1.5, optional: `count` rows and the lease in one transaction;
    // MOOLAI_E_UNSUPPORTED when the plugin has no such transaction (then
    // heartbeats_write and host_lease apart).
    CallResult heartbeats_write_leased(const moolai_heartbeat_row* rows, size_t count,
                                       std::string_view host_id, int64_t lease_ms,
                                       std::string_view info_json) const;

private:
    CallResult observed(CallResult r) const {
        if (observer_) observer_(r);
        return r;
    }

    const LoadedPlugin& plugin_;
    const moolai_storage_v1* t_;
    std::function<void(const CallResult&)> observer_;
};

class AuthClient {
public:
    explicit AuthClient(const LoadedPlugin& plugin) : plugin_(plugin), t_(plugin.auth()) {}
    CallResult hash_password(std::string_view password) const;
    CallResult verify_password(std::string_view encoded_hash, std::string_view password) const;
    CallResult new_token() const;
    CallResult hash_token(std::string_view token) const;

private:
    const LoadedPlugin& plugin_;
    const moolai_auth_v1* t_;
};

class IndependenceClient {
public:
    explicit IndependenceClient(const LoadedPlugin& plugin)
        : plugin_(plugin), t_(plugin.independence()) {}
    // HOT PATH: allocation-free unless the plugin reports an error.
    CallResult on_heartbeat(const moolai_heartbeat_info& heartbeat, uint32_t& decision) const;
    CallResult on_toggle(const moolai_toggle_request& request) const;

private:
    const LoadedPlugin& plugin_;
    const moolai_independence_v1* t_;
};

class MessagingClient {
public:
    explicit MessagingClient(const LoadedPlugin& plugin)
        : plugin_(plugin), t_(plugin.messaging()) {}
    CallResult accept(std::string_view message_json) const;
    CallResult route(const moolai_route_request& request, uint32_t& decision) const;
    CallResult render(std::string_view message_json) const;

private:
    const LoadedPlugin& plugin_;
    const moolai_messaging_v1* t_;
};

class ObserverClient {
public:
    explicit ObserverClient(const LoadedPlugin& plugin) : plugin_(plugin), t_(plugin.observer()) {}
    const LoadedPlugin& plugin() const noexcept { return plugin_; }
    CallResult on_event(const moolai_event& event) const;

private:
    const LoadedPlugin& plugin_;
    const moolai_observer_v1* t_;
};

}  // namespace moolai::host
