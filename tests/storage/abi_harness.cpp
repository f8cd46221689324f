// The test host: dlopen, descriptor checks, moolai_host_api, call wrappers.
#include "abi_harness.hpp"

#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

// The host owns moolai_call; here it is the per-call output and error text.
struct moolai_call {
    std::string output;
    std::string error;
};

namespace moolai::test {
namespace {

moolai_str str(std::string_view s) {
    return moolai_str{s.data(), s.size()};
}
std::string_view view(moolai_str s) {
    return s.len != 0 ? std::string_view(s.ptr, s.len) : std::string_view();
}

StoragePlugin& self(moolai_host* h) {
    return *reinterpret_cast<StoragePlugin*>(h);
}

void api_log(moolai_host* h, int32_t level, moolai_str message) {
    self(h).log(level, view(message));
}
void api_set_error(moolai_call* c, moolai_str message) {
    c->error.assign(view(message));
}
moolai_status api_write_output(moolai_call* c, moolai_str bytes) {
    c->output.append(view(bytes));
    return MOOLAI_OK;
}
moolai_status api_send_frame(moolai_host*, moolai_str, moolai_str) {
    return MOOLAI_E_NOT_FOUND;
}
moolai_status api_emit_event(moolai_host*, const moolai_event*) {
    return MOOLAI_OK;
}
void api_metric(moolai_host*, moolai_str, double) {}
int64_t api_now_ms(moolai_host* h) {
    return self(h).now_ms();
}
int64_t api_monotonic_ms(moolai_host*) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Holds a moolai_query whose strings point into a Query.
moolai_query to_c(const Query& q) {
    moolai_query c{};
    c.struct_size = sizeof c;
    c.offset = q.offset;
    c.limit = q.limit;
    c.organization_id = str(q.organization_id);
    c.orchestrator_id = str(q.orchestrator_id);
    c.status = str(q.status);
    c.search = str(q.search);
    c.kind = str(q.kind);
    c.from_ms = q.from_ms;
    c.to_ms = q.to_ms;
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

StoragePlugin::StoragePlugin(const std::string& path) {
    lib_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib_ == nullptr) throw std::runtime_error(std::string("dlopen: ") + dlerror());
    auto entry = reinterpret_cast<moolai_plugin_entry_fn>(dlsym(lib_, MOOLAI_PLUGIN_ENTRY_SYMBOL));
    if (entry == nullptr) throw std::runtime_error(path + ": no " MOOLAI_PLUGIN_ENTRY_SYMBOL);
    desc_ = entry(MOOLAI_ABI_MAJOR, MOOLAI_ABI_MINOR);
    if (desc_ == nullptr) throw std::runtime_error(path + ": the plugin refused this host");
    if (desc_->struct_size < sizeof(moolai_plugin_descriptor) ||
        desc_->abi_major != MOOLAI_ABI_MAJOR || desc_->abi_minor_required > MOOLAI_ABI_MINOR ||
        desc_->abi_minor_required > desc_->abi_minor_built)
        throw std::runtime_error(path + ": incompatible descriptor");
    if ((desc_->capabilities & MOOLAI_CAP_STORAGE) == 0 ||
        (desc_->capabilities & ~MOOLAI_CAP_KNOWN_1_0) != 0)
        throw std::runtime_error(path + ": bad capabilities");
    if (desc_->create == nullptr || desc_->destroy == nullptr || desc_->get_capability == nullptr)
        throw std::runtime_error(path + ": descriptor misses a required function");
    st_ = static_cast<const moolai_storage_v1*>(desc_->get_capability(MOOLAI_CAP_STORAGE));
    if (st_ == nullptr || st_->struct_size < sizeof(moolai_storage_v1))
        throw std::runtime_error(path + ": no moolai_storage_v1 table");
    // Every storage function is required: check the table pointer by pointer.
    const auto* fns = reinterpret_cast<void (*const*)()>(reinterpret_cast<const char*>(st_) +
                                                         offsetof(moolai_storage_v1, migrate));
    const size_t count =
        (sizeof(moolai_storage_v1) - offsetof(moolai_storage_v1, migrate)) / sizeof(void (*)());
    for (size_t i = 0; i < count; ++i)
        if (fns[i] == nullptr)
            throw std::runtime_error(path + ": storage function #" + std::to_string(i) +
                                     " is NULL");

    api_.struct_size = sizeof api_;
    api_.abi_major = MOOLAI_ABI_MAJOR;
    api_.abi_minor = MOOLAI_ABI_MINOR;
    api_.log = api_log;
    api_.set_error = api_set_error;
    api_.write_output = api_write_output;
    api_.send_frame = api_send_frame;
    api_.emit_event = api_emit_event;
    api_.metric_add = api_metric;
    api_.metric_set = api_metric;
    api_.now_ms = api_now_ms;
    api_.monotonic_ms = api_monotonic_ms;
}

StoragePlugin::~StoragePlugin() {
    if (inst_ != nullptr) {
        if (started_ && desc_->stop != nullptr) desc_->stop(inst_);
        desc_->destroy(inst_);
    }
    if (lib_ != nullptr) dlclose(lib_);
}

Result StoragePlugin::create(const std::string& config_json) {
    Result r = call([&](moolai_call* c) {
        return desc_->create(&api_, reinterpret_cast<moolai_host*>(this), str(config_json), c,
                             &inst_);
    });
    if (!r.ok()) return r;
    if (inst_ == nullptr)
        return Result{MOOLAI_E_INTERNAL, "", "create() returned OK and no instance"};
    if (desc_->start != nullptr) {
        r = call([&](moolai_call* c) { return desc_->start(inst_, c); });
        started_ = r.ok();
    }
    return r;
}

int64_t StoragePlugin::now_ms() const {
    const int64_t frozen = frozen_ms_.load();
    if (frozen != 0) return frozen;
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void StoragePlugin::log(int32_t level, std::string_view line) {
    std::lock_guard<std::mutex> lock(log_mu_);
    if (std::getenv("MOOLAI_TEST_LOG") != nullptr)
        std::fprintf(stderr, "[plugin log %d] %.*s\n", level, int(line.size()), line.data());
    log_.push_back(std::to_string(level) + " " + std::string(line));
}

std::vector<std::string> StoragePlugin::log_lines() const {
    std::lock_guard<std::mutex> lock(log_mu_);
    return log_;
}

Result StoragePlugin::call(const std::function<moolai_status(moolai_call*)>& fn) {
    moolai_call c;
    Result r;
    r.status = fn(&c);
    r.output = std::move(c.output);
    r.error = std::move(c.error);
    return r;
}

// One wrapper per storage function: borrowed arguments in, copies out.
#define CALL(expr) call([&](moolai_call* c) { return (expr); })

Result StoragePlugin::migrate() {
    return CALL(st_->migrate(inst_, c));
}
Result StoragePlugin::ping() {
    return CALL(st_->ping(inst_, c));
}
Result StoragePlugin::org_create(std::string_view rec) {
    return CALL(st_->org_create(inst_, c, str(rec)));
}
Result StoragePlugin::org_update(std::string_view id, std::string_view patch) {
    return CALL(st_->org_update(inst_, c, str(id), str(patch)));
}
Result StoragePlugin::org_get(std::string_view id) {
    return CALL(st_->org_get(inst_, c, str(id)));
}
Result StoragePlugin::org_list(const Query& q) {
    const moolai_query cq = to_c(q);
    return CALL(st_->org_list(inst_, c, &cq));
}
Result StoragePlugin::org_delete(std::string_view id) {
    return CALL(st_->org_delete(inst_, c, str(id)));
}
Result StoragePlugin::orch_create(std::string_view rec) {
    return CALL(st_->orch_create(inst_, c, str(rec)));
}
Result StoragePlugin::orch_update(std::string_view id, std::string_view patch) {
    return CALL(st_->orch_update(inst_, c, str(id), str(patch)));
}
Result StoragePlugin::orch_get(std::string_view id) {
    return CALL(st_->orch_get(inst_, c, str(id)));
}
Result StoragePlugin::orch_list(const Query& q) {
    const moolai_query cq = to_c(q);
    return CALL(st_->orch_list(inst_, c, &cq));
}
Result StoragePlugin::orch_delete(std::string_view id) {
    return CALL(st_->orch_delete(inst_, c, str(id)));
}
Result StoragePlugin::orch_scan(std::vector<ScanRow>& rows, size_t stop_after,
                                moolai_status stop_status) {
    ScanState state{&rows, stop_after, stop_status};
    return CALL(st_->orch_scan(inst_, c, on_scan_row, &state));
}
Result StoragePlugin::orch_set_independence(std::string_view id, bool on) {
    return CALL(st_->orch_set_independence(inst_, c, str(id), on ? 1u : 0u));
}
Result StoragePlugin::orch_set_credential(std::string_view id, std::string_view hash) {
    return CALL(st_->orch_set_credential(inst_, c, str(id), str(hash)));
}
Result StoragePlugin::heartbeats_write(const void* rows, uint64_t count, uint64_t row_size) {
    return CALL(st_->heartbeats_write(inst_, c, static_cast<const moolai_heartbeat_row*>(rows),
                                      count, row_size));
}
Result StoragePlugin::msg_create(std::string_view rec) {
    return CALL(st_->msg_create(inst_, c, str(rec)));
}
Result StoragePlugin::msg_get(std::string_view id) {
    return CALL(st_->msg_get(inst_, c, str(id)));
}
Result StoragePlugin::msg_list(const Query& q) {
    const moolai_query cq = to_c(q);
    return CALL(st_->msg_list(inst_, c, &cq));
}
Result StoragePlugin::msg_set_status(std::string_view id, std::string_view expected,
                                     std::string_view status) {
    return CALL(st_->msg_set_status(inst_, c, str(id), str(expected), str(status)));
}
Result StoragePlugin::msg_update_delivery(std::string_view id, std::string_view patch) {
    return CALL(st_->msg_update_delivery(inst_, c, str(id), str(patch)));
}
Result StoragePlugin::usage_insert(std::string_view rec) {
    return CALL(st_->usage_insert(inst_, c, str(rec)));
}
Result StoragePlugin::usage_aggregate(const Query& q) {
    const moolai_query cq = to_c(q);
    return CALL(st_->usage_aggregate(inst_, c, &cq));
}
Result StoragePlugin::user_create(std::string_view rec) {
    return CALL(st_->user_create(inst_, c, str(rec)));
}
Result StoragePlugin::user_get(std::string_view name) {
    return CALL(st_->user_get(inst_, c, str(name)));
}
Result StoragePlugin::user_update(std::string_view name, std::string_view patch) {
    return CALL(st_->user_update(inst_, c, str(name), str(patch)));
}
Result StoragePlugin::user_list(const Query& q) {
    const moolai_query cq = to_c(q);
    return CALL(st_->user_list(inst_, c, &cq));
}
Result StoragePlugin::user_delete(std::string_view name) {
    return CALL(st_->user_delete(inst_, c, str(name)));
}
Result StoragePlugin::session_create(std::string_view rec) {
    return CALL(st_->session_create(inst_, c, str(rec)));
}
Result StoragePlugin::session_get(std::string_view token_hash) {
    return CALL(st_->session_get(inst_, c, str(token_hash)));
}
Result StoragePlugin::session_delete(std::string_view token_hash) {
    return CALL(st_->session_delete(inst_, c, str(token_hash)));
}
Result StoragePlugin::session_purge(int64_t now_ms) {
    return CALL(st_->session_purge(inst_, c, now_ms));
}
Result StoragePlugin::audit_append(std::string_view rec) {
    return CALL(st_->audit_append(inst_, c, str(rec)));
}
Result StoragePlugin::audit_list(const Query& q) {
    const moolai_query cq = to_c(q);
    return CALL(st_->audit_list(inst_, c, &cq));
}

#undef CALL

}  // namespace moolai::test
