// The moolai_host_api table the host hands to every plugin, and the
// per-plugin moolai_host context its functions receive.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "moolai/plugin_api.h"
#include "plugins/host_services.hpp"

struct moolai_host {
    std::string plugin_name;
    moolai::host::HostServices* services;
    // The plugin's config block as validated, read by the 1.1 config
    // services; never modified once the plugin is created.
    std::shared_ptr<const nlohmann::json> config;
};

namespace moolai::host {

// Host-owned, valid until exit. Every function is safe on any thread and
// swallows its own exceptions: nothing leaves the host into a plugin.
const moolai_host_api* host_api_table() noexcept;

}  // namespace moolai::host
