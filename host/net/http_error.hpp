// The JSON body of every HTTP error the host sends, from the REST server and
// from the WebSocket server's refused handshakes alike.
#pragma once

#include <string>
#include <string_view>

namespace moolai::host {

// Machine-readable error code used for a status in our error bodies:
// 400 "bad_request", 401 "unauthorized", 404 "not_found", 500 "internal", ...
std::string_view http_error_code(int status);

// {"success":false,"error":{"code":code,"message":message},"detail":message};
// bytes of `message` that are not UTF-8 become U+FFFD.
std::string http_error_body(std::string_view code, std::string_view message);

}  // namespace moolai::host
