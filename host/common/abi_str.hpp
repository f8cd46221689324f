// The one conversion between the host's strings and the ABI's moolai_str
// (a pointer and a length, not NUL-terminated, borrowed, never owned).
#pragma once

#include <string>
#include <string_view>

#include "moolai/plugin_types.h"

namespace moolai::host {

// Borrows `s`: valid while the string it views is.
inline moolai_str abi_str(std::string_view s) noexcept {
    return moolai_str{s.data(), s.size()};
}

// A plugin may pass {NULL, 0} for "": both read as empty.
inline std::string_view abi_view(moolai_str s) noexcept {
    return s.len != 0 && s.ptr != nullptr ? std::string_view(s.ptr, s.len) : std::string_view();
}

inline std::string abi_string(moolai_str s) {
    return std::string(abi_view(s));
}

}  // namespace moolai::host
