// storage_common/storage_plugin.hpp -- every moolai_storage_v1 function,
// written once over a Backend. A storage plugin is this class plus a
// driver: it derives, adds its name, config schema and threading mode,
// builds its Backend from its config block, and exports with MOOLAI_PLUGIN.
#ifndef MOOLAI_STORAGE_COMMON_STORAGE_PLUGIN_HPP
#define MOOLAI_STORAGE_COMMON_STORAGE_PLUGIN_HPP

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <moolai/sdk.hpp>

#include "storage_common/backend.hpp"

namespace moolai::storage {

using sdk::Call;
using sdk::Status;
using sdk::Str;

class StoragePlugin : public sdk::Plugin, public sdk::Storage {
  public:
    StoragePlugin(sdk::Host host, std::unique_ptr<Backend> backend);
    ~StoragePlugin() override;

    Status start(Call& call) override;
    void stop() noexcept override;

    Status migrate(Call& call) override;
    Status ping(Call& call) override;

    Status org_create(Call& call, Str record_json) override;
    Status org_update(Call& call, Str organization_id, Str patch_json) override;
    Status org_get(Call& call, Str organization_id) override;
    Status org_list(Call& call, const moolai_query& query) override;
    Status org_delete(Call& call, Str organization_id) override;

    Status orch_create(Call& call, Str record_json) override;
    Status orch_update(Call& call, Str orchestrator_id, Str patch_json) override;
    Status orch_get(Call& call, Str orchestrator_id) override;
    Status orch_list(Call& call, const moolai_query& query) override;
    Status orch_delete(Call& call, Str orchestrator_id) override;
    Status orch_scan(Call& call, moolai_orchestrator_row_fn fn, void* cookie) override;
    Status orch_set_independence(Call& call, Str orchestrator_id, bool is_independent) override;
    Status orch_set_credential(Call& call, Str orchestrator_id, Str credential_hash) override;
    Status heartbeats_write(Call& call, const moolai_heartbeat_row* rows, uint64_t count,
                            uint64_t row_size) override;

    Status msg_create(Call& call, Str record_json) override;
    Status msg_get(Call& call, Str message_id) override;
    Status msg_list(Call& call, const moolai_query& query) override;
    Status msg_set_status(Call& call, Str message_id, Str expected, Str status) override;
    Status msg_update_delivery(Call& call, Str message_id, Str patch_json) override;

    Status usage_insert(Call& call, Str record_json) override;
    Status usage_aggregate(Call& call, const moolai_query& query) override;
    Status usage_insert_batch(Call& call, Str records_json) override;

    Status user_create(Call& call, Str record_json) override;
    Status user_get(Call& call, Str username) override;
    Status user_update(Call& call, Str username, Str patch_json) override;
    Status user_list(Call& call, const moolai_query& query) override;
    Status user_delete(Call& call, Str username) override;

    Status session_create(Call& call, Str record_json) override;
    Status session_get(Call& call, Str token_hash) override;
    Status session_delete(Call& call, Str token_hash) override;
    Status session_purge(Call& call, int64_t now_ms) override;

    Status audit_append(Call& call, Str record_json) override;
    Status audit_list(Call& call, const moolai_query& query) override;
    Status audit_verify(Call& call) override;

    // Several hosts on one store (host_cluster.cpp).
    Status notify(Call& call, Str channel, Str payload) override;
    Status listen(Call& call, Str channel) override;
    Status host_lease(Call& call, Str host_id, int64_t lease_ms, Str info_json) override;
    Status connections_write(Call& call, Str host_id, Str changes_json) override;
    Status connections_list(Call& call) override;
    Status heartbeats_write_leased(Call& call, const moolai_heartbeat_row* rows, uint64_t count,
                                   uint64_t row_size, Str host_id, int64_t lease_ms,
                                   Str info_json) override;

  private:
    int64_t now() const noexcept { return host().now_ms(); }
    // heartbeats_write's statements for `rows`, values in `params`; none
    // when no row names an id a stored row can have.
    std::vector<std::string> beat_statements(const moolai_heartbeat_row* rows, uint64_t count,
                                             uint64_t row_size, std::vector<Value>& params) const;
    // host_lease's work inside `tx` (host and info checked); its output.
    std::string renew_lease(Tx& tx, const std::string& host, int64_t lease_ms,
                            const std::string& info, int64_t at) const;
    const Dialect& sql() const noexcept { return db_->dialect(); }

    // What the driver delivered, made whole (a spilled payload read back)
    // and handed to the host.
    void deliver_raw(const std::string& channel, const std::string& raw) noexcept;

    std::unique_ptr<Backend> db_;
};

}  // namespace moolai::storage

#endif  // MOOLAI_STORAGE_COMMON_STORAGE_PLUGIN_HPP
