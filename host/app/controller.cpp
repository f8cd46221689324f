#include "app/controller.hpp"
#include "abuse/locked_backoff.hpp"
#include "abuse/log_limiter.hpp"
#include "abuse/rate_limiter.hpp"
#include "abuse/source_address.hpp"

#include "auth/login_throttle.hpp"
#include "cluster/cluster_link.hpp"
#include "orchestrators/message_delivery.hpp"
#include "orchestrators/orchestrator_creator.hpp"
#include "orchestrators/unknown_orchestrator_wait.hpp"
#include "orchestrators/storage_journal.hpp"
#include "orchestrators/storage_writer.hpp"

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <random>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/build_info.hpp"
#include "app/descriptor_budget.hpp"
#include "app/memory_return.hpp"
#include "auth/session_auth.hpp"
#include "common/rfc3339.hpp"
#include "events/event_bus.hpp"
#include "events/event_stream.hpp"
#include "fleet/fleet_state.hpp"
#include "fleet/heartbeat_batcher.hpp"
#include "fleet/heartbeat_pace.hpp"
#include "fleet/periodic_task.hpp"
#include "fleet/status_history.hpp"
#include "fleet/status_sweeper.hpp"
#include "net/rest_server.hpp"
#include "net/tls.hpp"
#include "net/ws_server.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "orchestrators/ws_protocol.hpp"
#include "plugins/host_services.hpp"
#include "plugins/plugin_loader.hpp"
#include "plugins/plugin_set.hpp"
#include "plugins/storage_state.hpp"
#include "rest/probes.hpp"
#include "rest/rest_api.hpp"

namespace moolai::host {
using nlohmann::json;

struct Controller::Impl {
    ControllerConfig config;
    Log& log;
    Metrics metrics;
    HostServices services;
    EventBus events{metrics};
    std::unique_ptr<PluginLoader> loader;
    std::unique_ptr<PluginSet> plugins;
    std::unique_ptr<StorageState> storage_state;
    std::unique_ptr<SessionAuth> auth;
    std::unique_ptr<FleetState> fleet;
    std::unique_ptr<HeartbeatBatcher> batcher;
    std::unique_ptr<HeartbeatPace> pace;
    std::unique_ptr<PeriodicTask> pace_task;
    std::unique_ptr<StatusSweeper> sweeper;
    std::unique_ptr<StatusHistory> status_history;  // the dashboard overview's chart
    std::unique_ptr<MessageDelivery> delivery;
    std::unique_ptr<StorageJournal> journal;  // outlives `writes`
    std::unique_ptr<StorageWriter> writes;
    std::unique_ptr<OrchestratorCreator> creator;
    std::unique_ptr<UnknownOrchestratorWait> unknown_wait;  // several hosts only
    // Several hosts on one store; null when serving alone. `cluster_now` is
    // what threads started before it read.
    std::unique_ptr<ClusterLink> cluster;
    std::atomic<ClusterLink*> cluster_now{nullptr};
    // Abuse limits (host/abuse/): failed logins and registers slow down the
    // address they come from; REST requests per address are a token bucket;
    // the lines about refusals are one per address per minute.
    LoginThrottle throttle;
    LockedBackoff failed_registers{
        FailureBackoff::Options{30, 1000, 5 * 60 * 1000, 15 * 60 * 1000, 65536}};
    std::unique_ptr<RateLimiter> rest_rate;
    LogLimiter failed_login_log{60000};
    LogLimiter ws_refusal_log{60000};
    LogLimiter rest_limit_log{60000};
    std::unique_ptr<WsProtocol> ws_protocol;
    std::unique_ptr<EventStream> stream;
    std::unique_ptr<PeriodicTask> stream_recheck;
    std::unique_ptr<MemoryReturn> memory_return;
    std::unique_ptr<PeriodicTask> memory_return_task;
    // TLS material per port (one object when both use the same files);
    // set before the servers start, reloaded on SIGHUP (reload_tls()).
    std::mutex tls_m;
    std::shared_ptr<TlsServerContext> rest_tls, ws_tls;
    std::unique_ptr<WsServer> ws;
    std::unique_ptr<RestApi::Context> rest_context;
    std::unique_ptr<RestServer> rest;
    Readiness readiness;
    bool stopped = false;
    int heartbeat_write_failures = 0;  // the batcher's thread only: the current run

    // interrupt(): a stop signal while start() still waits (for storage).
    std::mutex interrupt_m;
    std::condition_variable interrupt_cv;
    bool interrupted = false;

    // Sleeps up to `d`; false when interrupted.
    bool pause(std::chrono::milliseconds d) {
        std::unique_lock<std::mutex> lk(interrupt_m);
        return !interrupt_cv.wait_for(lk, d, [this] { return interrupted; });
    }

    Impl(ControllerConfig c, Log& l) : config(std::move(c)), log(l) {}

    NetLogger net_logger() {
        return [this](int level, std::string_view m) {
            log.write(static_cast<LogLevel>(level), "net", m);
        };
    }
};

namespace {

// This host's id among several on one store: MOOLAI_HOST_ID, else the one
// kept in <data dir>/host-id (made once), so a restarted host takes its own
// lease back at once instead of waiting for it to run out.
std::string host_id_for(const ControllerConfig& c, Log& log) {
    if (!c.host_id.empty()) return c.host_id;
    const std::string path = c.data_dir + "/host-id";
    {
        std::ifstream in(path);
        std::string id;
        if (in >> id && !id.empty() && id.size() <= 64) return id;
    }
    std::random_device rd;
    char buf[32];
    std::snprintf(buf, sizeof buf, "host-%08x%04x", rd(), rd() & 0xffffu);
    std::ofstream out(path);
    out << buf << "\n";
    if (!out) log.warn("cannot keep the host id in " + path + ": a restart gets a new one");
    return buf;
}

// Reads the ports' certificates before anything else starts: a file that
// cannot be used refuses the start with TlsError's one line. Without TLS a
// port serves plain http/ws, said once here.
void load_tls(Controller::Impl& s) {
    const ControllerConfig& c = s.config;
    const auto files = [&c](const ControllerConfig::TlsPaths& p, bool client_ca) {
        return TlsFiles{p.cert, p.key, client_ca ? c.tls_client_ca : std::string()};
    };
    std::shared_ptr<TlsServerContext> rest, ws;
    if (!c.ws_tls.cert.empty()) ws = std::make_shared<TlsServerContext>(files(c.ws_tls, true));
    if (!c.rest_tls.cert.empty()) {
        // One object when the files are the same: one reload, one summary.
        if (ws && c.rest_tls.cert == c.ws_tls.cert && c.rest_tls.key == c.ws_tls.key &&
            c.tls_client_ca.empty())
            rest = ws;
        else
            rest = std::make_shared<TlsServerContext>(files(c.rest_tls, false));
    }
    const auto describe = [](const char* port, const std::shared_ptr<TlsServerContext>& t) {
        return std::string(port) + (t ? " TLS (" + t->summary() + ")" : " plain");
    };
    if (!rest || !ws)
        s.log.warn("TLS off on " +
                   std::string(!rest && !ws ? "both ports"
                               : !rest      ? "REST"
                                            : "WebSocket") +
                   ": plain http/ws, for loopback or behind a TLS-terminating proxy only "
                   "(MOOLAI_TLS_CERT/KEY, docs/deployment.md)");
    if (rest || ws)
        s.log.info(describe("REST", rest) + "; " + describe("WebSocket", ws) +
                   (ws && !c.tls_client_ca.empty()
                        ? "; orchestrator client certificates from " + c.tls_client_ca
                        : std::string()));
    std::lock_guard<std::mutex> lk(s.tls_m);
    s.rest_tls = std::move(rest);
    s.ws_tls = std::move(ws);
}

}  // namespace

void Controller::reload_tls() noexcept {
    Impl& s = *impl_;
    std::shared_ptr<TlsServerContext> rest, ws;
    {
        std::lock_guard<std::mutex> lk(s.tls_m);
        rest = s.rest_tls;
        ws = s.ws_tls;
    }
    if (!rest && !ws) {
        s.log.info("SIGHUP: no TLS configured, nothing to reload");
        return;
    }
    const char* rest_name = rest && rest == ws ? "REST and WebSocket" : "REST";
    for (const auto& [port, t] : {std::pair{rest_name, rest}, std::pair{"WebSocket", ws}}) {
        if (!t || (t == rest && port != rest_name)) continue;
        try {
            t->reload();
            s.log.info(std::string("SIGHUP: ") + port + " TLS reloaded (" + t->summary() +
                       "); open connections keep their certificate");
        } catch (const std::exception& e) {
            s.log.error(std::string("SIGHUP: ") + port + " TLS not reloaded, still serving " +
                        t->summary() + ": " + e.what());
        }
    }
}

Controller::Controller(ControllerConfig config, Log& log)
    : impl_(std::make_unique<Impl>(std::move(config), log)) {}

Controller::~Controller() {
    stop();
}

void Controller::start() {
    Impl& s = *impl_;
    s.log.info(std::string("moolai-controller ") + kBuildVersion + " (commit " + kBuildCommit +
               ", " + kBuildType + ", plugin ABI " + abi_version_string() + ")");
    s.metrics
        .gauge_with("moolai_build_info", "The running build (value 1)",
                    "version=\"" + std::string(kBuildVersion) + "\",commit=\"" +
                        Metrics::label_value(kBuildCommit) + "\",build_type=\"" +
                        Metrics::label_value(kBuildType) + "\",abi=\"" + abi_version_string() +
                        "\"")
        ->set(1);
    s.log.add_secret(s.config.dev_bearer_token);
    s.log.add_secret(s.config.metrics_token);
    s.log.add_secret(s.config.superadmin_password);
    s.services.log = &s.log;
    s.services.metrics = &s.metrics;
    s.services.publish = [&s](Event&& e) { s.events.publish(std::move(e)); };
    s.services.deliver_notification = [&s](std::string_view channel, std::string_view payload) {
        ClusterLink* c = s.cluster_now.load();
        return c != nullptr ? c->deliver(channel, payload) : MOOLAI_E_NOT_FOUND;
    };
    s.services.send_frame = [&s](std::string_view orchestrator_id, std::string_view frame) {
        return s.ws_protocol ? s.ws_protocol->send_to(orchestrator_id, frame)
                             : MOOLAI_E_UNAVAILABLE;
    };

    load_tls(s);

    // Before anything waits: a journal that cannot be written ends start-up at once.
    if (s.config.storage_journal_dir == "off") {
        s.log.info(
            "storage journal off (MOOLAI_STORAGE_JOURNAL_DIR=off): orchestrator writes taken but "
            "not yet stored are lost if the process is killed");
    } else {
        s.journal =
            std::make_unique<StorageJournal>(s.config.storage_journal_dir, s.log, s.metrics);
        s.log.info("storage journal in " + s.journal->dir() + " (" +
                   std::to_string(s.journal->found()) + " segments from before to replay)");
    }

    s.loader = std::make_unique<PluginLoader>(s.services);
    s.plugins = std::make_unique<PluginSet>(*s.loader, s.config.plugins);
    for (const auto& p : s.plugins->plugins()) {
        s.log.info("loaded plugin " + p->name() + " " + p->version() + " (ABI " + p->abi_version() +
                   ", " + capability_names(p->capabilities()) + ", " +
                   (p->concurrent() ? "concurrent" : "serialized") + ") from " + p->path());
    }
    s.plugins->start();
    // Every storage call tells whether storage answers: one state for REST,
    // the probes, health, the log and the metrics.
    s.storage_state = std::make_unique<StorageState>(s.log, s.metrics);
    s.plugins->set_storage_observer(
        [state = s.storage_state.get()](const CallResult& r) { state->observe(r); });

    // REST listens from here on, for the probes: /livez answers, /readyz
    // says "starting" and what start-up waits for; other paths get 503.
    RestOptions ro;
    ro.host = s.config.rest_host;
    ro.port = s.config.rest_port;
    ro.max_request_bytes = s.config.max_body_bytes;
    ro.static_dir = s.config.static_dir;
    ro.logger = s.net_logger();
    ro.tls = s.rest_tls;
    ro.trusted_proxies = s.config.trusted_proxies;
    s.rest_rate = std::make_unique<RateLimiter>(
        RateLimiter::Options{static_cast<double>(s.config.rest_rate_per_address),
                             static_cast<double>(s.config.rest_burst_per_address), 65536});
    if (s.rest_rate->enabled()) {
        Metric* limited = s.metrics.counter(
            "moolai_http_rate_limited_total", "REST requests answered 429: over the per-address rate");
        ro.admit = [&s, limited](const HttpRequest& req) -> int64_t {
            const std::string source = source_key(req.client);
            const int64_t now = now_unix_ms();
            const int64_t wait_ms = s.rest_rate->take(source, now);
            if (wait_ms == 0) return 0;
            limited->add(1);
            if (const auto held = s.rest_limit_log.admit(source, now))
                s.log.warn("REST requests from " + source + " over " +
                               std::to_string(s.config.rest_rate_per_address) +
                               "/s: answering 429" + LogLimiter::held_back_note(*held),
                           {{"remote", source}});
            return (wait_ms + 999) / 1000;
        };
    }
    ro.on_response = [&s](const std::string& method, const std::string& pattern, int status,
                          double seconds) {
        const std::string labels =
            "method=\"" + method + "\",route=\"" + Metrics::label_value(pattern) + "\"";
        s.metrics
            .histogram("moolai_http_request_duration_seconds",
                       "REST requests by route: parsed request to response, seconds", labels)
            ->observe(seconds);
        s.metrics
            .counter_with("moolai_http_requests_total", "REST requests by route and status",
                          labels + ",code=\"" + std::to_string(status) + "\"")
            ->add(1);
    };
    s.rest = std::make_unique<RestServer>(ro);
    s.rest->set_warming_up(true);
    install_probes(*s.rest, s.readiness, [&s]() -> std::string {
        CallResult r = s.plugins->storage().ping();
        return r.ok() ? "" : std::string(status_name(r.status)) + ": " + r.error;
    });
    s.rest->start();
    s.log.info("REST listening on " + s.config.rest_host + ":" + std::to_string(s.rest->port()) +
               " (probes only until start-up is done)");

    // A database that is not up yet (compose, systemd, a restart of both) is
    // waited for, as long as storage_wait_sec; other failures end start-up.
    s.readiness.set_phase("waiting for storage");
    const auto wait_until =
        std::chrono::steady_clock::now() + std::chrono::seconds(s.config.storage_wait_sec);
    auto backoff = std::chrono::milliseconds(500);
    CallResult m = s.plugins->storage().migrate();
    while (!m.ok() && m.status == MOOLAI_E_UNAVAILABLE &&
           std::chrono::steady_clock::now() + backoff < wait_until) {
        s.log.warn("storage unreachable, retrying in " + std::to_string(backoff.count()) +
                   " ms: " + m.error);
        if (!s.pause(backoff)) throw Interrupted();
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        m = s.plugins->storage().migrate();
    }
    if (!m.ok())
        throw std::runtime_error(std::string("storage migration failed: ") + status_name(m.status) +
                                 ": " + m.error +
                                 (m.status == MOOLAI_E_UNAVAILABLE
                                      ? " (waited " + std::to_string(s.config.storage_wait_sec) +
                                            " s, MOOLAI_STORAGE_WAIT_SEC)"
                                      : ""));
    s.log.info("storage schema ready: " + m.output);

    for (const ObserverClient& o : s.plugins->observers()) {
        s.events.subscribe([&s, &o](const Event& e) {
            const moolai_event v = e.view();
            CallResult r = o.on_event(v);
            if (!r.ok())
                s.log.warn("observer " + o.plugin().name() + " failed on " +
                           event_kind_name(e.kind) + ": " + status_name(r.status) + " " + r.error);
        });
    }

    s.auth = std::make_unique<SessionAuth>(s.plugins->storage(), s.plugins->auth(), s.log,
                                           s.config.dev_bearer_token, s.config.session_ttl_sec);
    s.stream = std::make_unique<EventStream>(*s.auth);
    s.events.subscribe([&s](const Event& e) { s.stream->publish(e); });
    s.events.subscribe([&s](const Event& e) {
        if (ClusterLink* c = s.cluster_now.load()) c->relay(e);
    });
    s.events.start();
    s.auth->ensure_superadmin(s.config.superadmin_username, s.config.superadmin_password);
    s.storage_state->on_up([&s] { s.auth->retry_revocations(); });
    s.storage_state->start_prober([&s] { s.plugins->storage().ping(); });
    if (s.config.orchestrator_auth_open)
        s.log.warn(
            "MOOLAI_ORCHESTRATOR_AUTH=open: ANY client may register as ANY orchestrator. "
            "Demo mode only; never expose this controller.");

    // The fleet in memory, from storage; then its writers.
    s.readiness.set_phase("loading the fleet");
    s.fleet = std::make_unique<FleetState>(int64_t{s.config.heartbeat_ttl_sec} * 1000);
    const int64_t loaded_at = now_unix_ms();
    CallResult scan =
        s.plugins->storage().orch_scan([&s, loaded_at](const moolai_orchestrator_row& r) {
            s.fleet->load(r, loaded_at);
            return MOOLAI_OK;
        });
    if (!scan.ok())
        throw std::runtime_error(std::string("cannot load the fleet from storage: ") +
                                 status_name(scan.status) + ": " + scan.error);
    s.log.info("fleet loaded: " + std::to_string(s.fleet->size()) + " orchestrators");
    s.pace = std::make_unique<HeartbeatPace>(
        HeartbeatPace::Options{s.config.heartbeat_interval_sec, s.config.heartbeat_ttl_sec,
                               s.config.heartbeat_target_rate,
                               s.config.heartbeat_interval_max_sec},
        *s.fleet);
    Histogram* batch_seconds = s.metrics.histogram(
        "moolai_storage_batch_write_seconds", "One batched last_seen/status write, seconds", "");
    s.batcher = std::make_unique<HeartbeatBatcher>(
        *s.fleet,
        [&s, batch_seconds](const moolai_heartbeat_row* rows, size_t n) {
            const auto t0 = std::chrono::steady_clock::now();
            // Several hosts: the lease renewal, when due, in the same
            // transaction (ABI 1.5), so the lease costs no write of its own.
            ClusterLink* cluster = s.cluster_now.load();
            const auto ride = cluster != nullptr ? cluster->lease_ride() : std::nullopt;
            CallResult r;
            if (ride) {
                r = s.plugins->storage().heartbeats_write_leased(rows, n, ride->host_id,
                                                                 ride->lease_ms, ride->info_json);
                cluster->lease_renewed(*ride, r);
            }
            if (!ride || r.status == MOOLAI_E_UNSUPPORTED)
                r = s.plugins->storage().heartbeats_write(rows, n);
            batch_seconds->observe(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            // One line when a run of failures starts and one when it ends,
            // not one a second through an outage (the rows wait in memory).
            if (!r.ok() && s.heartbeat_write_failures++ == 0)
                s.log.warn("batched heartbeat write failed, retrying every second: " + r.error);
            if (r.ok() && s.heartbeat_write_failures > 0) {
                s.log.info("batched heartbeat writes succeed again after " +
                           std::to_string(s.heartbeat_write_failures) + " failed attempt(s)");
                s.heartbeat_write_failures = 0;
            }
            return r;
        },
        s.metrics);
    // Several hosts on one store: the lease, who holds what; the sweep then
    // decides only what this host decides.
    if (s.config.cluster && s.plugins->storage().shares_hosts()) {
        ClusterLink::Options co;
        co.host_id = host_id_for(s.config, s.log);
        co.lease_ms = int64_t{s.config.cluster_lease_sec} * 1000;
        co.renew_ms = std::max<int64_t>(1000, co.lease_ms / 3);
        co.max_queued = s.config.cluster_queue_max;
        // Shown to operators with the host's lease (GET /api/v1/internal/cluster).
        co.info_json = json{{"version", kBuildVersion}, {"commit", kBuildCommit}}.dump();
        s.cluster = std::make_unique<ClusterLink>(
            co,
            ClusterLink::Local{
                [&s](std::string_view id, std::string_view frame) {
                    return s.ws_protocol->send_here(id, frame);
                },
                [&s](const std::string& id, const std::string& reason, uint16_t code) {
                    s.ws_protocol->disconnect(id, reason, code);
                },
                [&s](const Event& e) { s.stream->publish(e); }},
            *s.fleet, *s.plugins, s.log, s.metrics);
        s.readiness.set_phase("joining the other hosts");
        s.cluster->start();
        s.fleet->set_decider([c = s.cluster.get()](const Orchestrator& o) { return c->decides(o); });
    }
    s.sweeper = std::make_unique<StatusSweeper>(*s.fleet, &now_unix_ms, [&s](Orchestrator& o) {
        s.events.publish(Event::about(MOOLAI_EVENT_STATUS_CHANGED, o.organization_id, o.id,
                                      "active", "inactive", "system"));
    });
    s.batcher->start();
    s.sweeper->start();
    Histogram* const ack_seconds = s.metrics.histogram(
        "moolai_heartbeat_ack_seconds", "Heartbeat frame to queued heartbeat_ack, seconds", "",
        {0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
         0.05, 0.25});
    // Six hours of samples at whatever interval is set, with the ack latency
    // between them from the histogram the heartbeat path observes into.
    const auto history_every = StatusHistory::interval_from_env();
    s.status_history = std::make_unique<StatusHistory>(
        *s.fleet, history_every, static_cast<size_t>(std::chrono::hours(6) / history_every) + 1,
        [ack_seconds] {
            AckTotals t{ack_seconds->sum(), 0, ack_seconds->bounds(), {}};
            for (size_t i = 0; i <= t.bounds.size(); ++i)
                t.buckets.push_back(ack_seconds->bucket(i));
            // The count from the buckets read, so the two agree.
            for (const uint64_t n : t.buckets) t.count += n;
            return t;
        });
    s.status_history->sample(now_unix_ms());
    s.status_history->start();

    WsOptions wo;
    wo.host = s.config.ws_host;
    wo.port = s.config.ws_port;
    wo.max_message_bytes = s.config.max_frame_bytes;
    // One io thread per core: each frame is a little CPU work and no waiting,
    // so more threads only add switching, fewer leave cores idle.
    wo.threads = std::max(1u, std::thread::hardware_concurrency());
    wo.logger = s.net_logger();
    wo.tls = s.ws_tls;
    wo.admit_deadline_ms = s.config.register_deadline_sec * 1000;
    wo.admit_deadline_reason =
        "no register within " + std::to_string(s.config.register_deadline_sec) + " s";
    wo.max_connections =
        s.config.ws_max_connections != 0 ? s.config.ws_max_connections : connection_budget();
    wo.max_connections_per_address = s.config.ws_max_connections_per_address;
    wo.trusted_proxies = s.config.trusted_proxies;
    s.log.info("websocket: at most " + std::to_string(wo.max_connections) + " connections" +
               (wo.max_connections_per_address > 0
                    ? ", " + std::to_string(wo.max_connections_per_address) + " per address"
                    : std::string()) +
               ", register within " + std::to_string(s.config.register_deadline_sec) + " s");
    wo.max_pending_handshakes = s.config.ws_max_pending_handshakes;
    wo.max_send_buffer_bytes = s.config.ws_max_send_buffer_bytes;
    if (s.config.heartbeat_poker) {
        // Ping a connection silent for one heartbeat interval; no pong within
        // half of it (at most 10 s) = dead: closed and marked inactive.
        wo.ping_interval_ms = s.config.heartbeat_interval_sec * 1000;
        wo.pong_timeout_ms = std::min(10000, wo.ping_interval_ms / 2);
    }
    s.delivery = std::make_unique<MessageDelivery>(
        *s.plugins, *s.fleet, s.log,
        [&s](std::string_view orchestrator_id, std::string_view frame) {
            return s.ws_protocol->send_to(orchestrator_id, frame);
        },
        [&s](Event&& e) { s.events.publish(std::move(e)); });
    s.delivery->set_latency_histogram(s.metrics.histogram(
        "moolai_push_delivery_seconds",
        "Forwarding one accepted message: routing, rendering, sending, recording, seconds", ""));
    MessageDelivery::Options delivery_options;
    delivery_options.default_ttl_sec = s.config.message_ttl_sec;
    s.delivery->set_options(delivery_options);
    StorageWriter::Options writer_options;
    writer_options.max_pending = s.config.storage_queue_max;
    writer_options.journal = s.journal.get();
    s.writes = std::make_unique<StorageWriter>(
        StorageWriter::Storage{
            [&s](const std::string& record) { return s.plugins->storage().usage_insert(record); },
            [&s](const std::string& id, const std::string& patch) {
                return s.plugins->storage().orch_update(id, patch);
            },
            [&s](const std::string& orchestrator_id, const std::string& message_id) {
                return s.delivery->acknowledge(orchestrator_id, message_id);
            },
            [&s](const std::string& records) {
                return s.plugins->storage().usage_insert_batch(records);
            }},
        s.log, s.metrics, writer_options);
    // What was taken before a kill (or a stop with storage down) is stored
    // first; orchestrators cannot connect yet.
    if (const size_t replayed = s.writes->replay_journal(); replayed > 0)
        s.log.info("storage journal: " + std::to_string(replayed) +
                   " orchestrator writes from before replayed into the storage queue");
    // Registers of new orchestrators (open mode) waiting for storage: one
    // per connection at most, so a reconnecting fleet fits.
    s.creator = std::make_unique<OrchestratorCreator>(s.plugins->storage(), *s.fleet, 100000);
    s.ws = std::make_unique<WsServer>(wo);
    // Several hosts: a register may come a moment before another host's
    // notice that its orchestrator was created (2 s covers a busy store).
    if (s.cluster)
        s.unknown_wait = std::make_unique<UnknownOrchestratorWait>(
            *s.fleet, std::chrono::milliseconds(2000), 10000);
    s.ws_protocol = std::make_unique<WsProtocol>(WsProtocol::Deps{
        s.log, *s.fleet, *s.plugins, [&s](Event&& e) { s.events.publish(std::move(e)); },
        s.config.orchestrator_auth_open, s.config.heartbeat_interval_sec, *s.delivery, *s.ws,
        *s.writes, *s.creator, ack_seconds, s.config.orchestrator_cert_required,
        s.config.orchestrator_token_required, &s.failed_registers, &s.ws_refusal_log,
        s.pace.get(), s.unknown_wait.get()});
    s.ws_protocol->set_forward([&s](std::string_view id, std::string_view frame) {
        ClusterLink* c = s.cluster_now.load();
        return c != nullptr ? c->forward_frame(id, frame) : MOOLAI_E_NOT_FOUND;
    });
    s.ws->add_path("/ws", s.ws_protocol->handlers());
    s.ws->add_path(EventStream::kPath, s.stream->handlers());
    s.stream_recheck = std::make_unique<PeriodicTask>(std::chrono::seconds(5),
                                                      [&s] { s.stream->recheck(now_unix_ms()); });

    // The interval follows the number of connections held here.
    s.pace_task = std::make_unique<PeriodicTask>(
        std::chrono::seconds(std::min(5, s.config.heartbeat_interval_sec)), [&s] {
            const int before = s.pace->interval_sec();
            if (s.pace->update(s.ws->connection_count(), now_unix_ms()))
                s.log.info("heartbeat interval " + std::to_string(before) + " s -> " +
                           std::to_string(s.pace->interval_sec()) + " s for " +
                           std::to_string(s.ws->connection_count()) + " connections (TTL " +
                           std::to_string(s.fleet->ttl_ms() / 1000) + " s)");
        });
    s.memory_return = std::make_unique<MemoryReturn>(
        [&s] { return s.ws->connection_count(); },
        s.metrics.counter("moolai_memory_returns_total",
                          "Heap given back to the system after connections closed or opened"));
    s.memory_return_task =
        std::make_unique<PeriodicTask>(std::chrono::seconds(2), [&s] { s.memory_return->tick(); });

    // Everything a notification reaches exists from here on.
    if (s.cluster) {
        s.cluster->open();
        s.cluster_now.store(s.cluster.get());
    }
    s.delivery->start();
    s.writes->start();
    s.creator->start();
    if (s.unknown_wait) s.unknown_wait->start();
    s.ws->start();
    s.stream_recheck->start();
    s.memory_return_task->start();
    if (s.pace->enabled()) s.pace_task->start();
    s.rest_context.reset(new RestApi::Context{
        s.log, s.metrics, *s.plugins, *s.auth, *s.fleet, *s.ws_protocol, s.events, *s.delivery,
        s.throttle, s.failed_login_log, *s.stream, *s.ws, *s.rest, s.ws->port(), s.rest->port(),
        s.config.dashboard_poll_ms, s.config.metrics_token, s.config.public_ws_url,
        s.status_history.get(), s.cluster.get()});
    RestApi::install(*s.rest, *s.rest_context);
    s.rest->set_warming_up(false);
    s.readiness.set_ready();
    s.log.info("controller ready: REST on " + s.config.rest_host + ":" +
               std::to_string(s.rest->port()) + ", WebSocket on " + s.config.ws_host + ":" +
               std::to_string(s.ws->port()) + "/ws");
}

void Controller::interrupt() noexcept {
    Impl& s = *impl_;
    {
        std::lock_guard<std::mutex> lk(s.interrupt_m);
        s.interrupted = true;
    }
    s.interrupt_cv.notify_all();
}

void Controller::stop() noexcept {
    Impl& s = *impl_;
    if (s.stopped) return;
    s.stopped = true;
    try {
        // Outermost first: no new requests, then no new frames, then events, then plugins.
        if (s.rest) s.rest->stop();
        if (s.stream_recheck) s.stream_recheck->stop();
        if (s.stream) s.stream->stop();
        if (s.memory_return_task) s.memory_return_task->stop();
        if (s.pace_task) s.pace_task->stop();
        if (s.storage_state) s.storage_state->stop();
        if (s.delivery) s.delivery->stop();
        if (s.ws) s.ws->stop();
        if (s.creator) s.creator->stop();
        if (s.unknown_wait) s.unknown_wait->stop();
        // What orchestrators were told is taken reaches storage before the
        // plugins stop; bounded, so a stop with storage down still ends.
        if (s.writes) s.writes->stop(std::chrono::seconds(5));
        // The last heartbeats reach storage before the plugins stop.
        if (s.status_history) s.status_history->stop();
        if (s.sweeper) s.sweeper->stop();
        if (s.batcher) s.batcher->stop();
        // The lease and the leadership go at once: the others take over.
        if (s.cluster) s.cluster->stop();
        s.events.stop();
        if (s.plugins) s.plugins->stop();
        s.log.info("controller stopped");
    } catch (const std::exception& e) {
        s.log.error(std::string("error while stopping: ") + e.what());
    }
}

uint16_t Controller::rest_port() const {
    return impl_->rest ? impl_->rest->port() : 0;
}
uint16_t Controller::ws_port() const {
    return impl_->ws ? impl_->ws->port() : 0;
}

}  // namespace moolai::host
