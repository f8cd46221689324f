// HttpReceiver: a small HTTP/1.1 server on 127.0.0.1 for webhook tests. It
// records every request it reads and answers with the status the test
// chose for that request's index (0-based), or never answers (a stalled
// receiver). One connection at a time, which is how the webhook posts.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace moolai::test {

struct HttpRequest {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
};

class HttpReceiver {
public:
    static constexpr int kNoAnswer = 0;  // keep the connection open, say nothing

    // `status_for(i)` is the answer to request i.
    explicit HttpReceiver(std::function<int(size_t)> status_for = [](size_t) { return 204; })
        : status_for_(std::move(status_for)) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::listen(listen_fd_, 16) != 0 ||
            ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0 ||
            ::pipe2(wake_, O_CLOEXEC) != 0)
            throw std::runtime_error("HttpReceiver: cannot listen on 127.0.0.1");
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { run(); });
    }

    ~HttpReceiver() {
        const char byte = 0;
        (void)!::write(wake_[1], &byte, 1);
        thread_.join();
        for (int fd : held_) ::close(fd);
        ::close(listen_fd_);
        ::close(wake_[0]);
        ::close(wake_[1]);
    }

    uint16_t port() const { return port_; }
    std::string url(const std::string& path = "/hook") const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }

    // Waits until at least `n` requests were read; false at the deadline.
    bool wait_for(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        std::unique_lock<std::mutex> lock(mu_);
        return changed_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
    }
    std::vector<HttpRequest> requests() const {
        std::lock_guard<std::mutex> lock(mu_);
        return requests_;
    }
    size_t count() const {
        std::lock_guard<std::mutex> lock(mu_);
        return requests_.size();
    }

private:
    // Polls `fd` and the wake pipe; false when the receiver is closing.
    bool wait_readable(int fd) const {
        pollfd p[2] = {{fd, POLLIN, 0}, {wake_[0], POLLIN, 0}};
        while (::poll(p, 2, -1) < 0) {
        }
        return (p[1].revents & POLLIN) == 0;
    }

    void run() {
        while (wait_readable(listen_fd_)) {
            const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) continue;
            HttpRequest r;
            if (!read_request(fd, r)) {
                ::close(fd);
                continue;
            }
            size_t index = 0;
            {
                std::lock_guard<std::mutex> lock(mu_);
                index = requests_.size();
                requests_.push_back(std::move(r));
            }
            changed_.notify_all();
            const int status = status_for_(index);
            if (status == kNoAnswer) {
                held_.push_back(fd);  // the client times out on its own
                continue;
            }
            const std::string answer = "HTTP/1.1 " + std::to_string(status) +
                                       " Test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            (void)!::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
            ::close(fd);
        }
    }

    // Headers, then Content-Length bytes of body. False on a short read.
    bool read_request(int fd, HttpRequest& r) const {
        std::string data;
        size_t header_end = std::string::npos;
        size_t need = 0;
        while (true) {
            if (header_end == std::string::npos) {
                header_end = data.find("\r\n\r\n");
                if (header_end != std::string::npos) {
                    parse_head(data.substr(0, header_end), r);
                    const auto cl = r.headers.find("content-length");
                    need = header_end + 4 + (cl == r.headers.end() ? 0 : std::stoul(cl->second));
                }
            }
            if (header_end != std::string::npos && data.size() >= need) {
                r.body = data.substr(header_end + 4, need - header_end - 4);
                return true;
            }
            if (!wait_readable(fd)) return false;
            char buf[4096];
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) return false;
            data.append(buf, static_cast<size_t>(n));
        }
    }

    static void parse_head(const std::string& head, HttpRequest& r) {
        size_t pos = head.find("\r\n");
        const std::string line = head.substr(0, pos);
        const size_t sp1 = line.find(' '), sp2 = line.find(' ', sp1 + 1);
        r.method = line.substr(0, sp1);
        r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        while (pos != std::string::npos) {
            const size_t start = pos + 2, end = head.find("\r\n", start);
            const std::string h = head.substr(start, end == std::string::npos ? end : end - start);
            const size_t colon = h.find(':');
            if (colon != std::string::npos) {
                std::string name = h.substr(0, colon);
                std::transform(name.begin(), name.end(), name.begin(),
                               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
                const size_t value = h.find_first_not_of(' ', colon + 1);
                r.headers[name] = value == std::string::npos ? "" : h.substr(value);
            }
            pos = end;
        }
    }

    std::function<int(size_t)> status_for_;
    int listen_fd_ = -1;
    int wake_[2] = {-1, -1};
    uint16_t port_ = 0;
    std::vector<int> held_;  // stalled connections, closed at the end
    mutable std::mutex mu_;
    std::condition_variable changed_;
    std::vector<HttpRequest> requests_;
    std::thread thread_;
};

}  // namespace moolai::test
