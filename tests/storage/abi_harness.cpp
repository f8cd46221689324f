// The storage face of the shared C-level test host (tests/support/abi_test_host):
// descriptor and table checks, one wrapper per storage function.
#include "abi_harness.hpp"

#include <cstddef>
#include <stdexcept>

namespace moolai::test {
namespace {

moolai_str str(std::string_view s) {
    return moolai_str{s.data(), s.size()};
}
std::string_view view(moolai_str s) {
    return s.len != 0 ? std::string_view(s.ptr, s.len) : std::string_view();
}

// Holds a moolai_query whose strings point into a Query.
moolai_query to_c(const Query& q) {
    moolai_query c{};
    c.struct_size = q.struct_size != 0 ? q.struct_size : sizeof c;
    c.offset = q.offset;
    c.limit = q.limit;
    c.organization_id = str(q.organization_id);
    c.orchestrator_id = str(q.orchestrator_id);
    c.status = str(q.status);
    c.search = str(q.search);
    c.kind = str(q.kind);
    c.from_ms = q.from_ms;
    c.to_ms = q.to_ms;
    c.sort = str(q.sort);
    c.descending = q.descending ? 1u : 0u;
    return c;
}

struct ScanState {
    std::vector<ScanRow>* rows;
    size_t stop_after;
    moolai_status stop_status;
};

moolai_status on_scan_row(void* cookie, const moolai_orchestrator_row* r) {
    auto& s = *static_cast<ScanState*>(cookie);
    if (s.rows->size() >= s.stop_after) return s.stop_status;
    ScanRow row;
    row.orchestrator_id.assign(view(r->orchestrator_id));
    row.organization_id.assign(view(r->organization_id));
    row.name.assign(view(r->name));
    row.credential_hash.assign(view(r->credential_hash));
    row.status = r->status;
    row.is_independent = r->is_independent;
    row.last_seen_ms = r->last_seen_ms;
    s.rows->push_back(std::move(row));
    return MOOLAI_OK;
}

}  // namespace

nlohmann::json Result::json() const {
    return nlohmann::json::parse(output);
}

StoragePlugin::StoragePlugin(const std::string& path)
    : lib_(std::make_unique<plugin_test::Library>(path)) {
    const moolai_plugin_descriptor& d = lib_->descriptor();
    if (d.abi_major != MOOLAI_ABI_MAJOR || d.abi_minor_required > MOOLAI_ABI_MINOR ||
        d.abi_minor_required > d.abi_minor_built)
        throw std::runtime_error(path + ": incompatible descriptor");
    if ((d.capabilities & MOOLAI_CAP_STORAGE) == 0 ||
        (d.capabilities & ~MOOLAI_CAP_KNOWN_1_0) != 0)
        throw std::runtime_error(path + ": bad capabilities");
    if (d.create == nullptr || d.destroy == nullptr || d.get_capability == nullptr)
        throw std::runtime_error(path + ": descriptor misses a required function");
    st_ = lib_->capability<moolai_storage_v1>(MOOLAI_CAP_STORAGE);
    if (st_ == nullptr || st_->struct_size < MOOLAI_STORAGE_V1_SIZE_1_0)
        throw std::runtime_error(path + ": no moolai_storage_v1 table");
    // Every storage function is required: check the table pointer by pointer.
    const auto* fns = reinterpret_cast<void (*const*)()>(reinterpret_cast<const char*>(st_) +
                                                         offsetof(moolai_storage_v1, migrate));
    const size_t count =
        (MOOLAI_STORAGE_V1_SIZE_1_0 - offsetof(moolai_storage_v1, migrate)) / sizeof(void (*)());
    for (size_t i = 0; i < count; ++i)
        if (fns[i] == nullptr)
            throw std::runtime_error(path + ": storage function #" + std::to_string(i) +
                                     " is NULL");
}

// The instance's destructor runs stop() and destroy(); the library stays
// mapped, as in production.
StoragePlugin::~StoragePlugin() = default;

Result StoragePlugin::create(const std::string& config_json) {
    plugin_test::Result made;
    inst_ = plugin_test::Instance::create(*lib_, config_json, &made);
    if (!inst_) return Result{made.status, "", made.error};
    freeze_clock(frozen_ms_.load());
    const moolai_plugin_descriptor& d = lib_->descriptor();
    if (d.start == nullptr) return Result{MOOLAI_OK, "", ""};
    return call([&](moolai_call* c) { return d.start(inst_->get(), c); });
}

void StoragePlugin::freeze_clock(int64_t ms) {
    frozen_ms_ = ms;
    if (!inst_) return;
    inst_->host().use_real_clock(ms == 0);  // 0 = thawed: the machine's clock
    if (ms != 0) inst_->host().set_now_ms(ms);
}

std::vector<std::string> StoragePlugin::log_lines() const {
    if (!inst_) return {};
    std::vector<std::string> lines;
    for (const auto& l : inst_->host().logs()) lines.push_back(std::to_string(l.level) + " " + l.text);
    return lines;
}

Result StoragePlugin::call(const std::function<moolai_status(moolai_call*)>& fn) {
    plugin_test::Result r = plugin_test::call(fn);
    return Result{r.status, std::move(r.output), std::move(r.error)};
}

// One wrapper per storage function: borrowed arguments in, copies out.
#define CALL(expr) call([&](moolai_call* c) { return (expr); })

Result StoragePlugin::migrate() {
    return CALL(st_->migrate(inst_->get(), c));
}
Result StoragePlugin::ping() {
    return CALL(st_->ping(inst_->get(), c));
}
Result StoragePlugin::org_create(std::string_view rec) {
    return CALL(st_->org_create(inst_->get(), c, str(rec)));
}
Result StoragePlugin::org_update(std::string_view id, std::string_view patch) {
    return CALL(st_->org_update(inst_->get(), c, str(id), str(patch)));
}
Result StoragePlugin::org_get(std::string_view id) {
    return CALL(st_->org_get(inst_->get(), c, str(id)));
}
Result StoragePlugin::org_list(const Query& q) {
    const moolai_query cq = to_c(q);
    return CALL(st_->org_list(inst_->get(), c, &cq));
}
Result StoragePlugin::org_delete(std::string_view id) {
    return CALL(st_->org_delete(inst_->get(), c, str(id)));
}
Result StoragePlugin::orch_create(std::string_view rec) {
    return CALL(st_->orch_create(inst_->get(), c, str(rec)));
}
Result StoragePlugin::orch_update(std::string_view id, std::string_view patch) {
    return CALL(st_->orch_update(inst_->get(), c, str(id), str(patch)));
}
Result StoragePlugin::orch_get(std::string_view id) {
    return CALL(st_->orch_get(inst_->get(), c, str(id)));
}
Result StoragePlugin::orch_list(const Query& q) {
    const moolai_query cq = to_c(q);
    return CALL(st_->orch_list(inst_->get(), c, &cq));
}
Result StoragePlugin::orch_delete(std::string_view id) {
    return CALL(st_->orch_delete(inst_->get(), c, str(id)));
}
Result StoragePlugin::orch_scan(std::vector<ScanRow>& rows, size_t stop_after,
                                moolai_status stop_status) {
    ScanState state{&rows, stop_after, stop_status};
    return CALL(st_->orch_scan(inst_->get(), c, on_scan_row, &state));
}
Result StoragePlugin::orch_set_independence(std::string_view id, bool on) {
    return CALL(st_->orch_set_independence(inst_->get(), c, str(id), on ? 1u : 0u));
}
Result StoragePlugin::orch_set_credential(std::string_view id, std::string_view hash) {
    return CALL(st_->orch_set_credential(inst_->get(), c, str(id), str(hash)));
}
Result StoragePlugin::heartbeats_write(const void* rows, uint64_t count, uint64_t row_size) {
    return CALL(st_->heartbeats_write(inst_->get(), c, static_cast<const moolai_heartbeat_row*>(rows),
                                      count, row_size));
}
Result StoragePlugin::msg_create(std::string_view rec) {
    return CALL(st_->msg_create(inst_->get(), c, str(rec)));
}
Result StoragePlugin::msg_get(std::string_view id) {
    return CALL(st_->msg_get(inst_->get(), c, str(id)));
}
Result StoragePlugin::msg_list(const Query& q) {
    const moolai_query cq = to_c(q);
    return CALL(st_->msg_list(inst_->get(), c, &cq));
}
Result StoragePlugin::msg_set_status(std::string_view id, std::string_view expected,
                                     std::string_view status) {
    return CALL(st_->msg_set_status(inst_->get(), c, str(id), str(expected), str(status)));
}
Result StoragePlugin::msg_update_delivery(std::string_view id, std::string_view patch) {
    return CALL(st_->msg_update_delivery(inst_->get(), c, str(id), str(patch)));
}
Result StoragePlugin::usage_insert(std::string_view rec) {
    return CALL(st_->usage_insert(inst_->get(), c, str(rec)));
}
Result StoragePlugin::usage_insert_batch(std::string_view recs) {
    return CALL(st_->usage_insert_batch(inst_->get(), c, str(recs)));
}
Result StoragePlugin::usage_aggregate(const Query& q) {
    const moolai_query cq = to_c(q);
    return CALL(st_->usage_aggregate(inst_->get(), c, &cq));
}
Result StoragePlugin::user_create(std::string_view rec) {
    return CALL(st_->user_create(inst_->get(), c, str(rec)));
}
Result StoragePlugin::user_get(std::string_view name) {
    return CALL(st_->user_get(inst_->get(), c, str(name)));
}
Result StoragePlugin::user_update(std::string_view name, std::string_view patch) {
    return CALL(st_->user_update(inst_->get(), c, str(name), str(patch)));
}
Result StoragePlugin::user_list(const Query& q) {
    const moolai_query cq = to_c(q);
    return CALL(st_->user_list(inst_->get(), c, &cq));
}
Result StoragePlugin::user_delete(std::string_view name) {
    return CALL(st_->user_delete(inst_->get(), c, str(name)));
}
Result StoragePlugin::session_create(std::string_view rec) {
    return CALL(st_->session_create(inst_->get(), c, str(rec)));
}
Result StoragePlugin::session_get(std::string_view token_hash) {
    return CALL(st_->session_get(inst_->get(), c, str(token_hash)));
}
Result StoragePlugin::session_delete(std::string_view token_hash) {
    return CALL(st_->session_delete(inst_->get(), c, str(token_hash)));
}
Result StoragePlugin::session_purge(int64_t now_ms) {
    return CALL(st_->session_purge(inst_->get(), c, now_ms));
}
Result StoragePlugin::audit_append(std::string_view rec) {
    return CALL(st_->audit_append(inst_->get(), c, str(rec)));
}
Result StoragePlugin::audit_list(const Query& q) {
    const moolai_query cq = to_c(q);
    return CALL(st_->audit_list(inst_->get(), c, &cq));
}
Result StoragePlugin::audit_verify() {
    if (!MOOLAI_HAS_FIELD(st_, moolai_storage_v1, audit_verify) || st_->audit_verify == nullptr)
        return {MOOLAI_E_UNSUPPORTED, "", "no audit_verify"};
    return CALL(st_->audit_verify(inst_->get(), c));
}

Result StoragePlugin::notify(std::string_view channel, std::string_view payload) {
    return CALL(st_->notify(inst_->get(), c, str(channel), str(payload)));
}
Result StoragePlugin::listen(std::string_view channel) {
    return CALL(st_->listen(inst_->get(), c, str(channel)));
}
Result StoragePlugin::host_lease(std::string_view host_id, int64_t lease_ms,
                                 std::string_view info_json) {
    return CALL(st_->host_lease(inst_->get(), c, str(host_id), lease_ms, str(info_json)));
}
Result StoragePlugin::heartbeats_write_leased(const void* rows, uint64_t count, uint64_t row_size,
                                              std::string_view host_id, int64_t lease_ms,
                                              std::string_view info_json) {
    return CALL(st_->heartbeats_write_leased(inst_->get(), c,
                                             static_cast<const moolai_heartbeat_row*>(rows), count,
                                             row_size, str(host_id), lease_ms, str(info_json)));
}
Result StoragePlugin::connections_write(std::string_view host_id, std::string_view changes) {
    return CALL(st_->connections_write(inst_->get(), c, str(host_id), str(changes)));
}
Result StoragePlugin::connections_list() {
    return CALL(st_->connections_list(inst_->get(), c));
}
std::vector<std::pair<std::string, std::string>> StoragePlugin::notifications() const {
    std::vector<std::pair<std::string, std::string>> out;
    if (!inst_) return out;
    for (const auto& n : inst_->host().notifications()) out.emplace_back(n.channel, n.payload);
    return out;
}

#undef CALL

}  // namespace moolai::test
