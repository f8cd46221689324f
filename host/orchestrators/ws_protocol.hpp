// WsProtocol: what each orchestrator frame means (docs/protocol.md).
// register -> provisioning (then held messages go out), i_am_alive ->
// heartbeat_ack, request_status -> status, update_metadata, usage_report,
// message_ack; the older generation's handshake / keepalive /
// o_config_snapshot as aliases. Every other or bad frame gets an `error`
// frame and the connection stays usable.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "events/event.hpp"
#include "fleet/fleet_state.hpp"
#include "moolai/plugin_types.h"
#include "net/ws_server.hpp"
#include "plugins/plugin_call.hpp"

namespace moolai::host {

class HeartbeatPace;

class Histogram;
class LockedBackoff;
class Log;
class LogLimiter;
class MessageDelivery;
class OrchestratorCreator;
class UnknownOrchestratorWait;
class PluginSet;
class StorageWriter;

// What the heartbeat fast path recognized in a frame.
struct HeartbeatFrame {
    bool names_orchestrator = false;   // the frame has "orchestrator_id"
    std::string_view orchestrator_id;  // its value (no escapes in it), into the frame
};

// Recognizes the frames orchestrators send most -- {"type":"i_am_alive"}
// or "keepalive", optionally with "orchestrator_id", keys in either order,
// JSON whitespace anywhere -- without building a JSON tree. Accepts only
// strings of printable ASCII without escapes, so what it accepts means the
// same to the full parser. Anything else, including every malformed frame,
// returns false and goes to the full parser, which has the final word.
bool scan_heartbeat_frame(std::string_view frame, HeartbeatFrame& out) noexcept;

class WsProtocol {
public:
    struct Deps {
        Log& log;
        FleetState& fleet;
        const PluginSet& plugins;
        std::function<void(Event&&)> publish;
        bool open_mode;  // MOOLAI_ORCHESTRATOR_AUTH=open: unknown orchestrators are created
        int heartbeat_interval_sec;
        MessageDelivery& delivery;
        // For connections other than the one a handler serves: a frame for
        // an orchestrator (send_to), a connection replaced or deregistered.
        WsServer& server;
        // Usage reports, metadata and message acks go to storage through
        // this queue: no frame waits for storage on an io thread.
        StorageWriter& writes;
        // Open mode's creation of unknown orchestrators, off the io threads.
        OrchestratorCreator& creator;
        // Time from a heartbeat frame to its queued ack (optional).
        Histogram* heartbeat_ack_seconds = nullptr;
        // MOOLAI_ORCHESTRATOR_AUTH=mtls / mtls+token: a register needs a
        // verified client certificate naming its orchestrator_id (CN or a
        // SAN), and with mtls alone no token.
        bool cert_required = false;
        bool token_required = true;
        // Failed registrations per source address (optional): past its free
        // failures a source waits, doubling, before its next register is
        // even looked at (closed 4429); `refusal_log` keeps the lines about
        // them to one per source per interval.
        LockedBackoff* failed_registers = nullptr;
        LogLimiter* refusal_log = nullptr;
        // The interval told in provisioning and heartbeat_ack when it
        // follows the fleet (optional; heartbeat_interval_sec otherwise).
        const HeartbeatPace* pace = nullptr;
        // Several hosts (optional): a register of an id unknown here waits,
        // bounded, for another host's notice that it was created.
        UnknownOrchestratorWait* unknown_wait = nullptr;
    };

    explicit WsProtocol(Deps deps) : d_(std::move(deps)) {}

    WsHandlers handlers();
    // Queues a frame to the orchestrator's live connection on this host.
    moolai_status send_here(std::string_view orchestrator_id, std::string_view frame);
    // send_here, or, for an orchestrator connected to another host, the
    // forwarder's answer (MOOLAI_OK when handed to its holder).
    moolai_status send_to(std::string_view orchestrator_id, std::string_view frame);
    using Forward =
        std::function<moolai_status(std::string_view orchestrator_id, std::string_view frame)>;
    // Before the server starts: several hosts on one store.
    void set_forward(Forward forward) { forward_ = std::move(forward); }
    // Closes the orchestrator's live connection, if any (it was deregistered).
    void disconnect(std::string_view orchestrator_id, std::string_view reason,
                    uint16_t code = 1000);

private:
    // What one connection has said so far, kept as the connection's context.
    // Frames of one connection never run concurrently (websocketpp strands),
    // so a session needs no lock.
    struct Session {
        std::string upgrade_token;  // Bearer token from the upgrade request, if any
        std::shared_ptr<Orchestrator> orchestrator;  // set by a successful register
        // Open mode is creating the orchestrator of this connection's
        // register; its other frames get `not_registered` until then.
        bool register_pending = false;
        // The two heartbeat_acks of this orchestrator, made at register so a
        // heartbeat allocates none (an independent one is answered too).
        std::string processed_ack, unprocessed_ack;
        uint64_t pace_generation = 0;  // the pace the acks were made for
        bool told_paced = false;       // acks carry heartbeat_interval_sec from now on
    };

    void on_open(WsConnection& c);
    void on_message(WsConnection& c, std::string_view frame);
    void on_close(WsConnection& c);
    void on_pong_timeout(WsConnection& c);
    void on_register(WsConnection& c, Session& s, const nlohmann::json& frame);
    // Closes `c` with 1008 and `reason`, counts a failure against its
    // source and logs it (rate-limited per source).
    // The checks after an orchestrator was looked up (now, or once known
    // after a wait), then complete_register.
    void finish_register(WsConnection& c, Session& s, const std::shared_ptr<Orchestrator>& o,
                         const std::string& token, const nlohmann::json& meta,
                         const std::string& source, const std::string& orchestrator_id);
    void refuse_register(WsConnection& c, const std::string& source,
                         const std::string& orchestrator_id, const char* reason);
    // Open mode created (or failed to create) the orchestrator of a pending
    // register; runs on the connection's strand.
    void on_created(WsConnection& c, const std::shared_ptr<Orchestrator>& created,
                    const CallResult& result, const nlohmann::json& metadata);
    void complete_register(WsConnection& c, Session& s, const std::shared_ptr<Orchestrator>& o,
                           const nlohmann::json& metadata);
    void on_heartbeat(WsConnection& c, Session& s);
    // The session's two acks, for the current pace.
    void make_acks(Session& s);
    void on_request_status(WsConnection& c, Session& s);
    void on_message_ack(WsConnection& c, Session& s, const nlohmann::json& frame);
    void on_usage_report(WsConnection& c, Session& s, const nlohmann::json& frame);
    void on_update_metadata(WsConnection& c, Session& s, const nlohmann::json& metadata);
    static void send_error(WsConnection& c, std::string_view code, std::string_view message);
    // The queue is full: the frame was not taken and should come again later.
    static void send_busy(WsConnection& c, std::string_view frame_type,
                          const std::string& message_id = "");
    void emit(uint32_t kind, const Orchestrator& o, std::string old_value, std::string new_value);

    Deps d_;
    Forward forward_;
};

}  // namespace moolai::host
