// The ABI 1.1 config services of the host API table: a plugin reads its
// own validated config block (moolai_host::config) by JSON Pointer.
#pragma once

#include "moolai/plugin_api.h"

namespace moolai::host {

// Fills the config_* entries of `table`.
void add_config_services(moolai_host_api& table) noexcept;

}  // namespace moolai::host
