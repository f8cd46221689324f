#include "simulated_fleet.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <random>

namespace moolai::sim {

using nlohmann::json;
using orchestrator::ClientState;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uint64_t kLoggedPerKind = 10;  // then counted only: fleets can be large

milliseconds ms_of(double seconds) {
    return milliseconds(static_cast<int64_t>(std::llround(seconds * 1000.0)));
}

std::string seconds_text(milliseconds d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(d.count()) / 1000.0);
    return buf;
}

std::string snippet(const std::string& s, size_t max = 80) {
    std::string out = json(s.size() > max ? s.substr(0, max) + "..." : s)
                          .dump(-1, ' ', false, json::error_handler_t::replace);
    return out;
}

// A model with its price per million input and output tokens (USD).
struct Model {
    const char* name;
    double input_per_m;
    double output_per_m;
};
constexpr Model kModels[] = {
    {"gpt-4o", 2.50, 10.00},
    {"gpt-4o-mini", 0.15, 0.60},
    {"claude-3-5-sonnet", 3.00, 15.00},
    {"llama-3.1-70b", 0.88, 0.88},
};

}  // namespace

void SimLog::line(const std::string& text) {
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[96];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
    const std::string out = std::string(stamp) + " sim: " + text + "\n";
    std::lock_guard<std::mutex> lk(m_);
    std::fwrite(out.data(), 1, out.size(), stderr);
    std::fflush(stderr);
}

struct SimulatedFleet::Member {
    std::string id;
    std::unique_ptr<orchestrator::OrchestratorClient> client;
    // The client's callbacks (never two at once for one client) only.
    int connected_to = -1;     // the URL index while counted as connected
    bool registered = false;   // counted as registered
    int registered_last = -1;  // the URL index of the last register
    std::minstd_rand rng;      // main thread only
    Clock::time_point next_usage;
    Clock::time_point next_metadata;
    uint32_t metadata_revision = 0;
};

SimulatedFleet::SimulatedFleet(orchestrator::ClientRuntime& runtime, const SimOptions& options,
                               const std::vector<Credential>& credentials, SimLog& log)
    : opt_(options), log_(log), began_(Clock::now()) {
    std::random_device device;
    std::minstd_rand seeder(options.seed != 0 ? options.seed : device());
    counters_.connected_to = std::make_unique<std::atomic<uint64_t>[]>(options.urls.size());
    members_.reserve(credentials.size());
    for (const Credential& c : credentials) {
        auto m = std::make_unique<Member>();
        m->id = c.orchestrator_id;
        m->rng.seed(seeder());
        orchestrator::ClientOptions co;
        co.urls = options.urls;
        // Round robin over the controllers: an even spread from the start.
        co.first_url = static_cast<int>(members_.size() % options.urls.size());
        co.ca_file = options.ca_file;
        co.cert_file = options.cert_file;
        co.key_file = options.key_file;
        co.orchestrator_id = c.orchestrator_id;
        co.token = c.token;
        co.token_on_upgrade = options.token_on_upgrade;
        if (options.source == CredentialSource::open) co.organization_id = options.organization;
        co.metadata_json =
            json{{"simulated", true}, {"version", "sim-1.0"}, {"agent", "moolai-orchestrator-sim"}}
                .dump();
        co.heartbeat_interval = ms_of(options.heartbeat_interval_sec);
        co.backoff.base = ms_of(options.backoff_base_sec);
        co.backoff.cap = ms_of(options.backoff_cap_sec);
        co.refused_retry_delay = ms_of(options.refused_retry_sec);
        co.register_timeout = ms_of(options.register_timeout_sec);
        co.jitter_seed = static_cast<uint32_t>(seeder());
        m->client = std::make_unique<orchestrator::OrchestratorClient>(runtime, std::move(co),
                                                                       handlers_for(*m));
        members_.push_back(std::move(m));
    }
}

SimulatedFleet::~SimulatedFleet() = default;

void SimulatedFleet::log_limited(std::atomic<uint64_t>& seen, const std::string& text) {
    const uint64_t n = seen.fetch_add(1) + 1;
    if (n <= kLoggedPerKind) log_.line(text);
    if (n == kLoggedPerKind) log_.line("(more of these are only counted in the stats)");
}

orchestrator::ClientHandlers SimulatedFleet::handlers_for(Member& m) {
    orchestrator::ClientHandlers h;
    Member* me = &m;
    h.on_connected = [this, me] {
        if (me->connected_to < 0) {
            me->connected_to = static_cast<int>(me->client->current_url_index());
            counters_.connected.fetch_add(1);
            counters_.connected_to[me->connected_to].fetch_add(1);
        }
        if (opt_.verbose)
            log_.line(me->id + ": connected to " + me->client->current_url() + ", register sent");
    };
    h.on_registered = [this, me](const orchestrator::Provisioning& p) {
        if (p.registrations > 1) counters_.reconnects.fetch_add(1);
        const int at = static_cast<int>(me->client->current_url_index());
        if (me->registered_last >= 0 && me->registered_last != at) {
            counters_.failovers.fetch_add(1);
            log_limited(failovers_logged_, me->id + ": failed over from " +
                                               opt_.urls[me->registered_last] + " to " + p.url);
        }
        me->registered_last = at;
        if (!interval_logged_.exchange(true))
            log_.line("heartbeat every " + seconds_text(p.heartbeat_interval) +
                      (opt_.heartbeat_interval_sec > 0 ? " (--heartbeat-interval)"
                       : p.heartbeat_interval_sec > 0  ? " (provisioned by the controller)"
                                                       : " (default)"));
        if (opt_.verbose || p.is_independent)
            log_.line(me->id + ": registered" + (p.registrations > 1 ? " again" : "") +
                      (p.is_independent ? " (independent: heartbeats will be acked "
                                          "processed:false)"
                                        : ""));
        const uint64_t now_registered =
            me->registered ? counters_.registered.load() : counters_.registered.fetch_add(1) + 1;
        me->registered = true;
        if (now_registered == members_.size() && !all_registered_.exchange(true))
            log_.line("all " + std::to_string(members_.size()) + " orchestrators registered (" +
                      std::to_string(counters_.reconnects.load()) + " reconnects so far)");
    };
    h.on_disconnected = [this, me](const orchestrator::Disconnect& d) {
        if (me->connected_to >= 0) {
            counters_.connected_to[me->connected_to].fetch_sub(1);
            counters_.connected.fetch_sub(1);
            me->connected_to = -1;
        }
        if (me->registered) {
            counters_.registered.fetch_sub(1);
            me->registered = false;
        }
        if (d.will_retry) counters_.retries.fetch_add(1);
        const bool several = opt_.urls.size() > 1;
        const std::string what = me->id + ": disconnected" + (several ? " from " + d.url : "") +
                                 " (" + std::to_string(d.close_code) +
                                 (d.reason.empty() ? "" : " " + d.reason) + ")" +
                                 (d.will_retry ? "; retrying in " + seconds_text(d.retry_in) +
                                                     (several ? " on " + d.next_url : "")
                                               : "");
        // Losing a fully registered fleet is news; every single drop is noise.
        const bool fleet_was_complete = d.was_registered && all_registered_.exchange(false);
        if (opt_.verbose)
            log_.line(what);
        else if (fleet_was_complete && d.will_retry)
            log_.line(what + " -- reconnecting with backoff (--verbose shows each orchestrator)");
    };
    h.on_refused = [this, me](const std::string& reason) {
        counters_.refused.fetch_add(1);
        log_limited(refused_logged_,
                    me->id + ": refused by the controller (" + reason + "); " +
                        (opt_.refused_retry_sec > 0 ? "retrying later" : "giving up on it"));
    };
    h.on_heartbeat_ack = [this](bool processed) {
        counters_.heartbeat_acks.fetch_add(1);
        if (!processed) counters_.heartbeats_ignored.fetch_add(1);
    };
    h.on_stop_monitoring = [this, me](const std::string& reason) {
        counters_.stop_monitoring.fetch_add(1);
        log_.line(me->id + ": stop_monitoring (" + (reason.empty() ? "no reason" : reason) +
                  "): independent now; heartbeats continue, acked processed:false");
    };
    h.on_config_update = [this, me](const orchestrator::ConfigUpdate& u) {
        counters_.config_updates.fetch_add(1);
        std::string change;
        if (u.monitoring_enabled.value_or(false) || (u.is_independent && !*u.is_independent))
            change = "monitoring resumed";
        else if (u.is_independent.value_or(false))
            change = "independent now";
        if (u.heartbeat_interval_sec)
            change += std::string(change.empty() ? "" : ", ") + "heartbeat every " +
                      std::to_string(*u.heartbeat_interval_sec) + " s";
        log_.line(me->id + ": config_update " + u.config_json +
                  (change.empty() ? "" : ": " + change));
    };
    h.on_message = [this, me](const orchestrator::ForwardedMessage& msg) {
        counters_.messages.fetch_add(1);
        const bool acked = me->client->ack_message(msg.message_id);
        if (acked) counters_.messages_acked.fetch_add(1);
        log_.line(me->id + ": " + msg.type + " " + msg.message_id +
                  (msg.message_type.empty() ? "" : " (" + msg.message_type + ")") + ": " +
                  snippet(msg.content) +
                  (acked ? " -> acked" : " -> ack held for the next connection"));
    };
    h.on_status = [this, me](const orchestrator::StatusReport& s) {
        if (opt_.verbose) log_.line(me->id + ": status " + s.status);
    };
    h.on_error_frame = [this, me](const std::string& code, const std::string& message) {
        counters_.error_frames.fetch_add(1);
        log_limited(errors_logged_,
                    me->id + ": error from the controller: " + code + ": " + message);
    };
    h.on_other_frame = [this, me](const std::string& type, const std::string&) {
        if (opt_.verbose) log_.line(me->id + ": ignored frame of type \"" + type + "\"");
    };
    h.on_protocol_problem = [this, me](const std::string& problem) {
        counters_.protocol_problems.fetch_add(1);
        log_limited(problems_logged_,
                    me->id + ": malformed frame from the controller dropped: " + problem);
    };
    return h;
}

void SimulatedFleet::tick(Clock::time_point now) {
    // Ramp-up: the controller's accept backlog is finite.
    const double elapsed = std::chrono::duration<double>(now - began_).count();
    size_t allowed = members_.size();
    if (opt_.ramp_rate > 0)
        allowed = std::min(members_.size(), static_cast<size_t>(elapsed * opt_.ramp_rate) + 1);
    for (; started_ < allowed; ++started_) {
        Member& m = *members_[started_];
        // Spread the first reports over one interval.
        std::uniform_real_distribution<double> spread(0.0, 1.0);
        m.next_usage = now + ms_of(opt_.usage_interval_sec * spread(m.rng));
        m.next_metadata = now + ms_of(opt_.metadata_interval_sec * spread(m.rng));
        m.client->start();
    }
    for (size_t i = 0; i < started_; ++i) {
        Member& m = *members_[i];
        if (m.client->state() != ClientState::registered) continue;  // due when back
        if (opt_.usage_interval_sec > 0 && now >= m.next_usage) {
            send_usage(m);
            m.next_usage = now + ms_of(opt_.usage_interval_sec);
        }
        if (opt_.metadata_interval_sec > 0 && now >= m.next_metadata) {
            send_metadata(m);
            m.next_metadata = now + ms_of(opt_.metadata_interval_sec);
        }
    }
}

void SimulatedFleet::send_usage(Member& m) {
    const Model& model = kModels[std::uniform_int_distribution<size_t>(
        0, sizeof kModels / sizeof kModels[0] - 1)(m.rng)];
    orchestrator::UsageReport r;
    r.model = model.name;
    r.requests = std::uniform_int_distribution<int64_t>(1, 50)(m.rng);
    r.input_tokens = r.requests * std::uniform_int_distribution<int64_t>(200, 2000)(m.rng);
    r.output_tokens = r.requests * std::uniform_int_distribution<int64_t>(50, 800)(m.rng);
    const double cost = (static_cast<double>(r.input_tokens) * model.input_per_m +
                         static_cast<double>(r.output_tokens) * model.output_per_m) /
                        1e6;
    r.cost_usd = std::round(cost * 1e6) / 1e6;
    if (m.client->send_usage_report(r)) counters_.usage_reports.fetch_add(1);
}

void SimulatedFleet::send_metadata(Member& m) {
    std::uniform_real_distribution<double> load(0.0, 1.0);
    json models = json::array();
    for (const Model& model : kModels)
        if (load(m.rng) < 0.6) models.push_back(model.name);
    const json meta = {{"simulated", true},
                       {"version", "sim-1.0"},
                       {"revision", ++m.metadata_revision},
                       {"load", std::round(load(m.rng) * 100) / 100},
                       {"models", models}};
    if (m.client->update_metadata(meta.dump())) counters_.metadata_updates.fetch_add(1);
}

void SimulatedFleet::stop() {
    for (auto& m : members_) m->client->stop();
}

bool SimulatedFleet::all_settled() const {
    for (const auto& m : members_) {
        const ClientState s = m->client->state();
        if (s != ClientState::idle && s != ClientState::stopped && s != ClientState::refused)
            return false;
    }
    return true;
}

bool SimulatedFleet::all_refused() const {
    if (started_ < members_.size() || members_.empty()) return false;
    for (const auto& m : members_)
        if (m->client->state() != ClientState::refused) return false;
    return true;
}

std::string SimulatedFleet::stats_line(double elapsed_sec) const {
    const FleetCounters& c = counters_;
    // Several controllers: where the connections are, and how many moved.
    std::string per_url, failovers;
    if (opt_.urls.size() > 1) {
        for (size_t i = 0; i < opt_.urls.size(); ++i)
            per_url += (i == 0 ? " (" : ", ") + opt_.urls[i] + " " +
                       std::to_string(c.connected_to[i].load());
        per_url += ")";
        failovers = ", failovers " + std::to_string(c.failovers.load());
    }
    char head[64];
    std::snprintf(head, sizeof head, "stats %.1fs: connected %llu/%zu", elapsed_sec,
                  static_cast<unsigned long long>(c.connected.load()), members_.size());
    char tail[512];
    std::snprintf(
        tail, sizeof tail,
        ", registered %llu, heartbeat acks %llu "
        "(%llu not processed), usage reports %llu, metadata updates %llu, "
        "messages %llu (acked %llu), stop_monitoring %llu, config_update %llu, "
        "reconnects %llu, retries %llu, refused %llu, errors %llu",
        static_cast<unsigned long long>(c.registered.load()),
        static_cast<unsigned long long>(c.heartbeat_acks.load()),
        static_cast<unsigned long long>(c.heartbeats_ignored.load()),
        static_cast<unsigned long long>(c.usage_reports.load()),
        static_cast<unsigned long long>(c.metadata_updates.load()),
        static_cast<unsigned long long>(c.messages.load()),
        static_cast<unsigned long long>(c.messages_acked.load()),
        static_cast<unsigned long long>(c.stop_monitoring.load()),
        static_cast<unsigned long long>(c.config_updates.load()),
        static_cast<unsigned long long>(c.reconnects.load()),
        static_cast<unsigned long long>(c.retries.load()),
        static_cast<unsigned long long>(c.refused.load()),
        static_cast<unsigned long long>(c.error_frames.load() + c.protocol_problems.load()));
    return head + per_url + tail + failovers;
}

}  // namespace moolai::sim
