#include "app/event_stream.hpp"

#include <nlohmann/json.hpp>

#include "app/rfc3339.hpp"

namespace moolai::host {
using nlohmann::json;

namespace {
constexpr uint16_t kPolicyViolation = 1008;
}

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

WsHandlers EventStream::handlers() {
    WsHandlers h;
    h.on_open = [this](ConnectionId id, const WsUpgrade&) {
        std::lock_guard<std::mutex> lock(mutex_);
        connections_[id].opened_ms = now_unix_ms();
    };
    h.on_message = [this](ConnectionId id, std::string_view frame) { on_message(id, frame); };
    h.on_close = [this](ConnectionId id, uint16_t) {
        std::lock_guard<std::mutex> lock(mutex_);
        connections_.erase(id);
    };
    return h;
}

void EventStream::on_message(ConnectionId id, std::string_view frame) {
    const json j = json::parse(frame, nullptr, false);
    const bool is_subscribe = j.is_object() && j.value("type", json()).is_string() &&
                              j["type"] == "subscribe";
    if (!is_subscribe) {
        server_->send(id, json{{"type", "error"},
                               {"code", "unsupported_type"},
                               {"message", "this stream only takes {\"type\":\"subscribe\","
                                           "\"token\":\"<session token>\"}"}}
                              .dump());
        return;
    }
    const json token = j.value("token", json());
    std::optional<Principal> who;
    if (token.is_string()) who = auth_.authenticate("Bearer " + token.get<std::string>());
    if (!who) {
        server_->close(id, kPolicyViolation, "invalid or expired session token");
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = connections_.find(id);
        if (it == connections_.end()) return;  // closed meanwhile
        it->second.subscribed = true;
        it->second.token = token.get<std::string>();
        it->second.who = *who;
    }
    server_->send(id, json{{"type", "subscribed"},
                           {"username", who->username},
                           {"role", who->role},
                           {"organization_id", who->organization_id}}
                          .dump());
}

void EventStream::publish(const Event& e) {
    std::string frame = to_json(e);
    std::vector<ConnectionId> to;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& [id, c] : connections_)
            if (c.subscribed && may_see(c.who, e.organization_id)) to.push_back(id);
        recent_.push_back(Kept{e.organization_id, frame});
        if (recent_.size() > recent_capacity_) recent_.pop_front();
    }
    if (server_ == nullptr) return;
    for (ConnectionId id : to) server_->send(id, frame);
}

void EventStream::recheck(int64_t now_ms, int64_t subscribe_timeout_ms) {
    std::vector<std::pair<ConnectionId, std::string>> tokens;
    std::vector<ConnectionId> silent;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& [id, c] : connections_) {
            if (c.subscribed)
                tokens.emplace_back(id, c.token);
            else if (now_ms - c.opened_ms >= subscribe_timeout_ms)
                silent.push_back(id);
        }
    }
    if (server_ == nullptr) return;
    for (ConnectionId id : silent) server_->close(id, kPolicyViolation, "no subscribe frame");
    // Outside the lock: each check is a storage lookup.
    for (const auto& [id, token] : tokens)
        if (!auth_.authenticate("Bearer " + token))
            server_->close(id, kPolicyViolation, "session ended");
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
