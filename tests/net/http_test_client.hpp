#pragma once
// Minimal blocking HTTP/1.1 client for tests: POSIX sockets, one request per
// connection ("Connection: close"). Reads exactly Content-Length bytes, because
// Pistache keeps sockets open despite "Connection: close".

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace moolai::test {

struct HttpResult {
    int status = 0;  // 0 = no response (see error)
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
    std::string error;  // transport problem, "" when fine

    std::string header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// target: path with optional query, sent as-is (not encoded). A body goes
// with Content-Type: application/json unless `headers` names another.
HttpResult http_request(uint16_t port, const std::string& method, const std::string& target,
                        const std::string& body = "", const HttpHeaders& headers = {},
                        int timeout_ms = 5000, const std::string& host = "127.0.0.1",
                        const std::string& source = "");

// Sends raw bytes and reads one response (for malformed or oversized requests).
HttpResult http_raw(uint16_t port, const std::string& raw, int timeout_ms = 5000,
                    const std::string& host = "127.0.0.1", const std::string& source = "");

// A connected TCP socket to host:port, or -1. The caller closes it.
// source: the local IPv4 address to connect from ("" = the kernel's choice);
// any 127.x.y.z works on loopback, so tests can play several clients.
int tcp_connect(uint16_t port, int timeout_ms = 5000, const std::string& host = "127.0.0.1",
                const std::string& source = "");

// Reads one HTTP response from an open socket (for keep-alive tests).
HttpResult read_response(int fd);

}  // namespace moolai::test
