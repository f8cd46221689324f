// accept4 as Pistache's listener sees it (see net/accept_pacing.hpp). Only
// Pistache calls accept4 in this process (Boost.Asio calls accept), and a
// definition in the executable comes first in symbol lookup, so this one
// wraps the C library's (or a sanitizer's) for it.
#include <dlfcn.h>
#include <sys/socket.h>

#include <cerrno>

#include "net/accept_pacing.hpp"

extern "C" int accept4(int fd, sockaddr* addr, socklen_t* addr_len, int flags) {
    using Accept4 = int (*)(int, sockaddr*, socklen_t*, int);
    static const auto next = reinterpret_cast<Accept4>(dlsym(RTLD_NEXT, "accept4"));
    if (next == nullptr) {
        errno = ENOSYS;
        return -1;
    }
    const int r = next(fd, addr, addr_len, flags);
    if (r < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
        const int error = errno;
        moolai::host::pace_failed_accept(error);
        errno = error;
    }
    return r;
}
