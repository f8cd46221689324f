#pragma once
// A small blocking HTTP/1.1 client for the controller's REST API, plain or
// over TLS (Boost.Beast behind a pimpl, so only http_client.cpp pays for
// Beast). One keep-alive connection, reopened when the server closed it.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace moolai::sim {

struct HttpReply {
    int status = 0;
    std::string body;
    std::string retry_after;  // the Retry-After header, "" when absent
};

class HttpClient {
public:
    // base_url: http[s]://host[:port][/prefix]. https verifies the server's
    // certificate and name against `ca_file` (PEM), or the system's CAs when
    // it is empty. Throws std::invalid_argument for anything else, or a CA
    // file that cannot be read.
    explicit HttpClient(const std::string& base_url, const std::string& ca_file = "",
                        std::chrono::milliseconds timeout = std::chrono::seconds(10));
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // target: the path after the prefix, with its query. bearer: sent as
    // Authorization: Bearer when not empty. Throws std::runtime_error when the
    // server cannot be reached or answers garbage (after one retry on a fresh
    // connection).
    HttpReply request(const std::string& method, const std::string& target,
                      const std::string& body = "", const std::string& bearer = "");

    const std::string& base_url() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace moolai::sim
