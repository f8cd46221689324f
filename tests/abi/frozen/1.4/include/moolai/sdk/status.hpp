// moolai/sdk/status.hpp -- statuses, borrowed strings and the exception a
// plugin method throws to fail its call.
#ifndef MOOLAI_SDK_STATUS_HPP
#define MOOLAI_SDK_STATUS_HPP

#include <cstddef>
#include <exception>
#include <string>
#include <string_view>
#include <utility>

#include "moolai/plugin_types.h"

namespace moolai::sdk {

using Status = moolai_status;

inline std::string_view view(moolai_str s) noexcept {
    return s.len != 0 ? std::string_view(s.ptr, static_cast<size_t>(s.len)) : std::string_view();
}

inline moolai_str str(std::string_view v) noexcept { return moolai_str{v.data(), v.size()}; }

// Throw from any plugin method to fail the call with this status and text.
// Any other exception becomes MOOLAI_E_INTERNAL with its what() text.
class Error : public std::exception {
public:
    Error(Status status, std::string message) : status_(status), message_(std::move(message)) {}
    Status status() const noexcept { return status_; }
    const char* what() const noexcept override { return message_.c_str(); }

private:
    Status status_;
    std::string message_;
};

}  // namespace moolai::sdk

#endif  // MOOLAI_SDK_STATUS_HPP
