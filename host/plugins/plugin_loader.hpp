// PluginLoader: opens a plugin shared object, checks it against this
// host's ABI, validates its config block against its schema and creates
// its instance. Every refusal is one line naming the file, the plugin's
// ABI version, the host's, and the fix. Libraries are never unloaded.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "plugins/loaded_plugin.hpp"

namespace moolai::host {

struct HostServices;

class PluginRefused : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The capability tables a descriptor declared; NULL for the others.
struct DescriptorTables {
    const moolai_auth_v1* auth = nullptr;
    const moolai_independence_v1* independence = nullptr;
    const moolai_messaging_v1* messaging = nullptr;
    const moolai_storage_v1* storage = nullptr;
    const moolai_observer_v1* observer = nullptr;
};

// The loader's checks of what moolai_plugin_entry() returned -- versions,
// struct sizes, name, threading, required functions, capability tables --
// apart from dlopen, so they can be fuzzed. Calls no plugin function but
// d->get_capability. Throws PluginRefused naming `path`.
DescriptorTables check_plugin_descriptor(const std::string& path,
                                         const moolai_plugin_descriptor* d);

class PluginLoader {
public:
    explicit PluginLoader(HostServices& services) : services_(services) {}

    // Throws PluginRefused. `path` should be absolute (Boost.DLL resolves a
    // bare name against the working directory, not the library path).
    std::unique_ptr<LoadedPlugin> load(const std::string& path, const nlohmann::json& config);

private:
    HostServices& services_;
};

}  // namespace moolai::host
