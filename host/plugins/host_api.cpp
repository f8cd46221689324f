#include "plugins/host_api.hpp"

#include "common/abi_str.hpp"

#include <chrono>

#include "events/event.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "plugins/config_services.hpp"
#include "plugins/plugin_call.hpp"

namespace moolai::host {
namespace {

void api_log(moolai_host* h, int32_t level, moolai_str message) {
    if (h == nullptr) return;
    try {
        LogLevel l = LogLevel::info;
        if (level <= MOOLAI_LOG_DEBUG)
            l = LogLevel::debug;
        else if (level == MOOLAI_LOG_WARN)
            l = LogLevel::warn;
        else if (level >= MOOLAI_LOG_ERROR)
            l = LogLevel::error;
        h->services->log->write(l, h->plugin_name, abi_view(message));
    } catch (...) {
    }
}

void api_set_error(moolai_call* call, moolai_str message) {
    if (call == nullptr || call->error == nullptr) return;
    try {
        call->error->assign(abi_view(message));
    } catch (...) {
    }
}

moolai_status api_write_output(moolai_call* call, moolai_str bytes) {
    if (call == nullptr || call->output == nullptr) return MOOLAI_E_INVALID;
    try {
        call->output->append(abi_view(bytes));
        return MOOLAI_OK;
    } catch (...) {
        return MOOLAI_E_INTERNAL;
    }
}

moolai_status api_send_frame(moolai_host* h, moolai_str orchestrator_id, moolai_str frame) {
    if (h == nullptr || !h->services->send_frame) return MOOLAI_E_UNAVAILABLE;
    try {
        return h->services->send_frame(abi_view(orchestrator_id), abi_view(frame));
    } catch (...) {
        return MOOLAI_E_INTERNAL;
    }
}

moolai_status api_emit_event(moolai_host* h, const moolai_event* event) {
    if (h == nullptr || event == nullptr) return MOOLAI_E_INVALID;
    // Any minor's event covers 1.0, and only 1.0 fields are read.
    if (event->struct_size < MOOLAI_EVENT_SIZE_1_0) return MOOLAI_E_INVALID;
    if (!h->services->publish) return MOOLAI_E_UNAVAILABLE;
    try {
        h->services->publish(Event::copy_of(*event, h->plugin_name));
        return MOOLAI_OK;
    } catch (...) {
        return MOOLAI_E_INTERNAL;
    }
}

Metric* plugin_metric(moolai_host* h, moolai_str name, bool counter) {
    const std::string_view n = abi_view(name);
    if (!Metrics::valid_name(n)) return nullptr;
    const std::string full = "moolai_plugin_" + h->plugin_name + "_" + std::string(n);
    return counter ? h->services->metrics->counter(full) : h->services->metrics->gauge(full);
}

void api_metric_add(moolai_host* h, moolai_str name, double delta) {
    if (h == nullptr) return;
    try {
        if (Metric* m = plugin_metric(h, name, true)) m->add(delta);
    } catch (...) {
    }
}

void api_metric_set(moolai_host* h, moolai_str name, double value) {
    if (h == nullptr) return;
    try {
        if (Metric* m = plugin_metric(h, name, false)) m->set(value);
    } catch (...) {
    }
}

int64_t api_now_ms(moolai_host*) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int64_t api_monotonic_ms(moolai_host*) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// 1.4: a storage plugin's listener thread hands over what arrived.
moolai_status api_deliver_notification(moolai_host* h, moolai_str channel, moolai_str payload) {
    if (h == nullptr) return MOOLAI_E_INVALID;
    if (!h->services->deliver_notification) return MOOLAI_E_NOT_FOUND;
    try {
        return h->services->deliver_notification(abi_view(channel), abi_view(payload));
    } catch (...) {
        return MOOLAI_E_INTERNAL;
    }
}

const moolai_host_api kTable = [] {
    moolai_host_api t{};
    t.struct_size = sizeof(t);
    t.abi_major = MOOLAI_ABI_MAJOR;
    t.abi_minor = MOOLAI_ABI_MINOR;
    t.log = api_log;
    t.set_error = api_set_error;
    t.write_output = api_write_output;
    t.send_frame = api_send_frame;
    t.emit_event = api_emit_event;
    t.metric_add = api_metric_add;
    t.metric_set = api_metric_set;
    t.now_ms = api_now_ms;
    t.monotonic_ms = api_monotonic_ms;
    add_config_services(t);  // 1.1
    t.deliver_notification = api_deliver_notification;
    return t;
}();

}  // namespace

const moolai_host_api* host_api_table() noexcept {
    return &kTable;
}

const char* status_name(moolai_status status) noexcept {
    switch (status) {
        case MOOLAI_OK:
            return "ok";
        case MOOLAI_E_INVALID:
            return "invalid";
        case MOOLAI_E_NOT_FOUND:
            return "not_found";
        case MOOLAI_E_CONFLICT:
            return "conflict";
        case MOOLAI_E_DENIED:
            return "denied";
        case MOOLAI_E_UNAVAILABLE:
            return "unavailable";
        case MOOLAI_E_UNSUPPORTED:
            return "unsupported";
        case MOOLAI_E_INTERNAL:
            return "internal";
        default:
            return "unknown_status";
    }
}

}  // namespace moolai::host
