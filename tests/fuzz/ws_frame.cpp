// Fuzz target: an orchestrator frame as WsProtocol::on_message reads it.
// First the heartbeat fast path (scan_heartbeat_frame): whatever it accepts
// skips the full parser, so the full parser must read it the same way.
// Then the full path's reading without a connection: the JSON parse, the
// frame types' field checks (usage_record for usage_report) and the frames
// written back, which quote the sender's strings.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fleet/fleet_state.hpp"
#include "orchestrators/usage_record.hpp"
#include "orchestrators/ws_protocol.hpp"

namespace {

using moolai::host::HeartbeatFrame;
using nlohmann::json;

// A broken property is a finding: abort so libFuzzer keeps the input.
[[noreturn]] void fail(const char* what, std::string_view frame) {
    std::fprintf(stderr, "ws_frame: %s: %.*s\n", what, static_cast<int>(frame.size()),
                 frame.data());
    std::abort();
}

void check_fast_path_agrees(std::string_view frame, const HeartbeatFrame& hb, const json& j) {
    if (j.is_discarded() || !j.is_object()) fail("fast path accepted a non-object", frame);
    const auto type = j.find("type");
    if (type == j.end() || (*type != "i_am_alive" && *type != "keepalive"))
        fail("fast path and parser disagree on the type", frame);
    if (j.size() != (hb.names_orchestrator ? 2u : 1u))
        fail("fast path and parser disagree on the keys", frame);
    if (hb.names_orchestrator) {
        const auto id = j.find("orchestrator_id");
        if (id == j.end() || *id != std::string(hb.orchestrator_id))
            fail("fast path and parser disagree on orchestrator_id", frame);
    }
}

// What the handlers of on_message read before storage or a plugin is asked.
void full_path(const json& j) {
    const auto type = j.find("type");
    if (type == j.end() || !type->is_string()) return;
    const std::string& t = type->get_ref<const std::string&>();
    // Error frames quote the type back.
    (void)json{{"type", "error"}, {"message", "frame type \"" + t + "\" is not handled"}}.dump();
    if (t == "register" || t == "handshake") {
        json reg = j;
        if (t == "handshake") {
            const auto data = j.find("data");
            reg = data != j.end() && data->is_object() ? *data : json::object();
            if (j.contains("token")) reg["token"] = j["token"];
        }
        const auto meta = reg.find("metadata");
        if (meta != reg.end() && meta->is_object())
            (void)json{{"metadata", *meta}}.dump();  // what storage is given
    } else if (t == "usage_report") {
        static const moolai::host::Orchestrator from("orch-fuzz", "org-fuzz");
        const moolai::host::UsageRecord u = moolai::host::usage_record(j, from);
        if (!u.problem) (void)u.record.dump();
    } else if (t == "update_metadata" || t == "o_config_snapshot") {
        const auto m = j.find(t == "update_metadata" ? "metadata" : "data");
        if (m != j.end() && m->is_object()) (void)json{{"metadata", *m}}.dump();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view frame(reinterpret_cast<const char*>(data), size);
    HeartbeatFrame hb;
    const bool fast = moolai::host::scan_heartbeat_frame(frame, hb);
    const json j = json::parse(frame, nullptr, false);
    if (fast) check_fast_path_agrees(frame, hb, j);
    if (!j.is_discarded() && j.is_object()) full_path(j);
    return 0;
}
