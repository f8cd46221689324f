#include "events/event_stream.hpp"

#include <nlohmann/json.hpp>

#include "common/rfc3339.hpp"

namespace moolai::host {
using nlohmann::json;

namespace {
constexpr uint16_t kPolicyViolation = 1008;
constexpr uint16_t kTryAgainLater = 1013;
}  // namespace

std::string EventStream::to_json(const Event& e) {
    json j{{"type", "event"},
           {"kind", event_kind_name(e.kind)},
           {"source", e.source},
           {"organization_id", e.organization_id},
           {"orchestrator_id", e.orchestrator_id},
           {"subject_id", e.subject_id},
           {"old_value", e.old_value},
           {"new_value", e.new_value},
           {"actor", e.actor},
           {"time", format_rfc3339(e.time_ms)}};
    if (!e.detail_json.empty()) {
        json detail = json::parse(e.detail_json, nullptr, false);
        if (!detail.is_discarded()) j["detail"] = std::move(detail);
    }
    return j.dump();
}

EventStream::EventStream(const SessionAuth& auth, size_t recent_capacity)
    : auth_(auth),
      recent_capacity_(recent_capacity),
      checks_(1024, WorkQueue<Subscribe>::WhenFull::refuse) {
    checks_.start(1, [this](Subscribe& s) { check_subscribe(s); });
}

EventStream::~EventStream() {
    stop();
}

void EventStream::stop() {
    checks_.stop(WorkQueue<Subscribe>::AtStop::hand_back);
}

WsHandlers EventStream::handlers() {
    WsHandlers h;
    h.on_open = [this](WsConnection& c) {
        std::lock_guard<std::mutex> lock(mutex_);
        Connection& conn = connections_[c.id()];
        conn.handle = c.handle();
        conn.opened_ms = now_unix_ms();
    };
    h.on_message = [this](WsConnection& c, std::string_view frame) { on_message(c, frame); };
    h.on_close = [this](WsConnection& c, uint16_t) {
        std::lock_guard<std::mutex> lock(mutex_);
        connections_.erase(c.id());
    };
    return h;
}

void EventStream::on_message(WsConnection& c, std::string_view frame) {
    const json j = json::parse(frame, nullptr, false);
    const bool is_subscribe =
        j.is_object() && j.value("type", json()).is_string() && j["type"] == "subscribe";
    if (!is_subscribe) {
        c.send(json{{"type", "error"},
                    {"code", "unsupported_type"},
                    {"message",
                     "this stream only takes {\"type\":\"subscribe\","
                     "\"token\":\"<session token>\"}"}}
                   .dump());
        return;
    }
    const json token = j.value("token", json());
    if (!token.is_string()) {
        c.close(kPolicyViolation, "invalid or expired session token");
        return;
    }
    Subscribe sub{c.handle(), c.id(), token.get<std::string>()};
    if (checks_.push(std::move(sub)) == WorkQueue<Subscribe>::Pushed::refused)
        c.close(kTryAgainLater, "too many subscribes waiting; subscribe again later");
}

// On the stream's thread: the session check reads storage.
void EventStream::check_subscribe(Subscribe& s) {
    std::shared_ptr<WsConnection> c = s.handle.lock();
    if (!c) return;  // gone while it waited
    c.reset();       // not held across the storage read
    const AuthCheck checked = auth_.check("Bearer " + s.token);
    c = s.handle.lock();
    if (!c) return;
    if (checked.verdict == AuthVerdict::unavailable) {
        c->close(kTryAgainLater, "storage unavailable; subscribe again later");
        return;
    }
    if (checked.verdict != AuthVerdict::ok) {
        c->close(kPolicyViolation, "invalid or expired session token");
        return;
    }
    const Principal& who = checked.who;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = connections_.find(s.id);
        if (it == connections_.end()) return;  // closed meanwhile
        it->second.subscribed = true;
        it->second.token = std::move(s.token);
        it->second.who = who;
    }
    c->admit();
    c->send(json{{"type", "subscribed"},
                 {"username", who.username},
                 {"role", who.role},
                 {"organization_id", who.organization_id}}
                .dump());
}

void EventStream::publish(const Event& e) {
    std::string frame = to_json(e);
    std::vector<std::weak_ptr<WsConnection>> to;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& [id, c] : connections_)
            if (c.subscribed && may_see(c.who, e.organization_id)) to.push_back(c.handle);
        recent_.push_back(Kept{e.organization_id, frame});
        if (recent_.size() > recent_capacity_) recent_.pop_front();
    }
    for (const auto& h : to)  // outside the lock: a send may take a while
        if (auto c = h.lock()) c->send(frame);
}

void EventStream::recheck(int64_t now_ms, int64_t subscribe_timeout_ms) {
    std::vector<std::pair<std::weak_ptr<WsConnection>, std::string>> tokens;
    std::vector<std::weak_ptr<WsConnection>> silent;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& [id, c] : connections_) {
            if (c.subscribed)
                tokens.emplace_back(c.handle, c.token);
            else if (now_ms - c.opened_ms >= subscribe_timeout_ms)
                silent.push_back(c.handle);
        }
    }
    for (const auto& h : silent)
        if (auto c = h.lock()) c->close(kPolicyViolation, "no subscribe frame");
    // Outside the lock: each check is a storage lookup. Only a session known
    // to be gone ends a stream; storage being unreachable does not.
    for (const auto& [h, token] : tokens)
        if (auth_.check("Bearer " + token).verdict == AuthVerdict::denied)
            if (auto c = h.lock()) c->close(kPolicyViolation, "session ended");
}

std::vector<std::string> EventStream::recent(const Principal& who, size_t limit) const {
    std::vector<std::string> out;
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = recent_.rbegin(); it != recent_.rend() && out.size() < limit; ++it)
        if (may_see(who, it->organization_id)) out.push_back(it->json);
    return out;
}

size_t EventStream::subscribers() const {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t n = 0;
    for (const auto& kv : connections_) n += kv.second.subscribed ? 1 : 0;
    return n;
}

}  // namespace moolai::host
