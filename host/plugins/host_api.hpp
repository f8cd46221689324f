// The moolai_host_api table the host hands to every plugin, and the
// per-plugin moolai_host context its functions receive.
#pragma once

#include <string>

#include "moolai/plugin_api.h"
#include "plugins/host_services.hpp"

struct moolai_host {
    std::string plugin_name;
    moolai::host::HostServices* services;
};

namespace moolai::host {

// Host-owned, valid until exit. Every function is safe on any thread and
// swallows its own exceptions: nothing leaves the host into a plugin.
const moolai_host_api* host_api_table() noexcept;

}  // namespace moolai::host
