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
