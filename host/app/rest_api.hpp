// RestApi: the REST routes of the controller, installed on a RestServer.
// Every route but login and health requires a bearer token.
#pragma once

#include <cstdint>

#include "net/rest_server.hpp"

namespace moolai::host {

class EventBus;
class EventStream;
class FleetState;
class WsProtocol;
class Log;
class LoginThrottle;
class MessageDelivery;
class Metrics;
class PluginSet;
class SessionAuth;

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
    const EventStream& stream;
    uint16_t ws_port;  // the bound WebSocket port, told to the dashboard
    int dashboard_poll_ms;
};

// `ctx` must outlive the server.
void install(RestServer& server, const Context& ctx);

}  // namespace RestApi
}  // namespace moolai::host
