// What this binary is: `moolai-controller --version`, moolai_build_info,
// and the start-up log line. Generated at build time (cmake/BuildInfo.cmake).
#pragma once

#include <string>

namespace moolai::host {

extern const char* const kBuildVersion;  // the project version, "0.1.0"
extern const char* const kBuildType;     // CMAKE_BUILD_TYPE
extern const char* const kBuildCommit;   // short git commit, "-dirty" when modified, or "unknown"

// "major.minor" of the plugin ABI this host implements.
std::string abi_version_string();

}  // namespace moolai::host
