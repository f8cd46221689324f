#include "abuse/source_address.hpp"

#include <arpa/inet.h>

#include <cstdio>

namespace moolai::host {

std::string source_key(std::string_view remote) {
    if (!remote.empty() && remote.front() == '[') {
        const size_t close = remote.find(']');
        if (close == std::string_view::npos) return std::string(remote);
        const std::string ip(remote.substr(1, close - 1));
        unsigned char bytes[16];
        if (inet_pton(AF_INET6, ip.c_str(), bytes) != 1) return ip;
        if (ip.rfind("::ffff:", 0) == 0 && ip.find('.') != std::string::npos)
            return ip.substr(7);  // an IPv4 client on a dual-stack socket
        char out[48];
        std::snprintf(out, sizeof out, "%x:%x:%x:%x::/64", bytes[0] << 8 | bytes[1],
                      bytes[2] << 8 | bytes[3], bytes[4] << 8 | bytes[5], bytes[6] << 8 | bytes[7]);
        return out;
    }
    const size_t colon = remote.rfind(':');
    if (colon == std::string_view::npos || remote.find(':') != colon) return std::string(remote);
    return std::string(remote.substr(0, colon));
}

}  // namespace moolai::host
