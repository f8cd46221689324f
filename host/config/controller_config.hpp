// ControllerConfig: everything the controller is told at start. Defaults,
// then the JSON config file (--config), then the environment variables of
// docs/deployment.md: the environment wins, as deployers expect.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace moolai::host {

struct PluginEntry {
    std::string name;         // for messages; the plugin's own name is checked at load
    std::string path;         // absolute path of the .so
    nlohmann::json config = nlohmann::json::object();
};

struct ControllerConfig {
    std::string rest_host = "0.0.0.0";
    uint16_t rest_port = 8765;
    std::string ws_host = "0.0.0.0";
    uint16_t ws_port = 8766;
    std::string data_dir = "./data";
    std::string plugin_dir;  // default: next to the executable
    std::string static_dir;  // the dashboard's built files; "" = none
    std::vector<PluginEntry> plugins;
    int heartbeat_ttl_sec = 120;
    int heartbeat_interval_sec = 30;  // told to orchestrators in provisioning
    bool heartbeat_poker = false;
    // The interval follows the fleet (HeartbeatPace): heartbeats per second
    // a host aims at (0 = the interval stays fixed) and the longest interval.
    double heartbeat_target_rate = 1000;
    int heartbeat_interval_max_sec = 300;
    std::string dev_bearer_token;  // "" = disabled
    std::string metrics_token;     // a scraper's bearer for /metrics only; "" = none
    std::string public_ws_url;     // where browsers reach the live stream; "" = derive
    std::string superadmin_username;
    std::string superadmin_password;
    bool orchestrator_auth_open = false;
    std::string log_level = "info";
    std::string log_format = "text";  // or "json": one object a line
    size_t max_frame_bytes = 1 << 20;
    size_t max_body_bytes = 1 << 20;
    int session_ttl_sec = 12 * 3600;
    int dashboard_poll_ms = 10000;  // polled this often while the live stream is down
    int storage_wait_sec = 60;      // start-up waits this long for unreachable storage
    // Orchestrator writes (usage, metadata, acks) waiting for storage before
    // new ones are refused with `busy`: how much of an outage is absorbed.
    size_t storage_queue_max = 100000;
    // Where those writes are journaled until stored, so a kill loses none:
    // "" = <data_dir>/storage-journal, "off" = no journal.
    std::string storage_journal_dir;
    // Several hosts on one store (docs/deployment.md, "Several hosts").
    // host_id "" = kept in <data_dir>/host-id (made on first start).
    std::string host_id;
    bool cluster = true;  // MOOLAI_CLUSTER=off: serve alone even on a shared store
    int cluster_lease_sec = 15;
    // Notifications to or from other hosts waiting at most (each way);
    // beyond, some are dropped and the hosts read the shared state anew.
    size_t cluster_queue_max = 200000;
    // Connection hygiene of the WebSocket port (docs/reliability.md).
    int register_deadline_sec = 10;      // connect-to-register bound; 0 = none
    size_t ws_max_connections = 0;       // 0 = the open-file limit less a reserve
    size_t ws_max_connections_per_address = 0;  // 0 = no cap (a proxy is one address)
    // REST requests per client address: a token bucket; 0 = no limit.
    size_t rest_rate_per_address = 100;   // a second, sustained
    size_t rest_burst_per_address = 400;  // at once
    // Proxies whose X-Forwarded-For names the client (addresses, networks).
    std::vector<std::string> trusted_proxies;
    size_t ws_max_pending_handshakes = 512;
    size_t ws_max_send_buffer_bytes = 16u << 20;  // a reader further behind is cut
    // A message whose creation names no expiry is given this one: not
    // acknowledged by then, it turns `expired` and is never sent again, so no
    // message stays in delivery forever. 7 days: a week-end and more offline.
    int64_t message_ttl_sec = 604800;
    // TLS (docs/deployment.md). A port with no certificate serves plain
    // http/ws: for loopback or behind a TLS-terminating proxy.
    struct TlsPaths {
        std::string cert;  // PEM chain, leaf first; "" = this port is plain
        std::string key;   // PEM key, unencrypted
    };
    TlsPaths rest_tls;          // MOOLAI_REST_TLS_*, else MOOLAI_TLS_*
    TlsPaths ws_tls;            // MOOLAI_WS_TLS_*, else MOOLAI_TLS_*
    std::string tls_client_ca;  // orchestrator client certificates' CA; "" = none asked
    // MOOLAI_ORCHESTRATOR_AUTH: token (default), open, mtls, mtls+token.
    bool orchestrator_cert_required = false;  // mtls, mtls+token
    bool orchestrator_token_required = true;  // token, mtls+token
};

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Reads `config_path` ("" = none) and the environment. `exe_dir` locates
// the default plugin folder. Throws ConfigError with one clear line.
ControllerConfig load_controller_config(const std::string& config_path, const std::string& exe_dir);

// The host's own schema for the config file (served by --help too).
const char* controller_config_schema();

}  // namespace moolai::host
