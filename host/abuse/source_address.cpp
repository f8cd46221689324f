#include "abuse/source_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>

namespace moolai::host {

namespace {

// An IPv6 address (no brackets, no port) as its /64, or an IPv4-mapped one
// as the IPv4 address; "" when `ip` is not IPv6.
std::string ipv6_key(const std::string& ip) {
    unsigned char bytes[16];
    if (inet_pton(AF_INET6, ip.c_str(), bytes) != 1) return "";
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(kMapped, kMapped + 12, bytes)) {  // an IPv4 client on a dual-stack socket
        char out[16];
        std::snprintf(out, sizeof out, "%u.%u.%u.%u", bytes[12], bytes[13], bytes[14], bytes[15]);
        return out;
    }
    char out[48];
    std::snprintf(out, sizeof out, "%x:%x:%x:%x::/64", bytes[0] << 8 | bytes[1],
                  bytes[2] << 8 | bytes[3], bytes[4] << 8 | bytes[5], bytes[6] << 8 | bytes[7]);
    return out;
}

}  // namespace

std::string source_key(std::string_view remote) {
    if (!remote.empty() && remote.front() == '[') {
        const size_t close = remote.find(']');
        if (close == std::string_view::npos) return std::string(remote);
        const std::string ip(remote.substr(1, close - 1));
        const std::string key = ipv6_key(ip);
        return key.empty() ? ip : key;
    }
    const size_t colon = remote.rfind(':');
    if (colon == std::string_view::npos) return std::string(remote);
    if (remote.find(':') != colon) {  // more than one ':': a bare IPv6 address
        const std::string key = ipv6_key(std::string(remote));
        return key.empty() ? std::string(remote) : key;
    }
    return std::string(remote.substr(0, colon));
}

}  // namespace moolai::host
