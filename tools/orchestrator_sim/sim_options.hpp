#pragma once
// Command-line options of moolai-orchestrator-sim.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace moolai::sim {

extern const char* const kUsage;
extern const char* const kDefaultUrl;  // ws://127.0.0.1:8766/ws

enum class CredentialSource { file, provision, open };

struct SimOptions {
    // Controller WebSocket URLs; each orchestrator tries them in turn.
    std::vector<std::string> urls;  // parse_options() gives at least the default
    std::string ca_file;            // wss://: verifies the controller ("" = system CAs)
    std::string cert_file;          // wss://: client certificate (mTLS), with key_file
    std::string key_file;
    CredentialSource source = CredentialSource::file;
    std::string credentials_file;  // --credentials
    // --provision
    std::string api = "http://127.0.0.1:8765";
    std::string username;
    std::string password;
    std::string api_token;
    std::string credentials_out;
    // --provision and --open
    std::string organization = "sim-org";
    std::string id_prefix = "sim-";
    size_t count = 0;  // 0 = not given (1, or every line of --credentials)

    bool token_on_upgrade = false;
    double heartbeat_interval_sec = 0;  // 0 = as provisioned by the controller
    double usage_interval_sec = 60;
    double metadata_interval_sec = 300;
    double backoff_base_sec = 0.5;
    double backoff_cap_sec = 30;
    double refused_retry_sec = 0;
    double register_timeout_sec = 10;
    double stats_interval_sec = 5;
    double duration_sec = 0;  // 0 = until SIGINT/SIGTERM
    double ramp_rate = 1000;  // connections started per second; 0 = all at once
    unsigned threads = 2;
    unsigned seed = 0;  // 0 = random
    bool verbose = false;
    bool help = false;
};

// Bad options: the message names the option and what it needs.
struct OptionError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// args excludes the program name. The password may also come from the
// environment variable MOOLAI_SIM_PASSWORD (read by the caller, passed in
// env_password) so it does not show in `ps`.
SimOptions parse_options(const std::vector<std::string>& args,
                         const std::string& env_password = "");

}  // namespace moolai::sim
