// abi_harness.hpp -- storage plugins on the shared C-level test host
// (tests/support/abi_test_host: dlopen, entry point, host API table):
// checks the descriptor and the storage table, and wraps every
// moolai_storage_v1 function in a C++ call returning {status, output,
// error}. Nothing from the plugin's C++ side is used: only the C ABI.
#ifndef MOOLAI_TESTS_STORAGE_ABI_HARNESS_HPP
#define MOOLAI_TESTS_STORAGE_ABI_HARNESS_HPP

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "moolai/plugin_api.h"
#include "support/abi_test_host.hpp"

namespace moolai::test {

struct Result {
    moolai_status status = MOOLAI_E_INTERNAL;
    std::string output;
    std::string error;

    bool ok() const { return status == MOOLAI_OK; }
    nlohmann::json json() const;  // output parsed; throws when it is not JSON
};

// Filters of a listing, as moolai_query wants them; positional like moolai_query.
struct Query {
    Query(uint64_t offset_ = 0, uint64_t limit_ = 0, std::string organization_id_ = {},
          std::string orchestrator_id_ = {}, std::string status_ = {}, std::string search_ = {},
          std::string kind_ = {}, int64_t from_ms_ = 0, int64_t to_ms_ = 0)
        : offset(offset_),
          limit(limit_),
          organization_id(std::move(organization_id_)),
          orchestrator_id(std::move(orchestrator_id_)),
          status(std::move(status_)),
          search(std::move(search_)),
          kind(std::move(kind_)),
          from_ms(from_ms_),
          to_ms(to_ms_) {}
    uint64_t offset = 0, limit = 0;
    std::string organization_id, orchestrator_id, status, search, kind;
    int64_t from_ms = 0, to_ms = 0;
    // 1.3: set by sorted(); struct_size 0 = sizeof(moolai_query), or the
    // size an older host sends (MOOLAI_QUERY_SIZE_1_0: no sort fields).
    std::string sort;
    bool descending = false;
    uint32_t struct_size = 0;

    Query sorted(std::string field, bool desc = false) const {
        Query q = *this;
        q.sort = std::move(field);
        q.descending = desc;
        return q;
    }
};

// An orch_scan row with its borrowed strings copied.
struct ScanRow {
    std::string orchestrator_id, organization_id, name, credential_hash;
    uint32_t status = 0, is_independent = 0;
    int64_t last_seen_ms = 0;
};

// A heartbeat row as a newer host might send it: a larger stride than
// moolai_heartbeat_row, which the plugin must honour.
struct HeartbeatRowV2 {
    moolai_heartbeat_row v1;
    uint64_t appended_field;
};

// The host side of one loaded plugin. Keeps the clock, the log and the
// library handle.
class StoragePlugin {
  public:
    // dlopen + descriptor checks; throws std::runtime_error with the reason.
    explicit StoragePlugin(const std::string& path);
    ~StoragePlugin();  // stop, destroy, dlclose
    StoragePlugin(const StoragePlugin&) = delete;
    StoragePlugin& operator=(const StoragePlugin&) = delete;

    const moolai_plugin_descriptor& descriptor() const { return lib_->descriptor(); }
    // create() then start(); the result of the first that fails.
    Result create(const std::string& config_json);

    // The host clock the plugin reads through now_ms(): real time unless frozen.
    void freeze_clock(int64_t ms);
    void thaw_clock() { freeze_clock(0); }
    std::vector<std::string> log_lines() const;

    Result migrate();
    Result ping();
    Result org_create(std::string_view rec);
    Result org_update(std::string_view id, std::string_view patch);
    Result org_get(std::string_view id);
    Result org_list(const Query& q = {});
    Result org_delete(std::string_view id);
    Result orch_create(std::string_view rec);
    Result orch_update(std::string_view id, std::string_view patch);
    Result orch_get(std::string_view id);
    Result orch_list(const Query& q = {});
    Result orch_delete(std::string_view id);
    // Collects every row; stops after `stop_after` rows by returning `stop_status`.
    Result orch_scan(std::vector<ScanRow>& rows, size_t stop_after = SIZE_MAX,
                     moolai_status stop_status = MOOLAI_E_CONFLICT);
    Result orch_set_independence(std::string_view id, bool on);
    Result orch_set_credential(std::string_view id, std::string_view hash);
    Result heartbeats_write(const void* rows, uint64_t count, uint64_t row_size);
    Result msg_create(std::string_view rec);
    Result msg_get(std::string_view id);
    Result msg_list(const Query& q = {});
    Result msg_set_status(std::string_view id, std::string_view expected, std::string_view status);
    Result msg_update_delivery(std::string_view id, std::string_view patch);
    Result usage_insert(std::string_view rec);
    Result usage_insert_batch(std::string_view recs);  // 1.2
    Result usage_aggregate(const Query& q);
    Result user_create(std::string_view rec);
    Result user_get(std::string_view name);
    Result user_update(std::string_view name, std::string_view patch);
    Result user_list(const Query& q = {});
    Result user_delete(std::string_view name);
    Result session_create(std::string_view rec);
    Result session_get(std::string_view token_hash);
    Result session_delete(std::string_view token_hash);
    Result session_purge(int64_t now_ms);
    Result audit_append(std::string_view rec);
    Result audit_list(const Query& q = {});
    Result audit_verify();  // 1.3
    // 1.4: several hosts on one store.
    Result notify(std::string_view channel, std::string_view payload);
    Result listen(std::string_view channel);
    Result host_lease(std::string_view host_id, int64_t lease_ms, std::string_view info_json);
    Result connections_write(std::string_view host_id, std::string_view changes_json);
    Result connections_list();
    // 1.5: a heartbeat batch and the lease in one transaction.
    Result heartbeats_write_leased(const void* rows, uint64_t count, uint64_t row_size,
                                   std::string_view host_id, int64_t lease_ms,
                                   std::string_view info_json);
    // What the plugin delivered to this host: {channel, payload}.
    std::vector<std::pair<std::string, std::string>> notifications() const;

  private:
    Result call(const std::function<moolai_status(moolai_call*)>& fn);

    std::unique_ptr<plugin_test::Library> lib_;
    std::unique_ptr<plugin_test::Instance> inst_;
    const moolai_storage_v1* st_ = nullptr;
    std::atomic<int64_t> frozen_ms_{0};
};

}  // namespace moolai::test

#endif  // MOOLAI_TESTS_STORAGE_ABI_HARNESS_HPP
