#include "net/forwarded_for.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace moolai::host {

std::string peer_ip_of(std::string_view remote) {
    std::string_view ip = remote;
    if (!ip.empty() && ip.front() == '[') {
        ip = ip.substr(1, ip.find(']') == std::string_view::npos ? ip.npos : ip.find(']') - 1);
    } else if (const size_t colon = ip.rfind(':');
               colon != std::string_view::npos && ip.find(':') == colon) {
        ip = ip.substr(0, colon);  // IPv4 with a port
    }
    constexpr std::string_view kMapped = "::ffff:";
    if (ip.size() > kMapped.size() && ip.substr(0, kMapped.size()) == kMapped &&
        ip.find('.') != std::string_view::npos)
        ip.remove_prefix(kMapped.size());
    return std::string(ip);
}

bool address_matches(const std::string& ip, const std::string& entry) {
    const size_t slash = entry.find('/');
    if (slash == std::string::npos) return ip == entry;
    const std::string net = entry.substr(0, slash);
    char* end = nullptr;
    const long prefix = std::strtol(entry.c_str() + slash + 1, &end, 10);
    if (end == entry.c_str() + slash + 1 || *end != '\0' || prefix < 0) return false;
    unsigned char a[16], n[16];
    size_t bytes = 4;
    if (inet_pton(AF_INET, ip.c_str(), a) == 1 && inet_pton(AF_INET, net.c_str(), n) == 1) {
        bytes = 4;
    } else if (inet_pton(AF_INET6, ip.c_str(), a) == 1 &&
               inet_pton(AF_INET6, net.c_str(), n) == 1) {
        bytes = 16;
    } else {
        return false;
    }
    if (static_cast<size_t>(prefix) > bytes * 8) return false;
    const size_t whole = static_cast<size_t>(prefix) / 8, bits = static_cast<size_t>(prefix) % 8;
    if (std::memcmp(a, n, whole) != 0) return false;
    if (bits == 0) return true;
    const auto mask = static_cast<unsigned char>(0xff << (8 - bits));
    return (a[whole] & mask) == (n[whole] & mask);
}

std::string forwarded_client(const std::string& peer_ip, std::string_view forwarded_for,
                             const std::vector<std::string>& trusted_proxies) {
    if (std::none_of(trusted_proxies.begin(), trusted_proxies.end(),
                     [&](const std::string& e) { return address_matches(peer_ip, e); }))
        return peer_ip;
    std::string_view last = forwarded_for;
    if (const size_t comma = last.rfind(','); comma != std::string_view::npos)
        last.remove_prefix(comma + 1);
    while (!last.empty() && last.front() == ' ') last.remove_prefix(1);
    while (!last.empty() && last.back() == ' ') last.remove_suffix(1);
    // An address is at most 45 characters (IPv6 with an IPv4 tail).
    return last.empty() || last.size() > 45 ? peer_ip : std::string(last);
}

}  // namespace moolai::host
