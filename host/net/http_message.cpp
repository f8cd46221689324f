#include "net/http_message.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <random>

#include "net/http_error.hpp"

namespace moolai::host {

std::string HttpRequest::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (k.size() == name.size() &&
            std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) ==
                       std::tolower(static_cast<unsigned char>(b));
            }))
            return v;
    }
    return {};
}

HttpResponse HttpResponse::json(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

HttpResponse HttpResponse::error(int status, std::string_view code, std::string_view message) {
    return json(status, http_error_body(code, message));
}

bool usable_request_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
            return false;
    return true;
}

std::string new_request_id() {
    thread_local std::mt19937_64 gen{std::random_device{}()};
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(gen()));
    return out;
}

}  // namespace moolai::host
