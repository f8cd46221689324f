#include "app/controller.hpp"

#include "app/login_throttle.hpp"
#include "app/message_delivery.hpp"

#include <algorithm>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/event_stream.hpp"
#include "app/rest_api.hpp"
#include "app/rfc3339.hpp"
#include "app/session_auth.hpp"
#include "app/ws_protocol.hpp"
#include "events/event_bus.hpp"
#include "fleet/fleet_state.hpp"
#include "fleet/heartbeat_batcher.hpp"
#include "fleet/periodic_task.hpp"
#include "fleet/status_sweeper.hpp"
#include "net/rest_server.hpp"
#include "net/ws_server.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "plugins/host_services.hpp"
#include "plugins/plugin_loader.hpp"
#include "plugins/plugin_set.hpp"

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
    std::unique_ptr<SessionAuth> auth;
    std::unique_ptr<FleetState> fleet;
    std::unique_ptr<HeartbeatBatcher> batcher;
    std::unique_ptr<StatusSweeper> sweeper;
    std::unique_ptr<MessageDelivery> delivery;
    LoginThrottle throttle;
    std::unique_ptr<WsProtocol> ws_protocol;
    std::unique_ptr<EventStream> stream;
    std::unique_ptr<PeriodicTask> stream_recheck;
    std::unique_ptr<WsServer> ws;
    std::unique_ptr<RestApi::Context> rest_context;
    std::unique_ptr<RestServer> rest;
    bool stopped = false;

    Impl(ControllerConfig c, Log& l) : config(std::move(c)), log(l) {}

    NetLogger net_logger() {
        return [this](int level, std::string_view m) {
            log.write(static_cast<LogLevel>(level), "net", m);
        };
    }
};

Controller::Controller(ControllerConfig config, Log& log)
    : impl_(std::make_unique<Impl>(std::move(config), log)) {}

Controller::~Controller() {
    stop();
}

void Controller::start() {
    Impl& s = *impl_;
    s.log.add_secret(s.config.dev_bearer_token);
    s.log.add_secret(s.config.superadmin_password);
    s.services.log = &s.log;
    s.services.metrics = &s.metrics;
    s.services.publish = [&s](Event&& e) { s.events.publish(std::move(e)); };
    s.services.send_frame = [&s](std::string_view orchestrator_id, std::string_view frame) {
        return s.ws_protocol ? s.ws_protocol->send_to(orchestrator_id, frame)
                             : MOOLAI_E_UNAVAILABLE;
    };

    s.loader = std::make_unique<PluginLoader>(s.services);
    s.plugins = std::make_unique<PluginSet>(*s.loader, s.config.plugins);
    for (const auto& p : s.plugins->plugins()) {
        s.log.info("loaded plugin " + p->name() + " " + p->version() + " (ABI " + p->abi_version() +
                   ", " + capability_names(p->capabilities()) + ", " +
                   (p->concurrent() ? "concurrent" : "serialized") + ") from " + p->path());
    }
    s.plugins->start();
    CallResult m = s.plugins->storage().migrate();
    if (!m.ok())
        throw std::runtime_error(std::string("storage migration failed: ") + status_name(m.status) +
                                 ": " + m.error);
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
    s.events.start();
    s.auth->ensure_superadmin(s.config.superadmin_username, s.config.superadmin_password);
    if (s.config.orchestrator_auth_open)
        s.log.warn(
            "MOOLAI_ORCHESTRATOR_AUTH=open: ANY client may register as ANY orchestrator. "
            "Demo mode only; never expose this controller.");

    // The fleet in memory, from storage; then its writers.
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
    s.batcher = std::make_unique<HeartbeatBatcher>(
        *s.fleet,
        [&s](const moolai_heartbeat_row* rows, size_t n) {
            CallResult r = s.plugins->storage().heartbeats_write(rows, n);
            if (!r.ok()) s.log.warn("batched heartbeat write failed, retrying: " + r.error);
            return r;
        },
        s.metrics);
    s.sweeper = std::make_unique<StatusSweeper>(*s.fleet, &now_unix_ms, [&s](Orchestrator& o) {
        s.events.publish(Event::about(MOOLAI_EVENT_STATUS_CHANGED, o.organization_id, o.id,
                                      "active", "inactive", "system"));
    });
    s.batcher->start();
    s.sweeper->start();

    WsOptions wo;
    wo.host = s.config.ws_host;
    wo.port = s.config.ws_port;
    wo.max_message_bytes = s.config.max_frame_bytes;
    // One io thread per core: each frame is a little CPU work and no waiting,
    // so more threads only add switching, fewer leave cores idle.
    wo.threads = std::max(1u, std::thread::hardware_concurrency());
    wo.logger = s.net_logger();
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
    s.ws_protocol = std::make_unique<WsProtocol>(WsProtocol::Deps{
        s.log, *s.fleet, *s.plugins, [&s](Event&& e) { s.events.publish(std::move(e)); },
        s.config.orchestrator_auth_open, s.config.heartbeat_interval_sec, *s.delivery});
    s.ws = std::make_unique<WsServer>(wo, s.ws_protocol->handlers());
    s.ws_protocol->attach(*s.ws);
    s.ws->add_path(EventStream::kPath, s.stream->handlers());
    s.stream->attach(*s.ws);
    s.stream_recheck = std::make_unique<PeriodicTask>(std::chrono::seconds(5),
                                                      [&s] { s.stream->recheck(now_unix_ms()); });

    RestOptions ro;
    ro.host = s.config.rest_host;
    ro.port = s.config.rest_port;
    ro.max_request_bytes = s.config.max_body_bytes;
    ro.static_dir = s.config.static_dir;
    ro.logger = s.net_logger();
    s.rest = std::make_unique<RestServer>(ro);

    s.delivery->start();
    s.ws->start();
    s.stream_recheck->start();
    s.rest_context.reset(new RestApi::Context{s.log, s.metrics, *s.plugins, *s.auth, *s.fleet,
                                              *s.ws_protocol, s.events, *s.delivery, s.throttle,
                                              *s.stream, s.ws->port(),
                                              s.config.dashboard_poll_ms});
    RestApi::install(*s.rest, *s.rest_context);
    s.rest->start();
    s.log.info("controller ready: REST on " + s.config.rest_host + ":" +
               std::to_string(s.rest->port()) + ", WebSocket on " + s.config.ws_host + ":" +
               std::to_string(s.ws->port()) + "/ws");
}

void Controller::stop() noexcept {
    Impl& s = *impl_;
    if (s.stopped) return;
    s.stopped = true;
    try {
        // Outermost first: no new requests, then no new frames, then events, then plugins.
        if (s.rest) s.rest->stop();
        if (s.stream_recheck) s.stream_recheck->stop();
        if (s.delivery) s.delivery->stop();
        if (s.ws) s.ws->stop();
        // The last heartbeats reach storage before the plugins stop.
        if (s.sweeper) s.sweeper->stop();
        if (s.batcher) s.batcher->stop();
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
