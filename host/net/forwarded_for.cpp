#include "net/forwarded_for.hpp"

#include <algorithm>

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

std::string forwarded_client(const std::string& peer_ip, std::string_view forwarded_for,
                             const std::vector<std::string>& trusted_proxies) {
    if (trusted_proxies.empty() ||
        std::find(trusted_proxies.begin(), trusted_proxies.end(), peer_ip) ==
            trusted_proxies.end())
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
