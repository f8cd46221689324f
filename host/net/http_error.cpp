#include "net/http_error.hpp"

#include <nlohmann/json.hpp>

namespace moolai::host {

std::string_view http_error_code(int status) {
    switch (status) {
        case 400:
            return "bad_request";
        case 401:
            return "unauthorized";
        case 403:
            return "forbidden";
        case 404:
            return "not_found";
        case 405:
            return "method_not_allowed";
        case 408:
            return "request_timeout";
        case 409:
            return "conflict";
        case 411:
            return "length_required";
        case 413:
            return "payload_too_large";
        case 415:
            return "unsupported_media_type";
        case 422:
            return "unprocessable";
        case 426:
            return "upgrade_required";
        case 429:
            return "rate_limited";
        case 431:
            return "headers_too_large";
        case 500:
            return "internal";
        case 501:
            return "not_implemented";
        case 503:
            return "unavailable";
        default:
            return status >= 500 ? "internal" : "error";
    }
}

std::string http_error_body(std::string_view code, std::string_view message) {
    const nlohmann::json j = {
        {"success", false},
        {"error", {{"code", std::string(code)}, {"message", std::string(message)}}},
        {"detail", std::string(message)}};
    // replace: a message echoing client bytes may not be valid UTF-8.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace moolai::host
