// The host's side of one call into a plugin: where write_output and
// set_error put their copies. Plain strings, so a call that outputs
// nothing allocates nothing (the heartbeat path relies on that).
#pragma once

#include <string>

#include "moolai/plugin_types.h"

struct moolai_call {
    std::string* output;  // nullptr: this call takes no output
    std::string* error;
};

namespace moolai::host {

struct CallResult {
    moolai_status status = MOOLAI_OK;
    std::string output;
    std::string error;

    bool ok() const noexcept { return status == MOOLAI_OK; }
};

const char* status_name(moolai_status status) noexcept;

}  // namespace moolai::host
