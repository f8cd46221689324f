// EventStream: the dashboard's live feed. A browser connects to the
// WebSocket port on /api/v1/events, sends {"type":"subscribe","token":T}
// first, and then receives every host event of its tenant as
// {"type":"event","kind",...}. It also keeps the last events for
// GET /api/v1/internal/events (what a page shows before the stream has
// anything to say). Sessions are re-checked periodically, so a logout or
// an expiry ends the stream with 1008. The session check of a subscribe
// reads storage, so it runs on the stream's own thread, never on a
// WebSocket io thread.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/session_auth.hpp"
#include "common/work_queue.hpp"
#include "events/event.hpp"
#include "net/ws_server.hpp"

namespace moolai::host {

class EventStream {
public:
    static constexpr const char* kPath = "/api/v1/events";

    EventStream(const SessionAuth& auth, size_t recent_capacity = 500);
    ~EventStream();  // stop()s
    EventStream(const EventStream&) = delete;
    EventStream& operator=(const EventStream&) = delete;

    // Ends the subscribe checks; those still waiting are dropped (their
    // connections are closing with the server). Idempotent.
    void stop();

    WsHandlers handlers();

    // From the event bus's thread: serialized once, fanned out by tenant.
    void publish(const Event& e);
    // Ends the streams whose session was revoked or expired, and the
    // connections that never subscribed within `subscribe_timeout_ms`.
    void recheck(int64_t now_ms, int64_t subscribe_timeout_ms = 10000);

    // The newest events `who` may see, newest first, at most `limit`.
    std::vector<std::string> recent(const Principal& who, size_t limit) const;
    size_t subscribers() const;

    // {"type":"event",...} for one event: the frame, and one entry of recent().
    static std::string to_json(const Event& e);

private:
    struct Connection {
        std::weak_ptr<WsConnection> handle;  // frames go out from the event bus's thread
        int64_t opened_ms = 0;
        bool subscribed = false;
        std::string token;
        Principal who;
    };
    struct Kept {
        std::string organization_id;
        std::string json;
    };
    static bool may_see(const Principal& who, const std::string& organization_id) {
        return who.superadmin() || who.organization_id == organization_id;
    }
    // A subscribe waiting for its session check.
    struct Subscribe {
        std::weak_ptr<WsConnection> handle;
        ConnectionId id = 0;
        std::string token;
    };
    void on_message(WsConnection& c, std::string_view frame);
    void check_subscribe(Subscribe& s);

    const SessionAuth& auth_;
    const size_t recent_capacity_;
    mutable std::mutex mutex_;
    std::unordered_map<ConnectionId, Connection> connections_;
    std::deque<Kept> recent_;  // newest at the back
    // Bounded: a browser that floods subscribes gets 1013, nobody waits.
    WorkQueue<Subscribe> checks_;
};

}  // namespace moolai::host
