#include "http_test_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace moolai::test {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool send_all(int fd, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
        const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += static_cast<size_t>(n);
    }
    return true;
}

}  // namespace

int tcp_connect(uint16_t port, int timeout_ms, const std::string& host,
                const std::string& source) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (!source.empty()) {
        sockaddr_in local{};
        local.sin_family = AF_INET;
        if (::inet_pton(AF_INET, source.c_str(), &local.sin_addr) != 1 ||
            ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
            ::close(fd);
            return -1;
        }
    }
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

HttpResult read_response(int fd) {
    HttpResult r;
    std::string buf;
    char chunk[16384];
    size_t header_end = std::string::npos;
    // Status line and headers.
    while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            r.error = n == 0 ? "connection closed before a response" : std::strerror(errno);
            return r;
        }
        buf.append(chunk, static_cast<size_t>(n));
    }
    const std::string head = buf.substr(0, header_end);
    std::string rest = buf.substr(header_end + 4);
    size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    const size_t sp = status_line.find(' ');
    if (sp == std::string::npos) {
        r.error = "bad status line: " + status_line;
        return r;
    }
    r.status = std::atoi(status_line.c_str() + sp + 1);
    while (line_end != std::string::npos && line_end < head.size()) {
        const size_t start = line_end + 2;
        line_end = head.find("\r\n", start);
        const size_t len = line_end == std::string::npos ? std::string::npos : line_end - start;
        const std::string line = head.substr(start, len);
        const size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        size_t v = colon + 1;
        while (v < line.size() && line[v] == ' ') ++v;
        r.headers[lower(line.substr(0, colon))] = line.substr(v);
    }
    // Body: exactly Content-Length bytes, or until EOF without one.
    const std::string cl = r.header("content-length");
    const bool sized = !cl.empty();
    const size_t want = sized ? std::strtoul(cl.c_str(), nullptr, 10) : 0;
    r.body = std::move(rest);
    while (!sized || r.body.size() < want) {
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0 && !sized) break;
        if (n <= 0) {
            r.error = n == 0 ? "connection closed mid-body" : std::strerror(errno);
            break;
        }
        r.body.append(chunk, static_cast<size_t>(n));
    }
    if (sized && r.body.size() > want) r.body.resize(want);
    return r;
}

HttpResult http_raw(uint16_t port, const std::string& raw, int timeout_ms,
                    const std::string& host, const std::string& source) {
    HttpResult r;
    const int fd = tcp_connect(port, timeout_ms, host, source);
    if (fd < 0) {
        r.error = std::string("connect failed: ") + std::strerror(errno);
        return r;
    }
    // A server may answer (e.g. 413) before reading everything: still read it.
    const bool sent = send_all(fd, raw);
    r = read_response(fd);
    if (!sent && r.status == 0) r.error = "send failed; " + r.error;
    ::close(fd);
    return r;
}

HttpResult http_request(uint16_t port, const std::string& method, const std::string& target,
                        const std::string& body, const HttpHeaders& headers, int timeout_ms,
                        const std::string& host, const std::string& source) {
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host + ":" +
                      std::to_string(port) + "\r\nConnection: close\r\n";
    bool typed = false;
    for (const auto& [k, v] : headers) {
        req += k + ": " + v + "\r\n";
        typed = typed || lower(k) == "content-type";
    }
    // Like most clients' json= helpers: a body is JSON unless said otherwise.
    if (!body.empty() && !typed) req += "Content-Type: application/json\r\n";
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n" + body;
    return http_raw(port, req, timeout_ms, host, source);
}

}  // namespace moolai::test
