#include "app/ws_protocol.hpp"

#include <nlohmann/json.hpp>

#include "observability/log.hpp"

namespace moolai::host {
using nlohmann::json;

namespace {

std::string error_frame(std::string_view code, std::string_view message) {
    return json{{"type", "error"}, {"code", code}, {"message", message}}.dump();
}

}  // namespace

WsHandlers WsProtocol::handlers() {
    WsHandlers h;
    h.on_validate = [](const WsUpgrade&) { return 0; };
    h.on_open = [this](ConnectionId id, const WsUpgrade&) { on_open(id); };
    h.on_message = [this](ConnectionId id, std::string_view frame) { on_message(id, frame); };
    h.on_close = [](ConnectionId, uint16_t) {};
    return h;
}

void WsProtocol::on_open(ConnectionId id) {
    if (server_ != nullptr) server_->send(id, R"({"type":"handshake_ack","success":true})");
}

void WsProtocol::on_message(ConnectionId id, std::string_view frame) {
    if (server_ == nullptr) return;
    const json j = json::parse(frame, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        server_->send(id, error_frame("invalid_json", "the frame is not a JSON object"));
        return;
    }
    const auto type = j.find("type");
    if (type == j.end() || !type->is_string()) {
        server_->send(id, error_frame("missing_type", "the frame has no string \"type\""));
        return;
    }
    server_->send(id, error_frame("unsupported_type",
                                  "frame type \"" + type->get<std::string>() +
                                      "\" is not handled by this controller version"));
}

moolai_status WsProtocol::send_to(std::string_view, std::string_view) {
    return MOOLAI_E_NOT_FOUND;  // no orchestrator registers before issue #3
}

}  // namespace moolai::host
