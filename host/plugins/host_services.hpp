// HostServices: what the host API table (host_api.cpp) reaches behind a
// plugin's calls. Set up before the first plugin is created; the frame
// sender is filled in once the WebSocket server exists.
#pragma once

#include <functional>
#include <string_view>

#include "moolai/plugin_types.h"

namespace moolai::host {

class Log;
class Metrics;
struct Event;

struct HostServices {
    Log* log = nullptr;
    Metrics* metrics = nullptr;
    // Queues a frame to a connected orchestrator; MOOLAI_E_NOT_FOUND if absent.
    std::function<moolai_status(std::string_view orchestrator_id, std::string_view frame)>
        send_frame;
    // Hands an event to the event bus.
    std::function<void(Event&&)> publish;
    // Takes a notification from a cross-host channel (copies and queues;
    // never blocks); MOOLAI_E_NOT_FOUND for a channel nobody listens on.
    std::function<moolai_status(std::string_view channel, std::string_view payload)>
        deliver_notification;
};

}  // namespace moolai::host
