#include "support/abi_test_host.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace moolai::plugin_test {
namespace {

std::string text(moolai_str s) { return s.len ? std::string(s.ptr, s.len) : std::string(); }
HostState& state(moolai_host* h) { return *reinterpret_cast<HostState*>(h); }
CallState& state(moolai_call* c) { return *reinterpret_cast<CallState*>(c); }

void h_log(moolai_host* host, int32_t level, moolai_str message) {
    HostState& h = state(host);
    if (std::getenv("MOOLAI_TEST_LOG") != nullptr)
        std::fprintf(stderr, "[plugin log %d] %s\n", level, text(message).c_str());
    std::lock_guard<std::mutex> lock(h.mu);
    h.logs.push_back(std::to_string(level) + " " + text(message));
}
void h_set_error(moolai_call* call, moolai_str message) { state(call).error = text(message); }
moolai_status h_write_output(moolai_call* call, moolai_str bytes) {
    CallState& c = state(call);
    if (!c.takes_output) return MOOLAI_E_INVALID;
    c.output += text(bytes);
    return MOOLAI_OK;
}
moolai_status h_send_frame(moolai_host* host, moolai_str orchestrator_id, moolai_str frame) {
    HostState& h = state(host);
    std::lock_guard<std::mutex> lock(h.mu);
    h.frames.emplace_back(text(orchestrator_id), text(frame));
    return MOOLAI_OK;
}
moolai_status h_emit_event(moolai_host* host, const moolai_event* e) {
    HostState& h = state(host);
    std::lock_guard<std::mutex> lock(h.mu);
    h.event_kinds.push_back(e->kind);
    return MOOLAI_OK;
}
void h_metric_add(moolai_host* host, moolai_str name, double delta) {
    HostState& h = state(host);
    std::lock_guard<std::mutex> lock(h.mu);
    h.counters[text(name)] += delta;
}
void h_metric_set(moolai_host* host, moolai_str name, double value) {
    HostState& h = state(host);
    std::lock_guard<std::mutex> lock(h.mu);
    const std::string n = text(name);
    h.gauges[n] = value;
    auto [it, fresh] = h.gauge_peaks.emplace(n, value);
    if (!fresh) it->second = std::max(it->second, value);
}
int64_t h_now_ms(moolai_host* host) {
    const int64_t frozen = state(host).frozen_ms.load();
    if (frozen != 0) return frozen;
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}
int64_t h_monotonic_ms(moolai_host*) {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

const moolai_host_api* host_api() {
    static const moolai_host_api api = [] {
        moolai_host_api a{};
        // A 1.0 host: this harness does not offer the 1.1 config services.
        a.struct_size = MOOLAI_HOST_API_SIZE_1_0;
        a.abi_major = MOOLAI_ABI_MAJOR;
        a.abi_minor = 0;
        a.log = h_log;
        a.set_error = h_set_error;
        a.write_output = h_write_output;
        a.send_frame = h_send_frame;
        a.emit_event = h_emit_event;
        a.metric_add = h_metric_add;
        a.metric_set = h_metric_set;
        a.now_ms = h_now_ms;
        a.monotonic_ms = h_monotonic_ms;
        return a;
    }();
    return &api;
}

Library::Library(const std::string& path) {
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) throw std::runtime_error("dlopen " + path + ": " + dlerror());
    void* sym = dlsym(handle, MOOLAI_PLUGIN_ENTRY_SYMBOL);
    if (sym == nullptr) throw std::runtime_error("dlsym " + path + ": " + dlerror());
    auto entry = reinterpret_cast<moolai_plugin_entry_fn>(sym);
    desc_ = entry(MOOLAI_ABI_MAJOR, MOOLAI_ABI_MINOR);
    if (desc_ == nullptr) throw std::runtime_error(path + ": entry point returned NULL");
    if (desc_->struct_size < MOOLAI_PLUGIN_DESCRIPTOR_SIZE_1_0)
        throw std::runtime_error(path + ": descriptor struct_size too small");
}

std::unique_ptr<Instance> Instance::create(const Library& lib, std::string_view config_json,
                                           Result* result) {
    auto host = std::make_unique<HostState>();
    moolai_instance* self = nullptr;
    CallState c;
    c.takes_output = false;  // create() has no output
    Result r;
    r.status = lib.descriptor().create(host_api(), host->handle(), str(config_json), c.handle(),
                                       &self);
    r.error = c.error;
    if (result != nullptr) *result = r;
    if (r.status != MOOLAI_OK) {
        if (self != nullptr) throw std::logic_error("create() failed but returned an instance");
        return nullptr;
    }
    if (self == nullptr) throw std::logic_error("create() succeeded without an instance");
    return std::unique_ptr<Instance>(new Instance(lib, std::move(host), self));
}

Instance::~Instance() {
    if (lib_.descriptor().stop != nullptr) lib_.descriptor().stop(self_);
    lib_.descriptor().destroy(self_);
}

}  // namespace moolai::plugin_test
