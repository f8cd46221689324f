// The key an abuse limit counts by: the client's address without its port;
// for IPv6 its /64 network, since one host is usually handed a whole /64
// and could otherwise step to a fresh address for every attempt.
#pragma once

#include <string>
#include <string_view>

namespace moolai::host {

// "192.0.2.7:51234" and "192.0.2.7" -> "192.0.2.7";
// "[2001:db8:1:2:3:4:5:6]:443" and "2001:db8:1:2:3:4:5:6" -> "2001:db8:1:2::/64";
// "[::ffff:192.0.2.7]:80" -> "192.0.2.7". Anything else is returned as it is.
std::string source_key(std::string_view remote);

}  // namespace moolai::host
