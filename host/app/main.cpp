// moolai-controller: the Moolai Controller host.
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/build_info.hpp"
#include "app/controller.hpp"
#include "auth/session_auth.hpp"
#include "config/controller_config.hpp"
#include "net/tls.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "plugins/host_services.hpp"
#include "plugins/plugin_set.hpp"

namespace {

using namespace moolai::host;

const char* kUsage = R"(Usage:
  moolai-controller [--config FILE]          run the controller
  moolai-controller --check-config [--config FILE]
                                             load and check the config and every plugin, then exit
  moolai-controller admin create-superadmin --username NAME [--config FILE]
                                             create a superadmin; the password is read from
                                             MOOLAI_SUPERADMIN_PASSWORD or, if unset, one line of stdin
  moolai-controller admin verify-audit [--config FILE]
                                             check the audit log's hash chain; exit 0 intact,
                                             1 broken (the first broken row is named), 2 cannot check
  moolai-controller --version                print version, plugin ABI, build type and commit
  moolai-controller --help

Environment (overrides the config file):
  MOOLAI_CONFIG                              the config file when --config is not given
  CONTROLLER_HOST, CONTROLLER_PORT (8765), CONTROLLER_WS_PORT (8766)
  DATABASE_HOST/PORT/USER/PASSWORD/NAME      use PostgreSQL (default: SQLite in MOOLAI_DATA_DIR)
  MOOLAI_DATA_DIR (./data), MOOLAI_PLUGIN_DIR, MOOLAI_DASHBOARD_DIR (the dashboard's
  built files; default <prefix>/share/moolai/dashboard when installed), MOOLAI_LOG_LEVEL
  MOOLAI_LOG_FORMAT (text|json): json = one object a line (time, level, component, message, fields)
  MOOLAI_SUPERADMIN_USERNAME / _PASSWORD     first superadmin, created at start if none exists
  MOOLAI_ORCHESTRATOR_AUTH (token|open|mtls|mtls+token), DEV_BEARER_TOKEN (unset = disabled)
  MOOLAI_TLS_CERT, MOOLAI_TLS_KEY            PEM certificate chain and key: https and wss on both
  ports (TLS 1.2+); unset = plain http/ws, for loopback or behind a TLS-terminating proxy
  MOOLAI_REST_TLS_CERT/_KEY, MOOLAI_WS_TLS_CERT/_KEY   one port's own pair (wins over the shared)
  MOOLAI_TLS_CLIENT_CA                       CA of orchestrator client certificates (mTLS); with
  MOOLAI_ORCHESTRATOR_AUTH=mtls[+token] the certificate's CN or a SAN must be the orchestrator_id
  HEARTBEAT_TTL_SEC (120), HEARTBEAT_INTERVAL_SEC (30, told to orchestrators)
  HEARTBEAT_POKER_ENABLED (false): ping connections silent for one interval; no pong = dead
  MOOLAI_HEARTBEAT_TARGET_RATE (1000/s, 0 = fixed interval), MOOLAI_HEARTBEAT_INTERVAL_MAX_SEC (300):
                                the interval grows with the fleet, told in provisioning and acks
  MOOLAI_HOST_ID (kept in <data dir>/host-id), MOOLAI_CLUSTER (on), MOOLAI_CLUSTER_LEASE_SEC (15):
                                several hosts on one PostgreSQL (docs/deployment.md)
  MOOLAI_CLUSTER_QUEUE_MAX (200000): notifications to or from other hosts held at most, each way;
                                beyond, some are dropped and the hosts read the shared state anew
  MOOLAI_DASHBOARD_POLL_MS (10000): how often the dashboard polls while its live stream is down
  MOOLAI_STORAGE_WAIT_SEC (60): how long start-up waits for unreachable storage (0 = fail at once)
  MOOLAI_STORAGE_QUEUE_MAX (100000): orchestrator writes held while storage is down; then `busy`
  MOOLAI_STORAGE_JOURNAL_DIR (<data dir>/storage-journal): those writes on disk until stored, so a
  kill -9 loses none; persistent storage, replayed at start; off = none (kept in memory only)
  MOOLAI_MESSAGE_TTL_SEC (604800): a message not acknowledged by then expires, never sent again
  MOOLAI_REGISTER_DEADLINE_SEC (10): a WebSocket connection that has not registered is closed (4408)
  MOOLAI_WS_MAX_CONNECTIONS (0 = open-file limit less what is open and a reserve): beyond, 503
  MOOLAI_WS_MAX_CONNECTIONS_PER_ADDRESS (0 = none): beyond, 429 (a proxy in front is one address)
  MOOLAI_WS_MAX_PENDING_HANDSHAKES (512): more wait in the listen backlog (deferred, not refused)
  MOOLAI_WS_MAX_SEND_BUFFER_BYTES (16777216): a reader this far behind is cut (1013)
  MOOLAI_MAX_FRAME_BYTES, MOOLAI_MAX_BODY_BYTES (1048576): largest WebSocket frame, REST body

Signals: SIGTERM/SIGINT stop; SIGHUP reloads the TLS files (new handshakes get the new
certificate, open connections stay; a bad file keeps the old one and logs an error).

Probes (no credentials): GET /livez (the process answers), GET /readyz (503 until
start-up is done and while storage is unreachable).
)";

std::string exe_dir() {
    std::error_code ec;
    auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::current_path().string() : p.parent_path().string();
}

// The open-file limit caps the fleet one process can hold (one socket each).
void raise_fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

// The plugins alone, without servers: what the offline commands need.
struct OfflinePlugins {
    Metrics metrics;
    HostServices services;
    std::unique_ptr<PluginLoader> loader;
    std::unique_ptr<PluginSet> set;

    OfflinePlugins(const ControllerConfig& config, Log& log) {
        services.log = &log;
        services.metrics = &metrics;
        loader = std::make_unique<PluginLoader>(services);
        set = std::make_unique<PluginSet>(*loader, config.plugins);
    }
};

int create_superadmin(const ControllerConfig& config, Log& log, const std::string& username) {
    std::string password = config.superadmin_password;
    if (password.empty() && !std::getline(std::cin, password)) password.clear();
    if (username.empty() || password.empty()) {
        std::fprintf(stderr, "admin create-superadmin: --username and a password are required\n");
        return 2;
    }
    log.add_secret(password);
    OfflinePlugins offline(config, log);
    PluginSet& plugins = *offline.set;
    plugins.start();
    CallResult m = plugins.storage().migrate();
    if (!m.ok()) {
        std::fprintf(stderr, "storage migration failed: %s\n", m.error.c_str());
        return 1;
    }
    SessionAuth auth(plugins.storage(), plugins.auth(), log, "", config.session_ttl_sec);
    CallResult r = auth.create_user(username, password, "superadmin", "");
    if (!r.ok()) {
        std::fprintf(stderr, "cannot create superadmin \"%s\": %s: %s\n", username.c_str(),
                     status_name(r.status), r.error.c_str());
        return 1;
    }
    std::printf("superadmin \"%s\" created\n", username.c_str());
    return 0;
}

// Read-only: no migration. A database the controller has not yet migrated
// to schema 7 cannot be checked, and says so.
int verify_audit(const ControllerConfig& config, Log& log) {
    OfflinePlugins offline(config, log);
    PluginSet& plugins = *offline.set;
    plugins.start();
    const CallResult r = plugins.storage().audit_verify();
    if (!r.ok()) {
        std::fprintf(stderr, "admin verify-audit: cannot check the audit log: %s: %s\n",
                     status_name(r.status), r.error.c_str());
        return 2;
    }
    const nlohmann::json v = nlohmann::json::parse(r.output, nullptr, false);
    if (!v.is_object()) {
        std::fprintf(stderr, "admin verify-audit: the storage plugin's answer is not JSON\n");
        return 2;
    }
    const auto count = [&](const char* k) { return v.value(k, int64_t{0}); };
    std::string head = "none";
    if (v["head"].is_object())
        head = "row " + v["head"].value("id", nlohmann::json()).dump() + ", hash " +
               v["head"].value("hash", std::string());
    if (v.value("ok", false)) {
        std::printf("audit chain intact: %lld rows, %lld chained, %lld from before the chain; "
                    "head %s\n",
                    static_cast<long long>(count("rows")), static_cast<long long>(count("chained")),
                    static_cast<long long>(count("unchained_before")), head.c_str());
        return 0;
    }
    const nlohmann::json& b = v["first_broken"];
    std::printf("audit chain BROKEN at row %s: %s\n(%lld rows; head %s)\n",
                b.value("id", nlohmann::json()).dump().c_str(),
                b.value("reason", std::string()).c_str(), static_cast<long long>(count("rows")),
                head.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    // Before any library thread exists: SIGPIPE off (Pistache's sendfile),
    // SIGINT/SIGTERM (stop) and SIGHUP (reload TLS) blocked so that only
    // sigwait below receives them.
    std::signal(SIGPIPE, SIG_IGN);
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    std::string config_path;
    bool check_only = false;
    std::vector<std::string> positional;
    std::string username;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "--version") {
            std::printf("moolai-controller %s\nplugin ABI %s\nbuild type %s\ncommit %s\n",
                        kBuildVersion, abi_version_string().c_str(), kBuildType, kBuildCommit);
            return 0;
        } else if (a == "--config" && i + 1 < argc) {
            config_path = argv[++i];
        } else if (a == "--check-config") {
            check_only = true;
        } else if (a == "--username" && i + 1 < argc) {
            username = argv[++i];
        } else if (!a.empty() && a[0] != '-') {
            positional.push_back(a);
        } else {
            std::fprintf(stderr, "unknown argument \"%s\"\n\n%s", a.c_str(), kUsage);
            return 2;
        }
    }

    if (config_path.empty()) {
        const char* from_env = std::getenv("MOOLAI_CONFIG");
        if (from_env != nullptr) config_path = from_env;
    }

    Log log;
    ControllerConfig config;
    try {
        config = load_controller_config(config_path, exe_dir());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "configuration error: %s\n", e.what());
        return 2;
    }
    LogLevel level = LogLevel::info;
    parse_level(config.log_level, level);
    log.set_level(level);
    LogFormat format = LogFormat::text;
    parse_format(config.log_format, format);
    log.set_format(format);
    raise_fd_limit();

    try {
        if (!positional.empty()) {
            if (positional.size() == 2 && positional[0] == "admin" &&
                positional[1] == "create-superadmin")
                return create_superadmin(config, log, username);
            if (positional.size() == 2 && positional[0] == "admin" &&
                positional[1] == "verify-audit")
                return verify_audit(config, log);
            std::fprintf(stderr, "unknown command\n\n%s", kUsage);
            return 2;
        }
        if (check_only) {
            OfflinePlugins offline(config, log);
            const PluginSet& plugins = *offline.set;
            for (const auto& p : plugins.plugins())
                std::printf("ok  %-22s %-8s ABI %s  %s\n", p->name().c_str(), p->version().c_str(),
                            p->abi_version().c_str(), capability_names(p->capabilities()).c_str());
            // The certificates as the start would read them: a file that
            // cannot be used fails the check with the same one line.
            for (const auto& [port, paths, client_ca] :
                 {std::tuple<const char*, ControllerConfig::TlsPaths, std::string>{
                      "REST", config.rest_tls, ""},
                  {"WebSocket", config.ws_tls, config.tls_client_ca}}) {
                if (paths.cert.empty()) {
                    std::printf("ok  %s port plain (no TLS certificate configured)\n", port);
                    continue;
                }
                const TlsServerContext tls(TlsFiles{paths.cert, paths.key, client_ca});
                std::printf("ok  %s port TLS: %s%s\n", port, tls.summary().c_str(),
                            client_ca.empty() ? "" : ("; client CA " + client_ca).c_str());
            }
            std::printf("configuration OK (%zu plugins)\n", plugins.plugins().size());
            return 0;
        }
        Controller controller(config, log);
        // Signals are taken by this thread from the start, so that a stop
        // request ends a start-up that still waits (for storage, say).
        std::atomic<int> sig{0};
        std::thread signals([&] {
            for (;;) {
                int received = 0;
                sigwait(&stop_signals, &received);
                if (received == SIGHUP) {
                    controller.reload_tls();  // logs what it did; never throws
                    continue;
                }
                sig.store(received);
                controller.interrupt();
                return;
            }
        });
        try {
            controller.start();
        } catch (...) {
            if (sig == 0) kill(getpid(), SIGTERM);  // wakes the signal thread
            signals.join();
            try {
                throw;
            } catch (const Controller::Interrupted&) {
                log.info("stopped during start-up");
                return 0;
            }
        }
        signals.join();
        log.info(std::string("received ") + (sig.load() == SIGINT ? "SIGINT" : "SIGTERM") +
                 ", stopping");
        controller.stop();
        return 0;
    } catch (const std::exception& e) {
        log.error(e.what());
        return 1;
    }
}
