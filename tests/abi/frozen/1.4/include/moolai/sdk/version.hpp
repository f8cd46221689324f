// moolai/sdk/version.hpp -- the SDK's version: the one place it is written.
// sdk/CMakeLists.txt (the CMake package version) and conan/conanfile.py
// (the Conan package version) read it from here. Major.minor follow the
// plugin ABI the SDK is written against (moolai/plugin_types.h); the patch
// counts SDK-only releases.
#ifndef MOOLAI_SDK_VERSION_HPP
#define MOOLAI_SDK_VERSION_HPP

#define MOOLAI_SDK_VERSION_MAJOR 1
#define MOOLAI_SDK_VERSION_MINOR 4
#define MOOLAI_SDK_VERSION_PATCH 0
#define MOOLAI_SDK_VERSION_STRING "1.4.0"

#endif  // MOOLAI_SDK_VERSION_HPP
