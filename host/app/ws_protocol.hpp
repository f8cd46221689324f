// WsProtocol: the orchestrator side of the controller -- what each
// WebSocket frame means. This foundation answers the connection with
// handshake_ack and every frame with an `error` frame; the full protocol
// (register, i_am_alive, ...) is issue #3.
#pragma once

#include <string_view>

#include "moolai/plugin_types.h"
#include "net/ws_server.hpp"

namespace moolai::host {

class Log;

class WsProtocol {
public:
    explicit WsProtocol(Log& log) : log_(log) {}

    WsHandlers handlers();
    void attach(WsServer& server) { server_ = &server; }
    // Queues a frame to the orchestrator's live connection.
    moolai_status send_to(std::string_view orchestrator_id, std::string_view frame);

private:
    void on_open(ConnectionId id);
    void on_message(ConnectionId id, std::string_view frame);

    Log& log_;
    WsServer* server_ = nullptr;
};

}  // namespace moolai::host
