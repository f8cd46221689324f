// moolai/sdk/core.hpp -- value types a plugin author works with: strings,
// errors, the host's services and the call in progress.
//
// Header-only C++17 over the C contract (moolai/plugin_api.h); no
// third-party dependency. Nothing here crosses the ABI as a C++ type.
#ifndef MOOLAI_SDK_CORE_HPP
#define MOOLAI_SDK_CORE_HPP

#include <cstdint>
#include <string_view>

#include "moolai/plugin_api.h"
#include "moolai/sdk/config.hpp"
#include "moolai/sdk/status.hpp"

namespace moolai::sdk {

// The host's services for one loaded plugin. Cheap to copy; valid for the
// life of the process. Every method may be called from any thread.
class Host {
public:
    Host(const moolai_host_api* api, moolai_host* host) noexcept : api_(api), host_(host) {}

    void log(int32_t level, std::string_view message) const noexcept {
        api_->log(host_, level, str(message));
    }
    void debug(std::string_view m) const noexcept { log(MOOLAI_LOG_DEBUG, m); }
    void info(std::string_view m) const noexcept { log(MOOLAI_LOG_INFO, m); }
    void warn(std::string_view m) const noexcept { log(MOOLAI_LOG_WARN, m); }
    void error(std::string_view m) const noexcept { log(MOOLAI_LOG_ERROR, m); }

    // Queues a text frame for a connected orchestrator (on another host of
    // the same store too, since 1.4); false when it is connected nowhere.
    bool send_frame(std::string_view orchestrator_id, std::string_view frame) const noexcept {
        return api_->send_frame(host_, str(orchestrator_id), str(frame)) == MOOLAI_OK;
    }
    Status emit(const moolai_event& event) const noexcept { return api_->emit_event(host_, &event); }
    void metric_add(std::string_view name, double delta) const noexcept {
        api_->metric_add(host_, str(name), delta);
    }
    void metric_set(std::string_view name, double value) const noexcept {
        api_->metric_set(host_, str(name), value);
    }
    int64_t now_ms() const noexcept { return api_->now_ms(host_); }
    int64_t monotonic_ms() const noexcept { return api_->monotonic_ms(host_); }

    // Hands the host a notification from a cross-host channel (ABI 1.4;
    // MOOLAI_E_UNSUPPORTED from an older host, which never asks to listen).
    Status deliver_notification(std::string_view channel, std::string_view payload) const noexcept {
        if (!MOOLAI_HAS_FIELD(api_, moolai_host_api, deliver_notification) ||
            api_->deliver_notification == nullptr)
            return MOOLAI_E_UNSUPPORTED;
        return api_->deliver_notification(host_, str(channel), str(payload));
    }

    // The plugin's config block, read by JSON Pointer (ABI 1.1 host
    // services; Config::available() says whether this host has them).
    Config config() const noexcept { return Config(api_, host_); }

    // The host's minor version. A plugin that calls a host function
    // appended after its abi_minor_required checks for it first, with
    // MOOLAI_HAS_FIELD(api(), moolai_host_api, <function>).
    uint32_t abi_minor() const noexcept { return api_->abi_minor; }
    const moolai_host_api* api() const noexcept { return api_; }
    moolai_host* handle() const noexcept { return host_; }

private:
    const moolai_host_api* api_;
    moolai_host* host_;
};

// The call in progress: where results and error text go. Valid only inside
// the method it was passed to; never store it or hand it to a thread.
class Call {
public:
    Call(const moolai_host_api* api, moolai_call* call) noexcept : api_(api), call_(call) {}

    // Appends bytes to the call's result (the host copies them).
    Status output(std::string_view bytes) const noexcept {
        return api_->write_output(call_, str(bytes));
    }
    // Attaches `message` and returns `status`: `return call.fail(MOOLAI_E_NOT_FOUND, "...");`
    Status fail(Status status, std::string_view message) const noexcept {
        api_->set_error(call_, str(message));
        return status;
    }

private:
    const moolai_host_api* api_;
    moolai_call* call_;
};

// Base of every plugin class. The constructor receives the host and the
// plugin's config block (JSON, already checked against config_schema) and
// may throw to refuse it: the text becomes the host's start-up error.
class Plugin {
public:
    explicit Plugin(Host host) noexcept : host_(host) {}
    virtual ~Plugin() = default;
    Plugin(const Plugin&) = delete;
    Plugin& operator=(const Plugin&) = delete;

    // Starts background work; called once after every plugin was created.
    virtual Status start(Call&) { return MOOLAI_OK; }
    // Stops background work and joins its threads; called once at shutdown.
    virtual void stop() noexcept {}

    const Host& host() const noexcept { return host_; }

private:
    Host host_;
};

}  // namespace moolai::sdk

#endif  // MOOLAI_SDK_CORE_HPP
