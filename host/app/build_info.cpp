#include "app/build_info.hpp"

#include <moolai/plugin_api.h>

namespace moolai::host {

std::string abi_version_string() {
    return std::to_string(MOOLAI_ABI_MAJOR) + "." + std::to_string(MOOLAI_ABI_MINOR);
}

}  // namespace moolai::host
