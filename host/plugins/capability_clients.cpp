#include "plugins/capability_clients.hpp"

namespace moolai::host {
namespace {

moolai_str str(std::string_view s) noexcept {
    return moolai_str{s.data(), s.size()};
}

}  // namespace

moolai_query Query::view() const noexcept {
    moolai_query q{};
    q.struct_size = sizeof(q);
    q.offset = offset;
    q.limit = limit;
    q.organization_id = str(organization_id);
    q.orchestrator_id = str(orchestrator_id);
    q.status = str(status);
    q.search = str(search);
    q.kind = str(kind);
    q.from_ms = from_ms;
    q.to_ms = to_ms;
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

CallResult StorageClient::org_create(std::string_view a0) const {
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->org_create(i, c, str(a0)); }));
}

CallResult StorageClient::org_update(std::string_view a0, std::string_view a1) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->org_update(i, c, str(a0), str(a1));
    }));
}

CallResult StorageClient::org_get(std::string_view a0) const {
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->org_get(i, c, str(a0)); }));
}

CallResult StorageClient::org_list(const Query& a0) const {
    const moolai_query q0 = a0.view();
    return observed(
        plugin_.call([&](moolai_instance* i, moolai_call* c) { return t_->org_list(i, c, &q0); }));
}

CallResult StorageClient::org_delete(std::string_view a0) const {
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->org_delete(i, c, str(a0)); }));
}

CallResult StorageClient::orch_create(std::string_view a0) const {
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->orch_create(i, c, str(a0)); }));
}

CallResult StorageClient::orch_update(std::string_view a0, std::string_view a1) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->orch_update(i, c, str(a0), str(a1));
    }));
}

CallResult StorageClient::orch_get(std::string_view a0) const {
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->orch_get(i, c, str(a0)); }));
}

CallResult StorageClient::orch_list(const Query& a0) const {
    const moolai_query q0 = a0.view();
    return observed(
        plugin_.call([&](moolai_instance* i, moolai_call* c) { return t_->orch_list(i, c, &q0); }));
}

CallResult StorageClient::orch_delete(std::string_view a0) const {
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->orch_delete(i, c, str(a0)); }));
}

CallResult StorageClient::orch_set_credential(std::string_view a0, std::string_view a1) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->orch_set_credential(i, c, str(a0), str(a1));
    }));
}

CallResult StorageClient::msg_create(std::string_view a0) const {
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->msg_create(i, c, str(a0)); }));
}

CallResult StorageClient::msg_get(std::string_view a0) const {
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->msg_get(i, c, str(a0)); }));
}

CallResult StorageClient::msg_list(const Query& a0) const {
    const moolai_query q0 = a0.view();
    return observed(
        plugin_.call([&](moolai_instance* i, moolai_call* c) { return t_->msg_list(i, c, &q0); }));
}

CallResult StorageClient::msg_set_status(std::string_view a0, std::string_view a1,
                                         std::string_view a2) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->msg_set_status(i, c, str(a0), str(a1), str(a2));
    }));
}

CallResult StorageClient::msg_update_delivery(std::string_view a0, std::string_view a1) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->msg_update_delivery(i, c, str(a0), str(a1));
    }));
}

CallResult StorageClient::usage_insert(std::string_view a0) const {
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->usage_insert(i, c, str(a0)); }));
}

CallResult StorageClient::usage_aggregate(const Query& a0) const {
    const moolai_query q0 = a0.view();
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->usage_aggregate(i, c, &q0); }));
}

CallResult StorageClient::user_create(std::string_view a0) const {
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->user_create(i, c, str(a0)); }));
}

CallResult StorageClient::user_get(std::string_view a0) const {
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->user_get(i, c, str(a0)); }));
}

CallResult StorageClient::user_update(std::string_view a0, std::string_view a1) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->user_update(i, c, str(a0), str(a1));
    }));
}

CallResult StorageClient::user_list(const Query& a0) const {
    const moolai_query q0 = a0.view();
    return observed(
        plugin_.call([&](moolai_instance* i, moolai_call* c) { return t_->user_list(i, c, &q0); }));
}

CallResult StorageClient::user_delete(std::string_view a0) const {
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->user_delete(i, c, str(a0)); }));
}

CallResult StorageClient::session_create(std::string_view a0) const {
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->session_create(i, c, str(a0)); }));
}

CallResult StorageClient::session_get(std::string_view a0) const {
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->session_get(i, c, str(a0)); }));
}

CallResult StorageClient::session_delete(std::string_view a0) const {
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->session_delete(i, c, str(a0)); }));
}

CallResult StorageClient::audit_append(std::string_view a0) const {
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->audit_append(i, c, str(a0)); }));
}

CallResult StorageClient::audit_list(const Query& a0) const {
    const moolai_query q0 = a0.view();
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->audit_list(i, c, &q0); }));
}

CallResult StorageClient::orch_set_independence(std::string_view id, bool v) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->orch_set_independence(i, c, str(id), v ? 1u : 0u);
    }));
}

CallResult StorageClient::session_purge(int64_t now_ms) const {
    return observed(plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->session_purge(i, c, now_ms); }));
}

CallResult StorageClient::heartbeats_write(const moolai_heartbeat_row* rows, size_t count) const {
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->heartbeats_write(i, c, rows, count, sizeof(moolai_heartbeat_row));
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
    const std::function<moolai_status(const moolai_orchestrator_row&)>& row) const {
    ScanCookie cookie{&row};
    return observed(plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->orch_scan(i, c, &scan_row, &cookie);
    }));
}

CallResult AuthClient::hash_password(std::string_view pw) const {
    return plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->hash_password(i, c, str(pw)); });
}
CallResult AuthClient::verify_password(std::string_view h, std::string_view pw) const {
    return plugin_.call([&](moolai_instance* i, moolai_call* c) {
        return t_->verify_password(i, c, str(h), str(pw));
    });
}
CallResult AuthClient::new_token() const {
    return plugin_.call([&](moolai_instance* i, moolai_call* c) { return t_->new_token(i, c); });
}
CallResult AuthClient::hash_token(std::string_view token) const {
    return plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->hash_token(i, c, str(token)); });
}

CallResult IndependenceClient::on_heartbeat(const moolai_heartbeat_info& hb,
                                            uint32_t& decision) const {
    return plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->on_heartbeat(i, c, &hb, &decision); });
}
CallResult IndependenceClient::on_toggle(const moolai_toggle_request& r) const {
    if (t_->on_toggle == nullptr) return {};
    return plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->on_toggle(i, c, &r); });
}

CallResult MessagingClient::accept(std::string_view m) const {
    return plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->accept(i, c, str(m)); });
}
CallResult MessagingClient::route(const moolai_route_request& r, uint32_t& decision) const {
    return plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->route(i, c, &r, &decision); });
}
CallResult MessagingClient::render(std::string_view m) const {
    return plugin_.call(
        [&](moolai_instance* i, moolai_call* c) { return t_->render(i, c, str(m)); });
}

CallResult ObserverClient::on_event(const moolai_event& e) const {
    return plugin_.call([&](moolai_instance* i, moolai_call* c) { return t_->on_event(i, c, &e); });
}

}  // namespace moolai::host
