// A blocking HTTP/1.1 client over one keep-alive TCP connection: what the
// benchmark needs to time REST calls without a connection setup in each.
// Responses must carry Content-Length (the controller's all do).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace moolai::bench {

struct HttpReply {
    int status = 0;  // 0: no answer (connection failed or closed)
    std::string body;
    std::string error;  // why status is 0
};

class HttpClient {
public:
    HttpClient(std::string host, uint16_t port, std::string bearer = "");
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Reconnects once when the kept-alive connection turns out closed.
    HttpReply request(std::string_view method, std::string_view target, std::string_view body = "");

private:
    bool connect_socket(std::string& error);
    void disconnect();
    HttpReply exchange(const std::string& wire);

    std::string host_;
    uint16_t port_;
    std::string bearer_;
    int fd_ = -1;
    std::string buffer_;  // bytes read past the previous response
};

}  // namespace moolai::bench
