// Who the client is when a proxy stands in front: the peer's address, or --
// when the peer is a trusted proxy -- the last address in X-Forwarded-For,
// the one that proxy appended itself (earlier ones are the client's to
// make up).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace moolai::host {

// "ip:port", "[ip]:port" -> "ip"; an IPv4-mapped IPv6 address
// ("::ffff:192.0.2.7") as the IPv4 one.
std::string peer_ip_of(std::string_view remote);

// `ip` is `entry`, an address, or lies in it, a network ("10.0.0.0/8",
// "fd00::/8").
bool address_matches(const std::string& ip, const std::string& entry);

// peer_ip: the TCP peer without port; trusted_proxies: addresses and networks. An empty or over-long header from a
// trusted proxy leaves the peer's address.
std::string forwarded_client(const std::string& peer_ip, std::string_view forwarded_for,
                             const std::vector<std::string>& trusted_proxies);

}  // namespace moolai::host
