// LoadedPlugin: one plugin that passed every load check, with its
// descriptor, its capability tables and its instance. Calls go through
// call(), which applies the plugin's threading rule (a per-plugin lock for
// SERIALIZED plugins, none for CONCURRENT ones).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "moolai/plugin_api.h"
#include "plugins/host_api.hpp"
#include "plugins/plugin_call.hpp"

namespace moolai::host {

class LoadedPlugin {
public:
    LoadedPlugin(const LoadedPlugin&) = delete;
    LoadedPlugin& operator=(const LoadedPlugin&) = delete;
    ~LoadedPlugin();  // stop() + destroy() if not done; never unloads the library

    const std::string& name() const noexcept { return name_; }
    const std::string& path() const noexcept { return path_; }
    std::string version() const { return descriptor_->version; }
    std::string description() const { return descriptor_->description; }
    uint64_t capabilities() const noexcept { return descriptor_->capabilities; }
    bool concurrent() const noexcept { return !serialized_; }
    // "1.0" as built, and the minimum host minor it needs.
    std::string abi_version() const;
    uint32_t abi_minor_required() const noexcept { return descriptor_->abi_minor_required; }

    const moolai_auth_v1* auth() const noexcept { return auth_; }
    const moolai_independence_v1* independence() const noexcept { return independence_; }
    const moolai_messaging_v1* messaging() const noexcept { return messaging_; }
    const moolai_storage_v1* storage() const noexcept { return storage_; }
    const moolai_observer_v1* observer() const noexcept { return observer_; }

    // Runs fn(instance, call) -> moolai_status under the threading rule.
    template <class Fn>
    CallResult call(Fn&& fn) const {
        CallResult r;
        moolai_call c{&r.output, &r.error};
        std::unique_lock<std::mutex> lock(mutex_, std::defer_lock);
        if (serialized_) lock.lock();
        r.status = normalize(fn(instance_, &c));
        return r;
    }

    // Lifecycle, main thread only.
    CallResult start();
    void stop() noexcept;
    void destroy() noexcept;

private:
    friend class PluginLoader;
    LoadedPlugin() = default;
    static moolai_status normalize(moolai_status s) noexcept {
        return s >= MOOLAI_OK && s <= MOOLAI_E_INTERNAL ? s : MOOLAI_E_INTERNAL;
    }

    std::string name_;
    std::string path_;
    const moolai_plugin_descriptor* descriptor_ = nullptr;
    std::unique_ptr<moolai_host> host_context_;
    moolai_instance* instance_ = nullptr;
    bool serialized_ = true;
    bool started_ = false;
    bool stopped_ = false;
    mutable std::mutex mutex_;
    const moolai_auth_v1* auth_ = nullptr;
    const moolai_independence_v1* independence_ = nullptr;
    const moolai_messaging_v1* messaging_ = nullptr;
    const moolai_storage_v1* storage_ = nullptr;
    const moolai_observer_v1* observer_ = nullptr;
};

}  // namespace moolai::host
