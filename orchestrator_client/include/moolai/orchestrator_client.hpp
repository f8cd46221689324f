#pragma once
// The orchestrator side of the Moolai Controller's WebSocket protocol.
//
// An OrchestratorClient connects to ws:// or wss://host:port/ws, registers with its id
// and credential, sends heartbeats on its own, lets the caller send usage
// reports, metadata and status requests, reports what the controller pushes
// (stop_monitoring, config_update, forwarded messages) through callbacks, and
// reconnects with exponential backoff and full jitter (see backoff.hpp).
//
// Several controllers (ClientOptions::urls; hosts sharing one database):
// the client starts at the URL a hash of its orchestrator id picks, so a
// fleet spreads over the hosts, and after a drop or a failed attempt tries
// the next URL in the list. Every try waits the backoff delay; the delay's
// ceiling doubles once per round through the list (see Backoff). On the new
// host it registers again, as after any reconnect.
//
// Heartbeat interval: ClientOptions::heartbeat_interval when set; otherwise
// the last one the controller named (heartbeat_interval_sec in provisioning's
// config, in config_update's config or in heartbeat_ack), clamped to 1-600 s;
// otherwise 30 s. A frame without a valid one keeps the interval in use.
//
// Many clients share one ClientRuntime: one io_context run by a few threads,
// no thread per connection. A client costs a few hundred bytes plus its
// socket, so one process can hold tens of thousands of them (raise
// RLIMIT_NOFILE for that).
//
// Retry policy by close code:
//   1008 (bad credential) and 1000 from the controller (the session was ended
//   on purpose: replaced by a newer connection of the same orchestrator, or
//   deregistered) -> "refused": no retry, because the same credential will be
//   refused again and two processes sharing one identity would otherwise
//   push each other out forever. Set ClientOptions::refused_retry_delay to
//   retry after a fixed long delay instead. With several URLs, a 1008 (or an
//   error answering register) moves on to the next URL like a drop: one
//   host may not know a credential the others do. The client is refused
//   once every URL refused it since its last register.
//   Everything else (1001 controller shutdown, 1006 dropped, 1009 too big,
//   1011, connect failures, no provisioning in time, a silent controller)
//   -> retry after the backoff delay. The backoff resets after a register.
//   4429 (too many failed registrations from this address) -> retry after
//   the backoff delay or the "retry in N s" its reason names, the longer.
//
// Threads: callbacks run on the runtime's threads, never two at once for the
// same client (each client is serialised on its own strand), and never after
// the client's destructor has returned. Callbacks may call the client's own
// methods (they only queue work).
//
// Only orchestrator_client.cpp includes websocketpp/asio.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "moolai/backoff.hpp"

namespace moolai::orchestrator {

namespace detail {
class ClientCore;
template <class Config>
class ClientCoreT;
}  // namespace detail
class OrchestratorClient;

// One io_context and the threads that run it; shared by many clients.
class ClientRuntime {
public:
    // Throws std::invalid_argument when threads == 0.
    explicit ClientRuntime(unsigned threads = 1);
    ~ClientRuntime();  // stop()
    ClientRuntime(const ClientRuntime&) = delete;
    ClientRuntime& operator=(const ClientRuntime&) = delete;

    // Lets open connections finish their close handshakes for at most
    // `grace`, then cuts what is left and joins the threads. Stop (or destroy)
    // the clients first; a client outliving stop() or the runtime itself does
    // nothing any more (and may still be destroyed safely).
    // Idempotent; not from a callback.
    void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));

    // Connections currently open (WebSocket handshake done, not yet closed).
    size_t open_connections() const;

private:
    friend class OrchestratorClient;
    friend class detail::ClientCore;
    template <class Config>
    friend class detail::ClientCoreT;
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

enum class ClientState : uint8_t {
    idle,         // constructed, start() not called
    connecting,   // TCP + WebSocket handshake
    registering,  // open, register sent, waiting for provisioning
    registered,   // provisioned; heartbeats running
    waiting,      // disconnected, reconnecting after the backoff delay
    refused,      // the controller refused us (see the retry policy above); final
    stopped,      // stop() completed; final
};
const char* state_name(ClientState state);

struct ClientOptions {
    std::string url;  // ws://host:port/ws or wss://host:port/ws
    // Several controllers, tried in turn (see above); instead of url, which
    // must then be empty. All ws:// or all wss://.
    std::vector<std::string> urls;
    // The index in urls to try first; -1 = picked by a hash of the
    // orchestrator id (spreads a fleet of separate processes over the hosts).
    int first_url = -1;
    // wss:// only. The controller's certificate must verify against ca_file
    // (PEM; "" = the system's CAs) and name the URL's host (a DNS SAN, or an
    // IP SAN for an address). cert_file/key_file: a client certificate for
    // controllers that require one (MOOLAI_ORCHESTRATOR_AUTH=mtls...).
    // A wss:// client needs a ClientRuntime with one thread (see
    // docs/library-quirks.md, W18); the constructor throws otherwise.
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
    std::string orchestrator_id;
    std::string token;              // the orchestrator credential; "" for open mode
    bool token_on_upgrade = false;  // also send it as Authorization: Bearer on the upgrade
    std::string organization_id;    // sent in register when not empty (open mode uses it)
    std::string metadata_json;      // a JSON object sent in register; "" = none
    // 0 = the interval the controller names (heartbeat_interval_sec, see
    // above), or 30 s if it names none.
    std::chrono::milliseconds heartbeat_interval{0};
    BackoffPolicy backoff;
    // No provisioning this long after the upgrade: close and retry.
    std::chrono::milliseconds register_timeout{10000};
    // Nothing at all received for this many heartbeat intervals: the link is
    // presumed dead (half-open TCP); close and retry.
    unsigned silent_intervals = 3;
    // After 1008 / a deliberate 1000: 0 = stay refused, else retry after this.
    std::chrono::milliseconds refused_retry_delay{0};
    // Frames are refused (send_* returns false) while this much is queued.
    size_t max_send_buffer_bytes = 1u << 20;
    uint32_t jitter_seed = 0;  // 0 = random
};

struct Provisioning {
    int heartbeat_interval_sec = 0;  // as named (clamped, whole seconds); 0 when absent or invalid
    int heartbeat_ttl_sec = 0;
    bool is_independent = false;
    bool monitoring_enabled = true;
    std::chrono::milliseconds heartbeat_interval{0};  // what the client now uses
    uint32_t registrations =
        0;                    // 1 for the first register of this client, 2 after one reconnect...
    std::string config_json;  // the raw "config" object
    std::string url;          // the controller this register went to
};

struct ConfigUpdate {
    std::optional<bool> is_independent;
    std::optional<bool> monitoring_enabled;
    std::optional<int> heartbeat_interval_sec;  // clamped to 1-600; nullopt when absent or invalid
    std::string config_json;                    // the raw "config" object ("{}" when absent)
};

// A message the controller forwards (an accepted recommendation). Confirm it
// with ack_message(message_id) once it is taken care of.
struct ForwardedMessage {
    std::string type;  // frame type, "recommendation" with the default plugin
    std::string message_id;
    std::string message_type;
    std::string content;
    std::string metadata_json;  // "message_metadata", "{}" when absent
    std::string frame_json;     // the whole frame
};

struct StatusReport {
    std::string status;  // active | inactive | independent
    bool is_independent = false;
    std::string last_seen;  // RFC 3339, "" when never seen
    std::string organization_id;
};

struct Disconnect {
    uint16_t close_code = 1006;  // the controller's code; 1006 = no close frame
    std::string reason;          // close reason or transport error
    // on_connected was called for this connection: each on_connected is
    // followed by exactly one on_disconnected with was_open set.
    bool was_open = false;
    bool was_registered = false;
    bool will_retry = true;
    std::chrono::milliseconds retry_in{0};
    std::string url;       // the controller this connection (or attempt) was to
    std::string next_url;  // the one the retry goes to ("" without a retry)
};

struct UsageReport {
    std::string period;  // RFC 3339; "" = the start of the current UTC hour
    std::string model;
    int64_t requests = 0;
    int64_t input_tokens = 0;
    int64_t output_tokens = 0;
    double cost_usd = 0;
};

struct ClientHandlers {
    std::function<void()> on_connected;  // WebSocket open, register sent
    std::function<void(const Provisioning&)> on_registered;
    std::function<void(const Disconnect&)> on_disconnected;
    std::function<void(const std::string& reason)> on_refused;
    std::function<void(bool processed)> on_heartbeat_ack;
    std::function<void(const std::string& reason)> on_stop_monitoring;
    std::function<void(const ConfigUpdate&)> on_config_update;
    std::function<void(const ForwardedMessage&)> on_message;
    std::function<void(const StatusReport&)> on_status;
    // The controller's {"type":"error"} frames (the connection stays open).
    std::function<void(const std::string& code, const std::string& message)> on_error_frame;
    // Frames of a type this library does not know; the raw frame.
    std::function<void(const std::string& type, const std::string& frame_json)> on_other_frame;
    // Malformed frames from the controller (not JSON, no type, wrong field
    // types); they are dropped.
    std::function<void(const std::string& problem)> on_protocol_problem;
};

class OrchestratorClient {
public:
    // Throws std::invalid_argument for a bad URL, an empty orchestrator id or
    // metadata that is not a JSON object. Does not connect before start().
    OrchestratorClient(ClientRuntime& runtime, ClientOptions options, ClientHandlers handlers);
    // stop()s and waits until no callback runs any more (so not from a callback
    // of this client). The connection closes in the background.
    ~OrchestratorClient();
    OrchestratorClient(const OrchestratorClient&) = delete;
    OrchestratorClient& operator=(const OrchestratorClient&) = delete;

    void start();  // connects; once
    // Closes with 1000 and stops reconnecting; returns at once.
    void stop();
    ClientState state() const;
    const std::string& orchestrator_id() const;
    // The controller URLs in order (ClientOptions::urls, or its url alone).
    const std::vector<std::string>& urls() const;
    // The URL of the current connection, or of the next attempt while
    // waiting; its index in urls(). Any thread.
    size_t current_url_index() const;
    const std::string& current_url() const;
    // The interval between heartbeats in use now (see above). Any thread.
    std::chrono::milliseconds heartbeat_interval() const;

    // Each queues a frame and returns true while registered; false otherwise
    // (not registered, stopped, or the send buffer is full) and nothing is
    // sent. A frame queued just before the link drops is lost: the protocol has
    // no acknowledgement for these.
    bool send_heartbeat();
    bool send_usage_report(const UsageReport& report);
    // Throws std::invalid_argument unless metadata_json is a JSON object.
    bool update_metadata(const std::string& metadata_json);
    bool request_status();
    // Confirms a forwarded message. Returns true when the ack went out now.
    // Otherwise (not registered) it is kept and sent right after the next
    // register, on whichever controller that is. The client also remembers
    // the ids it acknowledged lately: when a controller delivers one of those
    // again (its ack was lost with a connection), the client acks it again
    // itself and does not report it to on_message a second time.
    // False without sending for an empty id.
    bool ack_message(const std::string& message_id);
    // Any frame (a JSON object); for extensions of the protocol. Throws
    // std::invalid_argument unless it is a JSON object with a string "type".
    bool send_frame(const std::string& frame_json);

private:
    std::shared_ptr<detail::ClientCore> core_;
};

}  // namespace moolai::orchestrator
