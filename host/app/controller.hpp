// Controller: one running Moolai Controller -- plugins, event bus, REST
// and WebSocket servers -- wired together. start() returns once everything
// listens; stop() takes it down in reverse order.
#pragma once

#include <memory>
#include <stdexcept>

#include "config/controller_config.hpp"

namespace moolai::host {

class Log;

class Controller {
public:
    Controller(ControllerConfig config, Log& log);
    ~Controller();
    Controller(const Controller&) = delete;
    Controller& operator=(const Controller&) = delete;

    // Thrown by start() when interrupt() ended a wait.
    struct Interrupted : std::runtime_error {
        Interrupted() : std::runtime_error("start-up interrupted") {}
    };

    // Throws (PluginRefused, ConfigError, std::runtime_error) with one line.
    // REST listens early for the probes (/livez, /readyz); the rest follows.
    void start();
    // From another thread (a signal): ends a wait inside start().
    void interrupt() noexcept;
    void stop() noexcept;
    // SIGHUP: reads the TLS files again. New handshakes get the new
    // certificate, open connections keep theirs; on a bad file the old one
    // stays and an error is logged. Any thread, also during start().
    void reload_tls() noexcept;

    uint16_t rest_port() const;
    uint16_t ws_port() const;

    struct Impl;  // opaque

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace moolai::host
