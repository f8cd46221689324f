#include "plugins/capability_clients.hpp"

#include "common/abi_str.hpp"

namespace moolai::host {
moolai_query Query::view() const noexcept {
    moolai_query q{};
    q.struct_size = sizeof(q);
    q.offset = offset;
    q.limit = limit;
    q.organization_id = abi_str(organization_id);
    q.orchestrator_id = abi_str(orchestrator_id);
    q.status = abi_str(status);
    q.search = abi_str(search);
    q.kind = abi_str(kind);
    q.from_ms = from_ms;
    q.to_ms = to_ms;
    q.sort = abi_str(sort);
    q.descending = descending ? 1u : 0u;
    return q;
}

CallResult StorageClient::migrate() const {
    return observed(
        plugin_.call([&](moolai_instance* i, moolai_call* c) { return t_->migrate(i, c); }));
}

CallResult StorageClient::ping() const {
    return observed(
        plugin_.call([&](moolai_instance* i, moolai_call* c) { return t_->ping(i, c); }));
}

CallResult StorageClient::org_create(std::string_view record_json) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->org_create(i, c, abi_str(record_json));
    }));
}

CallResult StorageClient::org_update(std::string_view organization_id,
                                     std::string_view patch_json) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->org_update(i, c, abi_str(organization_id), abi_str(patch_json));
    }));
}

CallResult StorageClient::org_get(std::string_view organization_id) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->org_get(i, c, abi_str(organization_id));
    }));
}

CallResult StorageClient::org_list(const Query& query) const {
    const moolai_query q = query.view();
    return observed(
        plugin_.call([&](moolai_instance* i, moolai_call* c) { return t_->org_list(i, c, &q); }));
}

CallResult StorageClient::org_delete(std::string_view organization_id) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->org_delete(i, c, abi_str(organization_id));
    }));
}

CallResult StorageClient::orch_create(std::string_view record_json) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->orch_create(i, c, abi_str(record_json));
    }));
}

CallResult StorageClient::orch_update(std::string_view orchestrator_id,
                                      std::string_view patch_json) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->orch_update(i, c, abi_str(orchestrator_id), abi_str(patch_json));
    }));
}

CallResult StorageClient::orch_get(std::string_view orchestrator_id) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->orch_get(i, c, abi_str(orchestrator_id));
    }));
}

CallResult StorageClient::orch_list(const Query& query) const {
    const moolai_query q = query.view();
    return observed(
        plugin_.call([&](moolai_instance* i, moolai_call* c) { return t_->orch_list(i, c, &q); }));
}

CallResult StorageClient::orch_delete(std::string_view orchestrator_id) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->orch_delete(i, c, abi_str(orchestrator_id));
    }));
}

namespace {
struct ScanCookie {
    const std::function<moolai_status(const moolai_orchestrator_row&)>* fn;
};
moolai_status scan_row(void* cookie, const moolai_orchestrator_row* row) {
    if (row == nullptr || row->struct_size < MOOLAI_ORCHESTRATOR_ROW_SIZE_1_0)
        return MOOLAI_E_INVALID;
    try {
        return (*static_cast<ScanCookie*>(cookie)->fn)(*row);
    } catch (...) {
        return MOOLAI_E_INTERNAL;  // never let an exception unwind through the plugin
    }
}
}  // namespace

CallResult StorageClient::orch_scan(
    const std::function<moolai_status(const moolai_orchestrator_row&)>& fn) const {
    ScanCookie cookie{&fn};
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->orch_scan(i, c, &scan_row, &cookie);
    }));
}

CallResult StorageClient::orch_set_independence(std::string_view orchestrator_id,
                                                bool is_independent) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->orch_set_independence(i, c, abi_str(orchestrator_id), is_independent ? 1u : 0u);
    }));
}

CallResult StorageClient::orch_set_credential(std::string_view orchestrator_id,
                                              std::string_view credential_hash) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->orch_set_credential(i, c, abi_str(orchestrator_id), abi_str(credential_hash));
    }));
}

CallResult StorageClient::heartbeats_write(const moolai_heartbeat_row* rows, size_t count) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->heartbeats_write(i, c, rows, count, sizeof(moolai_heartbeat_row));
    }));
}

CallResult StorageClient::msg_create(std::string_view record_json) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->msg_create(i, c, abi_str(record_json));
    }));
}

CallResult StorageClient::msg_get(std::string_view message_id) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->msg_get(i, c, abi_str(message_id));
    }));
}

CallResult StorageClient::msg_list(const Query& query) const {
    const moolai_query q = query.view();
    return observed(
        plugin_.call([&](moolai_instance* i, moolai_call* c) { return t_->msg_list(i, c, &q); }));
}

CallResult StorageClient::msg_set_status(std::string_view message_id, std::string_view expected,
                                         std::string_view status) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->msg_set_status(i, c, abi_str(message_id), abi_str(expected), abi_str(status));
    }));
}

CallResult StorageClient::msg_update_delivery(std::string_view message_id,
                                              std::string_view patch_json) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->msg_update_delivery(i, c, abi_str(message_id), abi_str(patch_json));
    }));
}

CallResult StorageClient::usage_insert(std::string_view record_json) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->usage_insert(i, c, abi_str(record_json));
    }));
}

CallResult StorageClient::usage_aggregate(const Query& query) const {
    const moolai_query q = query.view();
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->usage_aggregate(i, c, &q); }));
}

CallResult StorageClient::user_create(std::string_view record_json) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->user_create(i, c, abi_str(record_json));
    }));
}

CallResult StorageClient::user_get(std::string_view username) const {
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->user_get(i, c, abi_str(username)); }));
}

CallResult StorageClient::user_update(std::string_view username,
                                      std::string_view patch_json) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->user_update(i, c, abi_str(username), abi_str(patch_json));
    }));
}

CallResult StorageClient::user_list(const Query& query) const {
    const moolai_query q = query.view();
    return observed(
        plugin_.call([&](moolai_instance* i, moolai_call* c) { return t_->user_list(i, c, &q); }));
}

CallResult StorageClient::user_delete(std::string_view username) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->user_delete(i, c, abi_str(username));
    }));
}

CallResult StorageClient::session_create(std::string_view record_json) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->session_create(i, c, abi_str(record_json));
    }));
}

CallResult StorageClient::session_get(std::string_view token_hash) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->session_get(i, c, abi_str(token_hash));
    }));
}

CallResult StorageClient::session_delete(std::string_view token_hash) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->session_delete(i, c, abi_str(token_hash));
    }));
}

CallResult StorageClient::session_purge(int64_t now_ms) const {
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->session_purge(i, c, now_ms); }));
}

CallResult StorageClient::audit_append(std::string_view record_json) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->audit_append(i, c, abi_str(record_json));
    }));
}

CallResult StorageClient::audit_list(const Query& query) const {
    const moolai_query q = query.view();
    return observed(
        plugin_.call([&](moolai_instance* i, moolai_call* c) { return t_->audit_list(i, c, &q); }));
}

CallResult StorageClient::usage_insert_batch(std::string_view records_json) const {
    if (!MOOLAI_HAS_FIELD(t_, moolai_storage_v1, usage_insert_batch) ||
        t_->usage_insert_batch == nullptr)
        return {MOOLAI_E_UNSUPPORTED, "",
                "the storage plugin has no usage_insert_batch (built for ABI 1.0 or 1.1)"};
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->usage_insert_batch(i, c, abi_str(records_json));
    }));
}

CallResult StorageClient::audit_verify() const {
    if (!MOOLAI_HAS_FIELD(t_, moolai_storage_v1, audit_verify) || t_->audit_verify == nullptr)
        return {MOOLAI_E_UNSUPPORTED, "",
                "the storage plugin keeps no audit chain (built for ABI 1.2 or older); "
                "rebuild it against ABI 1.3"};
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->audit_verify(i, c); }));
}

CallResult AuthClient::hash_password(std::string_view password) const {
    return plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->hash_password(i, c, abi_str(password));
    });
}
CallResult AuthClient::verify_password(std::string_view encoded_hash,
                                       std::string_view password) const {
    return plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->verify_password(i, c, abi_str(encoded_hash), abi_str(password));
    });
}
CallResult AuthClient::new_token() const {
    return plugin_.call([&](moolai_instance* i, moolai_call* c) { return t_->new_token(i, c); });
}
CallResult AuthClient::hash_token(std::string_view token) const {
    return plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->hash_token(i, c, abi_str(token)); });
}

CallResult IndependenceClient::on_heartbeat(const moolai_heartbeat_info& heartbeat,
                                            uint32_t& decision) const {
    return plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->on_heartbeat(i, c, &heartbeat, &decision);
    });
}
CallResult IndependenceClient::on_toggle(const moolai_toggle_request& request) const {
    if (t_->on_toggle == nullptr) return {};
    return plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->on_toggle(i, c, &request); });
}

CallResult MessagingClient::accept(std::string_view message_json) const {
    return plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->accept(i, c, abi_str(message_json));
    });
}
CallResult MessagingClient::route(const moolai_route_request& request, uint32_t& decision) const {
    return plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->route(i, c, &request, &decision); });
}
CallResult MessagingClient::render(std::string_view message_json) const {
    return plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->render(i, c, abi_str(message_json));
    });
}

CallResult ObserverClient::on_event(const moolai_event& event) const {
    return plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->on_event(i, c, &event); });
}

}  // namespace moolai::host

namespace moolai::host {
namespace {
CallResult no_cluster(const char* fn) {
    return {MOOLAI_E_UNSUPPORTED, "",
            std::string("the storage plugin has no ") + fn +
                " (built for ABI 1.3 or older): it serves one host alone; rebuild it against "
                "ABI 1.4 to run several hosts"};
}
}  // namespace

#define MOOLAI_STORAGE_HAS(fn) \
    (MOOLAI_HAS_FIELD(t_, moolai_storage_v1, fn) && t_->fn != nullptr)

CallResult StorageClient::notify(std::string_view channel, std::string_view payload) const {
    if (!MOOLAI_STORAGE_HAS(notify)) return no_cluster("notify");
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->notify(i, c, abi_str(channel), abi_str(payload));
    }));
}

CallResult StorageClient::listen(std::string_view channel) const {
    if (!MOOLAI_STORAGE_HAS(listen)) return no_cluster("listen");
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->listen(i, c, abi_str(channel)); }));
}

CallResult StorageClient::host_lease(std::string_view host_id, int64_t lease_ms,
                                     std::string_view info_json) const {
    if (!MOOLAI_STORAGE_HAS(host_lease)) return no_cluster("host_lease");
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->host_lease(i, c, abi_str(host_id), lease_ms, abi_str(info_json));
    }));
}

CallResult StorageClient::connections_write(std::string_view host_id,
                                            std::string_view changes_json) const {
    if (!MOOLAI_STORAGE_HAS(connections_write)) return no_cluster("connections_write");
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->connections_write(i, c, abi_str(host_id), abi_str(changes_json));
    }));
}

CallResult StorageClient::connections_list() const {
    if (!MOOLAI_STORAGE_HAS(connections_list)) return no_cluster("connections_list");
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->connections_list(i, c); }));
}

bool StorageClient::shares_hosts() const noexcept {
    return MOOLAI_STORAGE_HAS(notify) && MOOLAI_STORAGE_HAS(listen) &&
           MOOLAI_STORAGE_HAS(host_lease) && MOOLAI_STORAGE_HAS(connections_write) &&
           MOOLAI_STORAGE_HAS(connections_list);
}

CallResult StorageClient::heartbeats_write_leased(const moolai_heartbeat_row* rows, size_t count,
                                                  std::string_view host_id, int64_t lease_ms,
                                                  std::string_view info_json) const {
    if (!MOOLAI_STORAGE_HAS(heartbeats_write_leased))
        return {MOOLAI_E_UNSUPPORTED, "",
                "the storage plugin has no heartbeats_write_leased (built for ABI 1.4 or older): "
                "the lease is renewed in a transaction of its own"};
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->heartbeats_write_leased(i, c, rows, count, sizeof(moolai_heartbeat_row),
                                           abi_str(host_id), lease_ms, abi_str(info_json));
    }));
}

#undef MOOLAI_STORAGE_HAS

}  // namespace moolai::host
