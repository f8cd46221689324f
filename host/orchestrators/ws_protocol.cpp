#include "orchestrators/ws_protocol.hpp"

#include "common/abi_str.hpp"

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "abuse/locked_backoff.hpp"
#include "abuse/log_limiter.hpp"
#include "abuse/source_address.hpp"
#include "auth/session_auth.hpp"
#include "common/rfc3339.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "orchestrators/message_delivery.hpp"
#include "fleet/heartbeat_pace.hpp"
#include "orchestrators/orchestrator_creator.hpp"
#include "orchestrators/unknown_orchestrator_wait.hpp"
#include "orchestrators/storage_writer.hpp"
#include "orchestrators/usage_record.hpp"
#include "plugins/plugin_set.hpp"

namespace moolai::host {
using nlohmann::json;

namespace {

const char* status_text(const Orchestrator& o) {
    if (o.independent.load()) return "independent";
    return o.status.load() == MOOLAI_ORCH_ACTIVE ? "active" : "inactive";
}

// Errors storage reports later, from the storage thread, reach the
// connection through its handle (gone = nobody to tell).
StorageWriter::Answer answer_to(WsConnection& c) {
    return [h = c.handle()](std::string_view code, const std::string& message) {
        if (auto live = h.lock())
            live->send(json{{"type", "error"}, {"code", code}, {"message", message}}.dump());
    };
}

// interval_sec 0: no "heartbeat_interval_sec" (the interval is fixed).
std::string heartbeat_ack(const std::string& orchestrator_id, bool processed, int interval_sec) {
    std::string ack = R"({"type":"heartbeat_ack","orchestrator_id":)";
    ack += json(orchestrator_id).dump();
    ack += processed ? R"(,"processed":true)" : R"(,"processed":false)";
    if (interval_sec > 0) ack += R"(,"heartbeat_interval_sec":)" + std::to_string(interval_sec);
    ack += '}';
    return ack;
}

// The scanner behind scan_heartbeat_frame: a cursor over the frame.
class FrameCursor {
public:
    explicit FrameCursor(std::string_view s) : s_(s) {}

    void skip_space() {
        while (i_ < s_.size() &&
               (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
            ++i_;
    }
    bool eat(char c) {
        skip_space();
        if (i_ >= s_.size() || s_[i_] != c) return false;
        ++i_;
        return true;
    }
    // A string of printable ASCII without escapes; false for anything else
    // (escapes, control or non-ASCII bytes: the full parser decides those).
    bool plain_string(std::string_view& out) {
        if (!eat('"')) return false;
        const size_t start = i_;
        for (; i_ < s_.size(); ++i_) {
            const unsigned char c = static_cast<unsigned char>(s_[i_]);
            if (c == '"') {
                out = s_.substr(start, i_ - start);
                ++i_;
                return true;
            }
            if (c == '\\' || c < 0x20 || c > 0x7E) return false;
        }
        return false;
    }
    bool at_end() {
        skip_space();
        return i_ == s_.size();
    }

private:
    std::string_view s_;
    size_t i_ = 0;
};

}  // namespace

bool scan_heartbeat_frame(std::string_view frame, HeartbeatFrame& out) noexcept {
    FrameCursor c(frame);
    bool has_type = false;
    out = HeartbeatFrame{};
    if (!c.eat('{')) return false;
    for (;;) {
        std::string_view key, value;
        if (!c.plain_string(key) || !c.eat(':') || !c.plain_string(value)) return false;
        if (key == "type" && !has_type) {
            if (value != "i_am_alive" && value != "keepalive") return false;
            has_type = true;
        } else if (key == "orchestrator_id" && !out.names_orchestrator) {
            out.names_orchestrator = true;
            out.orchestrator_id = value;
        } else {
            return false;  // another key, or one given twice
        }
        if (c.eat(',')) continue;
        if (!c.eat('}')) return false;
        return has_type && c.at_end();
    }
}

WsHandlers WsProtocol::handlers() {
    WsHandlers h;
    h.on_validate = [](const WsUpgrade&) { return 0; };
    h.on_open = [this](WsConnection& c) { on_open(c); };
    h.on_message = [this](WsConnection& c, std::string_view frame) { on_message(c, frame); };
    h.on_close = [this](WsConnection& c, uint16_t) { on_close(c); };
    h.on_pong_timeout = [this](WsConnection& c) { on_pong_timeout(c); };
    return h;
}

void WsProtocol::on_open(WsConnection& c) {
    auto s = std::make_shared<Session>();
    s->upgrade_token = std::string(SessionAuth::bearer_token(c.upgrade().authorization));
    c.set_context(std::move(s));
    c.send(R"({"type":"handshake_ack","success":true})");
}

void WsProtocol::on_close(WsConnection& c) {
    Session* s = c.context<Session>();
    if (s == nullptr || !s->orchestrator) return;
    uint64_t expected = c.id();
    // Only the connection that still owns the orchestrator unbinds it.
    if (s->orchestrator->connection.compare_exchange_strong(expected, 0))
        emit(MOOLAI_EVENT_ORCHESTRATOR_DISCONNECTED, *s->orchestrator, "", "");
}

void WsProtocol::on_pong_timeout(WsConnection& c) {
    // HEARTBEAT_POKER_ENABLED: the orchestrator went silent and did not answer
    // a ping. Mark it at once rather than after the TTL, then drop the link.
    if (Session* s = c.context<Session>(); s != nullptr && s->orchestrator) {
        const std::shared_ptr<Orchestrator>& o = s->orchestrator;
        if (o->connection.load() == c.id() && d_.fleet.mark_inactive(o)) {
            d_.log.info("orchestrator \"" + o->id + "\" did not answer a ping: inactive",
                        {{"orchestrator_id", o->id}, {"organization_id", o->organization_id}});
            emit(MOOLAI_EVENT_STATUS_CHANGED, *o, "active", "inactive");
        }
    }
    c.close(1001, "no pong: connection presumed dead");
}

void WsProtocol::send_error(WsConnection& c, std::string_view code, std::string_view message) {
    c.send(json{{"type", "error"}, {"code", code}, {"message", message}}.dump());
}

void WsProtocol::send_busy(WsConnection& c, std::string_view frame_type,
                           const std::string& message_id) {
    json e{{"type", "error"},
           {"code", "busy"},
           {"message", "storage is behind: \"" + std::string(frame_type) +
                           "\" was not taken; send it again later"},
           {"retry_after_ms", 1000}};
    if (!message_id.empty()) e["message_id"] = message_id;
    c.send(e.dump());
}

void WsProtocol::emit(uint32_t kind, const Orchestrator& o, std::string old_value,
                      std::string new_value) {
    if (!d_.publish) return;
    d_.publish(Event::about(kind, o.organization_id, o.id, std::move(old_value),
                            std::move(new_value), "system"));
}

void WsProtocol::on_message(WsConnection& c, std::string_view frame) {
    Session* s = c.context<Session>();  // set by on_open
    if (s == nullptr) return;
    // Most frames are heartbeats of a registered orchestrator: answered
    // without a JSON tree. Any other case (not registered, another id, any
    // other shape) takes the full path below, errors included.
    HeartbeatFrame hb;
    if (s->orchestrator && scan_heartbeat_frame(frame, hb) &&
        (!hb.names_orchestrator || hb.orchestrator_id == s->orchestrator->id)) {
        on_heartbeat(c, *s);
        return;
    }
    const json j = json::parse(frame, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        send_error(c, "invalid_json", "the frame is not a JSON object");
        return;
    }
    const auto type = j.find("type");
    if (type == j.end() || !type->is_string()) {
        send_error(c, "missing_type", "the frame has no string \"type\"");
        return;
    }
    const std::string& t = type->get_ref<const std::string&>();
    if (s->register_pending) {
        // Open mode is still creating this connection's orchestrator: the
        // orchestrator waits for provisioning before anything else anyway.
        send_error(c, "not_registered",
                   "\"register\" is in progress: wait for \"provisioning\" before \"" + t + "\"");
        return;
    }
    if (t == "register") {
        on_register(c, *s, j);
        return;
    }
    if (t == "handshake") {
        // The older generation: {"type":"handshake","service":"orchestrator",
        // "data":{"orchestrator_id","metadata"}} is a register.
        const auto data = j.find("data");
        json as_register = data != j.end() && data->is_object() ? *data : json::object();
        as_register["type"] = "register";
        if (j.contains("token")) as_register["token"] = j["token"];
        on_register(c, *s, as_register);
        return;
    }
    if (!s->orchestrator) {
        send_error(c, "not_registered", "send \"register\" before \"" + t + "\"");
        return;
    }
    // A connection speaks for the orchestrator it registered as, only.
    const auto named = j.find("orchestrator_id");
    if (named != j.end() && (!named->is_string() || *named != s->orchestrator->id)) {
        send_error(c, "foreign_orchestrator",
                   "this connection is registered as \"" + s->orchestrator->id + "\"");
        return;
    }
    if (t == "i_am_alive" || t == "keepalive") {
        on_heartbeat(c, *s);
    } else if (t == "request_status") {
        on_request_status(c, *s);
    } else if (t == "message_ack") {
        on_message_ack(c, *s, j);
    } else if (t == "usage_report") {
        on_usage_report(c, *s, j);
    } else if (t == "update_metadata" || t == "o_config_snapshot") {
        const auto m = j.find(t == "update_metadata" ? "metadata" : "data");
        if (m == j.end() || !m->is_object()) {
            send_error(c, "invalid_field",
                       t == "update_metadata" ? "\"metadata\" must be an object"
                                              : "\"data\" must be an object");
            return;
        }
        on_update_metadata(c, *s, *m);
    } else {
        send_error(c, "unsupported_type", "frame type \"" + t + "\" is not handled");
    }
}

void WsProtocol::on_register(WsConnection& c, Session& s, const json& j) {
    const auto oid = j.find("orchestrator_id");
    if (oid == j.end() || !oid->is_string() || oid->get_ref<const std::string&>().empty() ||
        oid->get_ref<const std::string&>().size() > 255) {
        send_error(c, "invalid_field", "\"orchestrator_id\" must be a string of 1 to 255 bytes");
        return;
    }
    const std::string orchestrator_id = oid->get<std::string>();
    const auto org = j.find("organization_id");
    if (org != j.end() && !org->is_string()) {
        send_error(c, "invalid_field", "\"organization_id\" must be a string");
        return;
    }
    const auto metadata = j.find("metadata");
    if (metadata != j.end() && !metadata->is_object()) {
        send_error(c, "invalid_field", "\"metadata\" must be an object");
        return;
    }
    const auto tok = j.find("token");
    if (tok != j.end() && !tok->is_string()) {
        send_error(c, "invalid_field", "\"token\" must be a string");
        return;
    }
    if (s.orchestrator && s.orchestrator->id != orchestrator_id) {
        send_error(c, "foreign_orchestrator",
                   "this connection is registered as \"" + s.orchestrator->id + "\"");
        return;
    }
    const std::string source = source_key(c.upgrade().client);
    if (d_.failed_registers != nullptr) {
        if (const int64_t wait_ms = d_.failed_registers->wait_ms(source, now_unix_ms())) {
            // Not even looked at: guessing from here costs a round trip and
            // a wait, and no log line beyond the limiter's summary.
            const int64_t wait_s = (wait_ms + 999) / 1000;
            if (d_.refusal_log != nullptr) {
                if (const auto held = d_.refusal_log->admit(source, now_unix_ms()))
                    d_.log.warn("registers from " + source + " refused for " +
                                    std::to_string(wait_s) + " s after repeated failures" +
                                    LogLimiter::held_back_note(*held),
                                {{"remote", source}});
            }
            c.close(4429, "too many failed registrations from this address; retry in " +
                              std::to_string(wait_s) + " s");
            return;
        }
    }

    if (d_.cert_required) {  // mTLS: the certificate must name this orchestrator
        const std::vector<std::string>& names = c.client_cert_names();
        if (std::find(names.begin(), names.end(), orchestrator_id) == names.end()) {
            refuse_register(c, source, orchestrator_id,
                            names.empty() ? "client certificate required"
                                          : "client certificate does not name this orchestrator");
            return;
        }
    }
    const json meta = metadata != j.end() ? *metadata : json();
    std::shared_ptr<Orchestrator> o = d_.fleet.find(orchestrator_id);
    if (d_.open_mode && !o) {
        // The seed's flow: an unknown orchestrator is created on register --
        // by the creator's thread, which answers on this connection's strand.
        const std::string org_id = org != j.end() && !org->get_ref<const std::string&>().empty()
                                       ? org->get<std::string>()
                                       : "default";
        const ConnectionId conn = c.id();
        const bool queued = d_.creator.push(
            {orchestrator_id, org_id,
             [this, conn, meta](std::shared_ptr<Orchestrator> created, const CallResult& r) {
                 d_.server.post(conn, [this, created, r, meta](WsConnection& pc) {
                     on_created(pc, created, r, meta);
                 });
             }});
        if (queued)
            s.register_pending = true;
        else
            send_busy(c, "register");
        return;
    }
    const std::string token = tok != j.end() ? tok->get<std::string>() : s.upgrade_token;
    if (!d_.open_mode && !o && d_.unknown_wait != nullptr) {
        // Several hosts: one made on another host a moment ago is known here
        // once that host's notification arrives. The register waits for it
        // (bounded) off this io thread; the answer comes back on its strand.
        const ConnectionId conn = c.id();
        const bool waiting = d_.unknown_wait->push(
            orchestrator_id,
            [this, conn, token, meta, source, orchestrator_id](std::shared_ptr<Orchestrator> found) {
                d_.server.post(conn, [this, found, token, meta, source,
                                      orchestrator_id](WsConnection& pc) {
                    if (Session* ps = pc.context<Session>()) {
                        ps->register_pending = false;
                        finish_register(pc, *ps, found, token, meta, source, orchestrator_id);
                    }
                });
            });
        if (waiting) {
            s.register_pending = true;
            return;
        }
    }
    finish_register(c, s, o, token, meta, source, orchestrator_id);
}

void WsProtocol::finish_register(WsConnection& c, Session& s,
                                 const std::shared_ptr<Orchestrator>& o, const std::string& token,
                                 const json& meta, const std::string& source,
                                 const std::string& orchestrator_id) {
    if (!d_.open_mode && !d_.token_required && !o) {  // mtls alone: known ids only
        refuse_register(c, source, orchestrator_id, "unknown orchestrator");
        return;
    }
    if (!d_.open_mode && d_.token_required) {
        // hash_token is a keyed hash without storage (moolai_auth_v1: "fast")
        // and the stored hash is in memory: nothing here waits for storage.
        bool ok = false;
        if (o && !token.empty()) {
            CallResult h = d_.plugins.auth().hash_token(token);
            ok = h.ok() && SessionAuth::same_secret(h.output, o->credential_hash());
        }
        if (!ok) {
            refuse_register(c, source, orchestrator_id, "invalid orchestrator credentials");
            return;
        }
    }
    complete_register(c, s, o, meta);
}

void WsProtocol::refuse_register(WsConnection& c, const std::string& source,
                                 const std::string& orchestrator_id, const char* reason) {
    const int64_t now = now_unix_ms();
    if (d_.failed_registers != nullptr) d_.failed_registers->fail(source, now);
    const auto held = d_.refusal_log != nullptr ? d_.refusal_log->admit(source, now)
                                                : std::optional<uint64_t>(0);
    if (held)
        d_.log.warn("refused register of \"" + orchestrator_id.substr(0, 64) + "\" from " +
                        source + ": " + reason + LogLimiter::held_back_note(*held),
                    {{"orchestrator_id", orchestrator_id.substr(0, 64)}, {"remote", source}});
    c.close(1008, reason);
}

void WsProtocol::on_created(WsConnection& c, const std::shared_ptr<Orchestrator>& created,
                            const CallResult& result, const json& metadata) {
    Session* s = c.context<Session>();
    if (s == nullptr) return;
    s->register_pending = false;
    if (!created) {
        send_error(c, "storage_error", result.error);
        return;
    }
    complete_register(c, *s, created, metadata);
}

void WsProtocol::complete_register(WsConnection& c, Session& s,
                                   const std::shared_ptr<Orchestrator>& o, const json& metadata) {
    // Queued like update_metadata; a full queue loses only this metadata
    // (documented: its storage is not reported), never the register.
    if (!metadata.is_null() &&
        !d_.writes.push_metadata(o->id, json{{"metadata", metadata}}.dump(), answer_to(c)))
        d_.log.warn("metadata of \"" + o->id + "\" at register not stored: storage queue full",
                    {{"orchestrator_id", o->id}});

    // One live connection per orchestrator: a new one replaces the old.
    o->connected_since_ms.store(now_unix_ms());
    const uint64_t previous = o->connection.exchange(c.id());
    if (previous != 0 && previous != c.id())
        d_.server.close(previous, 1000, "replaced by a newer connection");
    s.orchestrator = o;
    c.admit();  // registered: the register deadline no longer applies
    make_acks(s);
    c.send(json{{"type", "provisioning"},
                {"orchestrator_id", o->id},
                {"config",
                 {{"heartbeat_interval_sec",
                   d_.pace != nullptr ? d_.pace->interval_sec() : d_.heartbeat_interval_sec},
                  {"heartbeat_ttl_sec", d_.fleet.ttl_ms() / 1000},
                  {"is_independent", o->independent.load()},
                  {"monitoring_enabled", !o->independent.load()}}}}
               .dump());
    emit(MOOLAI_EVENT_ORCHESTRATOR_REGISTERED, *o, "", "");
    // Accepted recommendations not yet acknowledged go (again) now, from the
    // delivery thread: this io thread has other connections' frames to serve.
    d_.delivery.redeliver_soon(o->id);
}

void WsProtocol::on_message_ack(WsConnection& c, Session& s, const json& j) {
    const auto mid = j.find("message_id");
    if (mid == j.end() || !mid->is_string() || mid->get_ref<const std::string&>().empty()) {
        send_error(c, "invalid_field", "\"message_id\" must be a non-empty string");
        return;
    }
    // Answered once queued; unknown_message, if so, comes from the storage thread.
    if (!d_.writes.push_ack(s.orchestrator->id, mid->get<std::string>(), answer_to(c)))
        send_busy(c, "message_ack", mid->get<std::string>());
}

void WsProtocol::make_acks(Session& s) {
    const bool paced = d_.pace != nullptr && d_.pace->enabled();
    s.pace_generation = paced ? d_.pace->generation() : 0;
    // The field appears once the interval leaves the configured one, and
    // stays (so the way back is told too): a fleet that never grows sees
    // the acks of the wire contract unchanged.
    const int current = paced ? d_.pace->interval_sec() : d_.heartbeat_interval_sec;
    s.told_paced = s.told_paced || current != d_.heartbeat_interval_sec;
    const int interval = s.told_paced ? current : 0;
    s.processed_ack = heartbeat_ack(s.orchestrator->id, true, interval);
    s.unprocessed_ack = heartbeat_ack(s.orchestrator->id, false, interval);
}

void WsProtocol::on_heartbeat(WsConnection& c, Session& s) {
    const auto started = std::chrono::steady_clock::now();
    const std::shared_ptr<Orchestrator>& o = s.orchestrator;
    const int64_t now = now_unix_ms();
    moolai_heartbeat_info hb{};
    hb.struct_size = sizeof hb;
    hb.status = o->status.load();
    hb.orchestrator_id = abi_str(o->id);
    hb.organization_id = abi_str(o->organization_id);
    hb.now_ms = now;
    hb.last_seen_ms = o->last_seen_ms.load();
    hb.is_independent = o->independent.load() ? 1 : 0;
    uint32_t decision = MOOLAI_HEARTBEAT_IGNORE;
    CallResult r = d_.plugins.independence().on_heartbeat(hb, decision);
    if (!r.ok()) {
        // Fail closed: an erroring policy processes nothing.
        decision = MOOLAI_HEARTBEAT_IGNORE;
        d_.log.warn("independence policy failed on a heartbeat of \"" + o->id + "\": " + r.error);
    }
    const bool processed = decision == MOOLAI_HEARTBEAT_PROCESS;
    if (processed && d_.fleet.record_heartbeat(o, now))
        emit(MOOLAI_EVENT_STATUS_CHANGED, *o, "inactive", "active");
    // The interval changed since the acks were made (rare): made again.
    if (d_.pace != nullptr && s.pace_generation != d_.pace->generation()) make_acks(s);
    c.send(processed ? s.processed_ack : s.unprocessed_ack);
    if (d_.heartbeat_ack_seconds != nullptr)
        d_.heartbeat_ack_seconds->observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

void WsProtocol::on_request_status(WsConnection& c, Session& s) {
    const Orchestrator& o = *s.orchestrator;
    const int64_t last_seen = o.last_seen_ms.load();
    c.send(json{{"type", "status"},
                {"orchestrator_id", o.id},
                {"organization_id", o.organization_id},
                {"status", status_text(o)},
                {"is_independent", o.independent.load()},
                {"last_seen", last_seen != 0 ? json(format_rfc3339(last_seen)) : json(nullptr)}}
               .dump());
}

void WsProtocol::on_update_metadata(WsConnection& c, Session& s, const json& metadata) {
    if (!d_.writes.push_metadata(s.orchestrator->id, json{{"metadata", metadata}}.dump(),
                                 answer_to(c)))
        send_busy(c, "update_metadata");
}

void WsProtocol::on_usage_report(WsConnection& c, Session& s, const json& j) {
    UsageRecord u = usage_record(j, *s.orchestrator);
    if (u.problem) {
        send_error(c, "invalid_field", *u.problem);
        return;
    }
    if (!d_.writes.push_usage(u.record.dump(), answer_to(c))) send_busy(c, "usage_report");
}

moolai_status WsProtocol::send_here(std::string_view orchestrator_id, std::string_view frame) {
    std::shared_ptr<Orchestrator> o = d_.fleet.find(orchestrator_id);
    if (!o) return MOOLAI_E_NOT_FOUND;
    const uint64_t conn = o->connection.load();
    if (conn == 0) return MOOLAI_E_NOT_FOUND;
    return d_.server.send(conn, frame) ? MOOLAI_OK : MOOLAI_E_UNAVAILABLE;
}

moolai_status WsProtocol::send_to(std::string_view orchestrator_id, std::string_view frame) {
    const moolai_status here = send_here(orchestrator_id, frame);
    if (here != MOOLAI_E_NOT_FOUND || !forward_) return here;
    return forward_(orchestrator_id, frame);
}

void WsProtocol::disconnect(std::string_view orchestrator_id, std::string_view reason,
                            uint16_t code) {
    std::shared_ptr<Orchestrator> o = d_.fleet.find(orchestrator_id);
    if (!o) return;
    const uint64_t conn = o->connection.exchange(0);
    if (conn != 0) d_.server.close(conn, code, reason);
}

}  // namespace moolai::host
