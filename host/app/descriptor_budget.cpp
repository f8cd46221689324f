#include "app/descriptor_budget.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace moolai::host {

namespace {

// Descriptors open now (storage, plugins, logs, the listening sockets...).
size_t open_descriptors() {
    std::error_code ec;
    size_t n = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
         it.increment(ec))
        ++n;
    return n;
}

}  // namespace

size_t connection_budget() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 0;
    const size_t limit = static_cast<size_t>(rl.rlim_cur);
    const size_t taken = open_descriptors() + std::min<size_t>(512, limit / 4);
    return limit > taken ? limit - taken : 1;
}

}  // namespace moolai::host
