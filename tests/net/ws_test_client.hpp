#pragma once
// Blocking WebSocket client for tests (websocketpp behind a pimpl, so test
// files including this stay cheap to compile). One io thread per client.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace moolai::test {

class WsTestClient {
public:
    using ms = std::chrono::milliseconds;

    WsTestClient();
    ~WsTestClient();  // closes with 1000 if still open, then joins its thread
    WsTestClient(const WsTestClient&) = delete;
    WsTestClient& operator=(const WsTestClient&) = delete;

    // Before connect(): false = ignore pings (to provoke a pong timeout).
    void set_answer_pings(bool answer);

    // Blocks until the connection is open (true) or has failed (false; see
    // http_status()). authorization is sent as the Authorization header if set.
    bool connect(const std::string& url, const std::string& authorization = "",
                 ms timeout = ms(5000));
    // Status and body of the server's answer to a rejected upgrade (0 / "" if none).
    int http_status() const;
    std::string http_body() const;

    bool send(std::string_view text);
    bool send_binary(std::string_view data);
    // Next received message (text or binary), nullopt on timeout or close.
    std::optional<std::string> receive(ms timeout = ms(5000));
    // Starts the close handshake.
    void close(uint16_t code = 1000, const std::string& reason = "");
    // The close code the server sent (1006 if the connection dropped without
    // one), nullopt if still open after timeout.
    std::optional<uint16_t> wait_closed(ms timeout = ms(5000));
    // The reason text of the server's close frame ("" before or without one).
    std::string close_reason() const;
    int pings_received() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace moolai::test
