#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace moolai::bench {

HttpClient::HttpClient(std::string host, uint16_t port, std::string bearer)
    : host_(std::move(host)), port_(port), bearer_(std::move(bearer)) {}

HttpClient::~HttpClient() {
    disconnect();
}

void HttpClient::disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
}

bool HttpClient::connect_socket(std::string& error) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        error = std::string("socket: ") + std::strerror(errno);
        return false;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    if (inet_pton(AF_INET, host_.c_str(), &addr.sin_addr) != 1) {
        error = "not an IPv4 address: " + host_;
        disconnect();
        return false;
    }
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        error = "connect " + host_ + ":" + std::to_string(port_) + ": " + std::strerror(errno);
        disconnect();
        return false;
    }
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return true;
}

HttpReply HttpClient::request(std::string_view method, std::string_view target,
                              std::string_view body) {
    std::string wire;
    wire.reserve(256 + body.size());
    wire.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ");
    wire.append(host_).append(":").append(std::to_string(port_));
    // Pistache closes after each response unless asked to keep the connection.
    wire.append("\r\nConnection: keep-alive\r\n");
    if (!bearer_.empty()) wire.append("Authorization: Bearer ").append(bearer_).append("\r\n");
    if (!body.empty() || method == "POST" || method == "PUT") {
        wire.append("Content-Type: application/json\r\nContent-Length: ");
        wire.append(std::to_string(body.size())).append("\r\n");
    }
    wire.append("\r\n").append(body);
    const bool reused = fd_ >= 0;
    HttpReply r = exchange(wire);
    if (r.status == 0 && reused) {  // the server closed the idle connection
        disconnect();
        r = exchange(wire);
    }
    return r;
}

HttpReply HttpClient::exchange(const std::string& wire) {
    HttpReply r;
    if (fd_ < 0 && !connect_socket(r.error)) return r;
    for (size_t sent = 0; sent < wire.size();) {
        const ssize_t n = ::send(fd_, wire.data() + sent, wire.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            r.error = std::string("send: ") + std::strerror(errno);
            disconnect();
            return r;
        }
        sent += static_cast<size_t>(n);
    }
    size_t header_end = std::string::npos;
    size_t content_length = 0;
    char chunk[16384];
    for (;;) {
        if (header_end == std::string::npos) {
            header_end = buffer_.find("\r\n\r\n");
            if (header_end != std::string::npos) {
                if (buffer_.compare(0, 9, "HTTP/1.1 ") != 0 &&
                    buffer_.compare(0, 9, "HTTP/1.0 ") != 0) {
                    r.error = "not an HTTP response";
                    disconnect();
                    return r;
                }
                r.status = std::atoi(buffer_.c_str() + 9);
                // Header names are case-insensitive; Pistache writes "Content-Length".
                std::string headers = buffer_.substr(0, header_end);
                for (char& c : headers)
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                const size_t cl = headers.find("\r\ncontent-length:");
                if (cl != std::string::npos)
                    content_length = std::strtoull(headers.c_str() + cl + 17, nullptr, 10);
                header_end += 4;
            }
        }
        if (header_end != std::string::npos && buffer_.size() >= header_end + content_length) {
            r.body = buffer_.substr(header_end, content_length);
            buffer_.erase(0, header_end + content_length);
            return r;
        }
        const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0) {
            r.status = 0;
            r.error = n == 0 ? "connection closed" : std::string("recv: ") + std::strerror(errno);
            disconnect();
            return r;
        }
        buffer_.append(chunk, static_cast<size_t>(n));
    }
}

}  // namespace moolai::bench
