// RestApi: the REST routes of the controller, installed on a RestServer.
// Every route but login and health requires a bearer token.
#pragma once

#include <cstdint>
#include <string>

#include "net/rest_server.hpp"

namespace moolai::host {
class ClusterLink;

class EventBus;
class EventStream;
class FleetState;
class WsProtocol;
class WsServer;
class Log;
class LoginThrottle;
class LogLimiter;
class MessageDelivery;
class Metrics;
class PluginSet;
class SessionAuth;
class StatusHistory;

namespace RestApi {

struct Context {
    Log& log;
    Metrics& metrics;
    const PluginSet& plugins;
    const SessionAuth& auth;
    FleetState& fleet;
    WsProtocol& ws;
    EventBus& events;
    MessageDelivery& delivery;
    LoginThrottle& throttle;
    LogLimiter& failed_login_log;  // one failed-login line per source per interval
    const EventStream& stream;
    const WsServer& ws_server;      // its refusals and cuts, for /metrics
    const RestServer& rest_server;  // its failed accepts, for /metrics
    uint16_t ws_port;    // the bound WebSocket port, told to the dashboard
    uint16_t rest_port;  // the bound REST port: a page served from another port is proxied
    int dashboard_poll_ms;
    std::string metrics_token;  // MOOLAI_METRICS_TOKEN: a scraper's bearer for /metrics, "" = none
    std::string
        public_ws_url;  // MOOLAI_PUBLIC_WS_URL: the live stream's URL for browsers, "" = derive
    const StatusHistory* status_history;  // the overview's rolling counts; nullptr = none kept
    // Several hosts on one store: told of orchestrators made, deleted or
    // given a new credential here; nullptr = this host serves alone.
    ClusterLink* cluster = nullptr;
};

// `ctx` must outlive the server.
void install(RestServer& server, const Context& ctx);

}  // namespace RestApi
}  // namespace moolai::host
