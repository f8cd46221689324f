// The only translation unit of the client library that includes websocketpp
// and Boost.Asio (see orchestrator_client.hpp).
#include "moolai/orchestrator_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_client.hpp>  // asio_tls_client, and asio_client

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace moolai::orchestrator {

namespace ws = websocketpp;
namespace asio = boost::asio;
using nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

// Stored inside websocketpp's connection object (the config's
// connection_base), so an event finds its client without a map or a lock.
struct ConnState {
    std::weak_ptr<detail::ClientCore> owner;
};

// asio_client (ws://) or asio_tls_client (wss://).
template <class Base>
struct Config : Base {
    typedef ConnState connection_base;
    // Frames are small; the buffer is part of every connection object.
    static const size_t connection_read_buffer_size = 4096;
};
using PlainConfig = Config<ws::config::asio_client>;
using TlsConfig = Config<ws::config::asio_tls_client>;
template <class Cfg>
using Endpoint = ws::client<Cfg>;
using SslContext = asio::ssl::context;
// The context for the wss:// connection being created on this thread (see
// the TLS init handler).
thread_local std::shared_ptr<SslContext> t_next_tls_context;
thread_local std::string t_next_tls_host;

constexpr size_t kMaxFrameBytes = 2u << 20;  // the controller sends at most 1 MiB
constexpr milliseconds kDefaultHeartbeat{30000};
// A heartbeat interval the controller names is kept within these bounds: a
// typo cannot make a fleet flood its controller or fall silent for hours.
constexpr double kMinIntervalSec = 1;
constexpr double kMaxIntervalSec = 600;
// Acknowledged message ids remembered for redeliveries, and acks kept while
// disconnected; recommendations are rare, so these are generous.
constexpr size_t kAckedMemory = 128;
constexpr size_t kMaxHeldAcks = 1024;

int64_t now_ms() {
    return std::chrono::duration_cast<milliseconds>(Clock::now().time_since_epoch()).count();
}

std::string current_hour_utc() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:00:00Z", &tm);
    return buf;
}

// Field readers that never throw, whatever the controller sent.
const json* member(const json& j, const char* key) {
    const auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
}
std::optional<std::string> string_member(const json& j, const char* key) {
    const json* v = member(j, key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return v->get<std::string>();
}
std::optional<bool> bool_member(const json& j, const char* key) {
    const json* v = member(j, key);
    if (v == nullptr || !v->is_boolean()) return std::nullopt;
    return v->get<bool>();
}
std::optional<int64_t> int_member(const json& j, const char* key) {
    const json* v = member(j, key);
    if (v == nullptr) return std::nullopt;
    if (v->is_number_unsigned())
        return static_cast<int64_t>(std::min<uint64_t>(v->get<uint64_t>(), INT64_MAX));
    if (v->is_number_integer()) return v->get<int64_t>();
    return std::nullopt;
}
// "heartbeat_interval_sec": a positive number of seconds, clamped; nullopt
// when absent or anything else (then the interval in use stays).
std::optional<milliseconds> interval_member(const json& j) {
    const json* v = member(j, "heartbeat_interval_sec");
    if (v == nullptr || !v->is_number()) return std::nullopt;
    const double sec = v->get<double>();
    if (!std::isfinite(sec) || sec <= 0) return std::nullopt;
    const double clamped = std::clamp(sec, kMinIntervalSec, kMaxIntervalSec);
    return milliseconds(std::llround(clamped * 1000));
}
int whole_seconds(milliseconds d) {
    return static_cast<int>((d.count() + 500) / 1000);
}

// The URL a client tries first: a hash of its id, so separate orchestrator
// processes spread over the hosts (FNV-1a, then a finalizer that mixes the
// high bits into the low ones the modulo keeps).
size_t hashed_index(const std::string& id, size_t n) {
    uint32_t h = 2166136261u;
    for (const unsigned char c : id) h = (h ^ c) * 16777619u;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h % n;
}

}  // namespace

// ---------------------------------------------------------------------------

struct ClientRuntime::Impl {
    // One io_context (the plain endpoint's) runs both endpoints.
    Endpoint<PlainConfig> endpoint;  // owns the io_context; outlives everything below
    Endpoint<TlsConfig> tls_endpoint;
    std::optional<asio::io_context::strand> connect_strand;
    std::vector<std::thread> threads;
    std::atomic<bool> running{false};  // false once the threads are joined
    std::atomic<size_t> open{0};
    std::atomic<uint32_t> seeds{0};
    std::mutex m;  // stop(), uris
    bool stopped = false;
    // Clients of one runtime usually share one URL: parse it once.
    std::unordered_map<std::string, ws::uri_ptr> uris;

    // wss:// clients with the same CA and client certificate share a context.
    std::map<std::tuple<std::string, std::string, std::string>, std::shared_ptr<SslContext>>
        tls_contexts;

    explicit Impl(unsigned thread_count);
    template <class Cfg>
    Endpoint<Cfg>& endpoint_of() {
        if constexpr (std::is_same_v<Cfg, TlsConfig>)
            return tls_endpoint;
        else
            return endpoint;
    }
    template <class Cfg>
    typename Endpoint<Cfg>::connection_ptr con_of(ws::connection_hdl hdl) {
        ws::lib::error_code ec;
        auto con = endpoint_of<Cfg>().get_con_from_hdl(std::move(hdl), ec);
        return ec ? nullptr : con;
    }
    template <class Cfg>
    void wire(Endpoint<Cfg>& ep);
    ws::uri_ptr uri_for(const std::string& url);
    std::shared_ptr<SslContext> tls_context(const ClientOptions& o);
    uint32_t next_seed() {
        static std::random_device device;
        std::lock_guard<std::mutex> lk(m);
        return device() ^ (seeds.fetch_add(1) * 0x9e3779b9u);
    }
};

// ---------------------------------------------------------------------------

namespace detail {

// What OrchestratorClient uses; ClientCoreT<config> for ws:// and wss://.
class ClientCore {
public:
    virtual ~ClientCore() = default;
    virtual const ClientOptions& options() const = 0;
    virtual ClientState state() const = 0;
    virtual void start() = 0;
    virtual void stop() = 0;
    virtual void detach() = 0;
    virtual bool send(std::string frame) = 0;
    virtual std::string frame_of(json j) const = 0;
    virtual bool ack(const std::string& message_id) = 0;
    virtual size_t url_index() const = 0;
    virtual milliseconds interval() const = 0;
};

// Everything of one client. State marked (strand) is touched on strand_ only.
template <class Cfg>
class ClientCoreT final : public ClientCore, public std::enable_shared_from_this<ClientCoreT<Cfg>> {
public:
    using ConnPtr = typename Endpoint<Cfg>::connection_ptr;
    // options.urls holds every URL (url folded in), uris the parsed ones.
    ClientCoreT(std::shared_ptr<ClientRuntime::Impl> rt, ClientOptions options,
                ClientHandlers handlers, std::vector<ws::uri_ptr> uris,
                std::shared_ptr<SslContext> tls)
        : rt_(std::move(rt)),
          opt_(std::move(options)),
          h_(std::move(handlers)),
          uris_(std::move(uris)),
          tls_(std::move(tls)),
          strand_(rt_->endpoint.get_io_service()),
          timer_(rt_->endpoint.get_io_service()),
          url_at_(opt_.first_url >= 0 ? static_cast<size_t>(opt_.first_url) % uris_.size()
                                      : hashed_index(opt_.orchestrator_id, uris_.size())),
          backoff_(opt_.backoff, opt_.jitter_seed != 0 ? opt_.jitter_seed : rt_->next_seed(),
                   static_cast<uint32_t>(uris_.size())) {
        heartbeat_ = effective_interval();
        interval_ms_.store(heartbeat_.count());
        if (uris_.size() > 1) refused_by_.assign(uris_.size(), false);
    }

    const ClientOptions& options() const override { return opt_; }
    ClientState state() const override { return state_.load(); }
    size_t url_index() const override { return url_at_.load(); }
    milliseconds interval() const override { return milliseconds(interval_ms_.load()); }
    const std::shared_ptr<SslContext>& tls_context() const { return tls_; }

    void start() override {
        on_strand([](ClientCoreT& self) {
            if (self.state_.load() == ClientState::idle && !self.stopping_) self.connect_now();
        });
    }

    void stop() override {
        on_strand([](ClientCoreT& self) { self.begin_stop(); });
    }

    // Any thread but a callback of this client... unless it is on the strand.
    void detach() override {
        if (strand_.running_in_this_thread() || !rt_->running.load()) {
            callbacks_off_ = true;
            begin_stop();
            return;
        }
        auto done = std::make_shared<std::promise<void>>();
        std::future<void> f = done->get_future();
        asio::post(strand_, [self = this->shared_from_this(), done] {
            self->callbacks_off_ = true;
            self->begin_stop();
            done->set_value();
        });
        // The runtime may be stopped meanwhile; then nothing runs any more.
        while (f.wait_for(milliseconds(20)) != std::future_status::ready) {
            if (!rt_->running.load()) {
                callbacks_off_ = true;
                break;
            }
        }
    }

    bool send(std::string frame) override {
        if (state_.load() != ClientState::registered) return false;
        ConnPtr con = link();
        if (!con) return false;
        if (opt_.max_send_buffer_bytes != 0 &&
            con->get_buffered_amount() > opt_.max_send_buffer_bytes)
            return false;
        return !con->send(frame, ws::frame::opcode::text);
    }

    std::string frame_of(json j) const override {
        j["orchestrator_id"] = opt_.orchestrator_id;
        return j.dump();
    }

    bool ack(const std::string& message_id) override {
        const bool sent = send(ack_frame(message_id));
        std::lock_guard<std::mutex> lk(acks_m_);
        remember_acked(message_id);
        if (!sent) hold_ack(message_id);
        return sent;
    }

    // --- from the endpoint's handlers (any io thread) ---

    void opened(ConnPtr con) {
        on_strand([con = std::move(con)](ClientCoreT& self) { self.on_open(con); });
    }
    void ended(ConnPtr con, uint16_t code, std::string reason, bool was_open) {
        on_strand([con = std::move(con), code, reason = std::move(reason),
                   was_open](ClientCoreT& self) { self.on_ended(con, code, reason, was_open); });
    }
    void received(ConnPtr con, std::string payload) {
        on_strand([con = std::move(con), payload = std::move(payload)](ClientCoreT& self) {
            self.on_frame(con, payload);
        });
    }

private:
    // Queued work holds the client weakly: once its OrchestratorClient is gone
    // the work is dropped, and nothing keeps the client (or a cycle) alive.
    template <class F>
    void on_strand(F&& f) {
        asio::post(strand_, [weak = this->weak_from_this(), f = std::forward<F>(f)]() {
            if (auto self = weak.lock()) f(*self);
        });
    }

    template <class F, class... Args>
    void emit(const F& f, Args&&... args) {
        if (callbacks_off_ || !f) return;
        try {
            f(std::forward<Args>(args)...);
        } catch (...) {
            // A throwing callback must not take down an io thread or this client.
        }
    }

    ConnPtr link() {
        std::lock_guard<std::mutex> lk(link_m_);
        return con_;
    }
    void set_link(ConnPtr con) {
        std::lock_guard<std::mutex> lk(link_m_);
        con_ = std::move(con);
    }
    bool current(const ConnPtr& con) {
        std::lock_guard<std::mutex> lk(link_m_);
        return con_ && con_ == con;
    }

    std::string ack_frame(const std::string& message_id) const {
        return frame_of({{"type", "message_ack"}, {"message_id", message_id}});
    }
    // (acks_m_) the next two.
    void remember_acked(const std::string& message_id) {
        if (std::find(acked_.begin(), acked_.end(), message_id) != acked_.end()) return;
        if (acked_.size() < kAckedMemory) {
            acked_.push_back(message_id);
        } else {
            acked_[acked_next_] = message_id;
            acked_next_ = (acked_next_ + 1) % kAckedMemory;
        }
    }
    void hold_ack(const std::string& message_id) {
        if (std::find(held_acks_.begin(), held_acks_.end(), message_id) != held_acks_.end()) return;
        if (held_acks_.size() >= kMaxHeldAcks) held_acks_.erase(held_acks_.begin());
        held_acks_.push_back(message_id);
    }
    bool acked_before(const std::string& message_id) {
        std::lock_guard<std::mutex> lk(acks_m_);
        return std::find(acked_.begin(), acked_.end(), message_id) != acked_.end();
    }
    // (strand) registered again: the acks the caller gave while the link was
    // down go to this controller.
    void send_held_acks() {
        std::vector<std::string> held;
        {
            std::lock_guard<std::mutex> lk(acks_m_);
            held.swap(held_acks_);
        }
        for (size_t i = 0; i < held.size(); ++i) {
            if (send(ack_frame(held[i]))) continue;
            std::lock_guard<std::mutex> lk(acks_m_);
            for (size_t j = i; j < held.size(); ++j) hold_ack(held[j]);
            return;
        }
    }

    const std::string& url_now() const { return opt_.urls[url_at_.load()]; }
    // (strand) the next URL of the list, for the next attempt.
    void advance_url() {
        if (uris_.size() > 1) url_at_.store((url_at_.load() + 1) % uris_.size());
    }

    void arm(milliseconds delay, void (ClientCoreT::*fire)()) {
        const uint64_t gen = ++timer_gen_;
        timer_.expires_after(delay);
        timer_.async_wait(asio::bind_executor(strand_, [weak = this->weak_from_this(), gen,
                                                        fire](const boost::system::error_code& ec) {
            // A newer arm() or disarm() makes an already queued firing stale.
            auto self = weak.lock();
            if (self && !ec && gen == self->timer_gen_) ((*self).*fire)();
        }));
    }
    void disarm() {
        ++timer_gen_;
        timer_.cancel();
    }

    // (strand) from here on.

    static Disconnect failed_attempt(std::string reason) {
        Disconnect d;
        d.reason = std::move(reason);
        return d;
    }

    void connect_now() {
        ws::lib::error_code ec;
        ConnPtr con;
        const ws::uri_ptr& uri = uris_[url_at_.load()];
        t_next_tls_context = tls_;
        t_next_tls_host = uri->get_host();
        try {
            con = rt_->endpoint_of<Cfg>().get_connection(uri, ec);
        } catch (const std::exception& e) {
            t_next_tls_context.reset();
            schedule_retry(failed_attempt(std::string("cannot create a connection: ") + e.what()));
            return;
        }
        t_next_tls_context.reset();
        if (ec || !con) {
            schedule_retry(failed_attempt("cannot create a connection: " + ec.message()));
            return;
        }
        con->owner = this->weak_from_this();
        if (opt_.token_on_upgrade && !opt_.token.empty())
            con->append_header("Authorization", "Bearer " + opt_.token);
        set_link(con);
        local_close_.clear();
        refuse_after_close_ = false;
        connected_emitted_ = false;
        state_.store(ClientState::connecting);
        // websocketpp's client shares one resolver between connections: start
        // connections one at a time.
        ClientRuntime::Impl* rt = rt_.get();
        asio::post(*rt_->connect_strand, [rt, con] { rt->endpoint_of<Cfg>().connect(con); });
    }

    void on_open(const ConnPtr& con) {
        if (!current(con)) return;
        last_rx_ms_ = now_ms();
        if (stopping_) {
            close_link("orchestrator stopping");
            return;
        }
        state_.store(ClientState::registering);
        json reg = {{"type", "register"}};
        if (!opt_.token.empty()) reg["token"] = opt_.token;
        if (!opt_.organization_id.empty()) reg["organization_id"] = opt_.organization_id;
        if (!opt_.metadata_json.empty()) reg["metadata"] = json::parse(opt_.metadata_json);
        con->send(frame_of(std::move(reg)), ws::frame::opcode::text);  // an error ends in on_ended
        arm(opt_.register_timeout, &ClientCoreT::register_timed_out);
        connected_emitted_ = true;
        emit(h_.on_connected);
    }

    void register_timed_out() {
        if (state_.load() != ClientState::registering) return;
        close_link("no provisioning within " + std::to_string(opt_.register_timeout.count()) +
                   " ms");
    }

    void heartbeat_tick() {
        if (state_.load() != ClientState::registered) return;
        const int64_t silent = now_ms() - last_rx_ms_;
        if (silent > static_cast<int64_t>(opt_.silent_intervals) * heartbeat_.count()) {
            close_link("nothing from the controller for " + std::to_string(silent) + " ms");
            return;
        }
        send(frame_of({{"type", "i_am_alive"}}));
        arm(heartbeat_, &ClientCoreT::heartbeat_tick);
    }

    // Starts our close handshake; on_ended follows (bounded by websocketpp's
    // close handshake timeout).
    void close_link(std::string reason) {
        ConnPtr con = link();
        if (!con) return;
        local_close_ = reason.empty() ? std::string("closed by the client") : reason;
        disarm();
        ws::lib::error_code ec;
        con->close(ws::close::status::normal, reason, ec);
    }

    void on_frame(const ConnPtr& con, const std::string& payload) {
        if (!current(con)) return;
        last_rx_ms_ = now_ms();
        const json j = json::parse(payload, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
            emit(h_.on_protocol_problem,
                 std::string("frame is not a JSON object: ") + payload.substr(0, 200));
            return;
        }
        const std::optional<std::string> type = string_member(j, "type");
        if (!type) {
            emit(h_.on_protocol_problem,
                 std::string("frame without a string \"type\": ") + payload.substr(0, 200));
            return;
        }
        const std::string& t = *type;
        if (t == "handshake_ack") return;
        if (t == "provisioning") return on_provisioning(j);
        if (t == "heartbeat_ack") {
            if (const auto interval = interval_member(j)) follow_controller_interval(*interval);
            const std::optional<bool> processed = bool_member(j, "processed");
            if (!processed)
                emit(h_.on_protocol_problem,
                     std::string("heartbeat_ack without a boolean \"processed\""));
            else
                emit(h_.on_heartbeat_ack, *processed);
            return;
        }
        if (t == "stop_monitoring") {
            emit(h_.on_stop_monitoring, string_member(j, "reason").value_or(""));
            return;
        }
        if (t == "config_update") return on_config_update(j);
        if (t == "status") {
            StatusReport s;
            s.status = string_member(j, "status").value_or("");
            s.is_independent = bool_member(j, "is_independent").value_or(false);
            s.last_seen = string_member(j, "last_seen").value_or("");
            s.organization_id = string_member(j, "organization_id").value_or("");
            emit(h_.on_status, s);
            return;
        }
        if (t == "error") return on_error_frame(j);
        // Forwarded messages carry a message_id, whatever the messaging plugin
        // calls their type.
        if (const json* mid = member(j, "message_id")) {
            if (!mid->is_string() || mid->get_ref<const std::string&>().empty()) {
                emit(h_.on_protocol_problem,
                     "\"" + t + "\" frame with a \"message_id\" that is not a non-empty string");
                return;
            }
            const std::string& id = mid->get_ref<const std::string&>();
            if (acked_before(id)) {
                // Redelivered because our ack was lost with a connection: the
                // caller has taken care of it already.
                if (!send(ack_frame(id))) {
                    std::lock_guard<std::mutex> lk(acks_m_);
                    hold_ack(id);
                }
                return;
            }
            ForwardedMessage m;
            m.type = t;
            m.message_id = id;
            m.message_type = string_member(j, "message_type").value_or("");
            m.content = string_member(j, "content").value_or("");
            const json* meta = member(j, "message_metadata");
            m.metadata_json = meta != nullptr && meta->is_object() ? meta->dump() : "{}";
            m.frame_json = payload;
            emit(h_.on_message, m);
            return;
        }
        emit(h_.on_other_frame, t, payload);
    }

    void on_provisioning(const json& j) {
        if (state_.load() != ClientState::registering) {
            emit(h_.on_protocol_problem, std::string("provisioning while not registering"));
            return;
        }
        Provisioning p;
        const json* config = member(j, "config");
        if (config != nullptr && !config->is_object()) {
            emit(h_.on_protocol_problem, std::string("provisioning \"config\" is not an object"));
            config = nullptr;
        }
        const json empty = json::object();
        const json& c = config != nullptr ? *config : empty;
        p.config_json = c.dump();
        p.url = url_now();
        const std::optional<milliseconds> interval = interval_member(c);
        p.heartbeat_interval_sec = interval ? whole_seconds(*interval) : 0;
        p.heartbeat_ttl_sec = static_cast<int>(
            std::clamp<int64_t>(int_member(c, "heartbeat_ttl_sec").value_or(0), 0, 86400 * 365));
        p.is_independent = bool_member(c, "is_independent").value_or(false);
        p.monitoring_enabled = bool_member(c, "monitoring_enabled").value_or(!p.is_independent);
        // None named: keep the interval in use (after a failover to an older
        // controller, the fleet's interval from the last one).
        if (interval) provisioned_interval_ = *interval;
        heartbeat_ = effective_interval();
        interval_ms_.store(heartbeat_.count());
        p.heartbeat_interval = heartbeat_;
        p.registrations = ++registrations_;
        backoff_.reset();
        std::fill(refused_by_.begin(), refused_by_.end(), false);
        state_.store(ClientState::registered);
        disarm();
        emit(h_.on_registered, p);
        send_held_acks();
        // The first heartbeat at once: the controller shows us active now,
        // not an interval later.
        heartbeat_tick();
    }

    milliseconds effective_interval() const {
        if (opt_.heartbeat_interval.count() > 0) return opt_.heartbeat_interval;
        if (provisioned_interval_.count() > 0) return provisioned_interval_;
        return kDefaultHeartbeat;
    }

    // A new interval from config_update or heartbeat_ack: the next heartbeat
    // is one new interval from now (an ack arrives right after a heartbeat).
    void follow_controller_interval(milliseconds interval) {
        provisioned_interval_ = interval;
        const milliseconds next = effective_interval();
        if (next == heartbeat_) return;
        heartbeat_ = next;
        interval_ms_.store(next.count());
        if (state_.load() == ClientState::registered) arm(heartbeat_, &ClientCoreT::heartbeat_tick);
    }

    void on_config_update(const json& j) {
        ConfigUpdate u;
        const json* config = member(j, "config");
        if (config != nullptr && !config->is_object()) {
            emit(h_.on_protocol_problem, std::string("config_update \"config\" is not an object"));
            return;
        }
        const json empty = json::object();
        const json& c = config != nullptr ? *config : empty;
        u.config_json = c.dump();
        u.is_independent = bool_member(c, "is_independent");
        u.monitoring_enabled = bool_member(c, "monitoring_enabled");
        if (const auto interval = interval_member(c)) {
            u.heartbeat_interval_sec = whole_seconds(*interval);
            follow_controller_interval(*interval);
        }
        emit(h_.on_config_update, u);
    }

    void on_error_frame(const json& j) {
        const std::string code = string_member(j, "code").value_or("");
        const std::string message = string_member(j, "message").value_or("");
        emit(h_.on_error_frame, code, message);
        if (state_.load() != ClientState::registering) return;
        // An error answering our register: what we sent is wrong (refused for
        // good) or the controller could not store it (worth a retry).
        refuse_after_close_ = code != "storage_error";
        close_link("register failed: " + code + ": " + message);
    }

    void on_ended(const ConnPtr& con, uint16_t code, const std::string& reason, bool was_open) {
        if (!current(con)) return;
        set_link(nullptr);
        disarm();
        const ClientState before = state_.load();
        Disconnect d;
        d.close_code = code;
        d.reason = reason;
        // Pairs with on_connected, which a stop() during the upgrade skips.
        d.was_open = was_open && connected_emitted_;
        d.was_registered = before == ClientState::registered;
        d.url = url_now();
        if (stopping_) {
            d.will_retry = false;
            state_.store(ClientState::stopped);
            emit(h_.on_disconnected, d);
            return;
        }
        bool refused = false;
        bool ended_on_purpose = false;
        if (!local_close_.empty()) {
            d.reason = local_close_;
            refused = refuse_after_close_;
        } else {
            // 1000 from the controller ends the session on purpose (replaced by
            // a newer connection, deregistered); 1008 is a bad credential.
            ended_on_purpose = was_open && code == ws::close::status::normal;
            refused = code == ws::close::status::policy_violation || ended_on_purpose;
        }
        // One host refusing a credential may lag behind the others. A session
        // ended on purpose is not retried elsewhere: two holders of one
        // identity would push each other out across hosts.
        if (refused && !ended_on_purpose && !refused_by_.empty()) {
            refused_by_[url_at_.load()] = true;
            if (std::find(refused_by_.begin(), refused_by_.end(), false) != refused_by_.end()) {
                schedule_retry(std::move(d));
                return;
            }
        }
        if (refused && opt_.refused_retry_delay.count() <= 0) {
            d.will_retry = false;
            state_.store(ClientState::refused);
            emit(h_.on_disconnected, d);
            emit(h_.on_refused, d.reason.empty() ? "close code " + std::to_string(code) : d.reason);
            return;
        }
        if (refused) {
            std::fill(refused_by_.begin(), refused_by_.end(), false);  // a new round
            advance_url();
            d.retry_in = opt_.refused_retry_delay;
            d.next_url = url_now();
            state_.store(ClientState::waiting);
            emit(h_.on_disconnected, d);
            arm(d.retry_in, &ClientCoreT::connect_now);
            return;
        }
        // Read before d is moved: argument evaluation order is unspecified.
        const milliseconds hint = code == 4429 ? retry_hint(d.reason) : milliseconds{};
        schedule_retry(std::move(d), hint);
    }

    // 4429 (too many failed registrations from this address) says when to
    // come back: "... retry in N s".
    static std::chrono::milliseconds retry_hint(const std::string& reason) {
        const size_t at = reason.rfind("retry in ");
        if (at == std::string::npos) return {};
        const long s = std::strtol(reason.c_str() + at + 9, nullptr, 10);
        return s > 0 && s < 86400 ? std::chrono::milliseconds(s * 1000)
                                  : std::chrono::milliseconds{};
    }

    void schedule_retry(Disconnect d, std::chrono::milliseconds at_least = {}) {
        if (d.url.empty()) d.url = url_now();
        advance_url();
        d.will_retry = true;
        d.retry_in = std::max(backoff_.next(), at_least);
        d.next_url = url_now();
        state_.store(ClientState::waiting);
        emit(h_.on_disconnected, d);
        arm(d.retry_in, &ClientCoreT::connect_now);
    }

    void begin_stop() {
        if (stopping_) return;
        stopping_ = true;
        disarm();
        const ClientState s = state_.load();
        if (s == ClientState::registering || s == ClientState::registered) {
            close_link("orchestrator stopping");
        } else if (s != ClientState::connecting) {
            // connecting: on_open closes at once, or the attempt fails.
            set_link(nullptr);
            state_.store(ClientState::stopped);
        }
    }

    // First member: the io_context outlives this client's timer and strand.
    const std::shared_ptr<ClientRuntime::Impl> rt_;
    const ClientOptions opt_;
    const ClientHandlers h_;
    const std::vector<ws::uri_ptr> uris_;    // one per opt_.urls entry
    const std::shared_ptr<SslContext> tls_;  // wss:// only
    asio::io_context::strand strand_;
    asio::steady_timer timer_;  // (strand) retry wait, register timeout or heartbeat
    std::atomic<ClientState> state_{ClientState::idle};
    std::atomic<size_t> url_at_;  // written on the strand: the URL of this or the next attempt
    std::atomic<int64_t> interval_ms_{0};  // heartbeat_, for other threads
    std::mutex link_m_;
    ConnPtr con_;                                // the current connection attempt (link_m_)
    Backoff backoff_;                            // (strand)
    uint64_t timer_gen_ = 0;                     // (strand)
    int64_t last_rx_ms_ = 0;                     // (strand)
    milliseconds heartbeat_{kDefaultHeartbeat};  // (strand)
    milliseconds provisioned_interval_{0};       // (strand) the controller's, 0 = none yet
    std::string local_close_;                    // (strand) why we closed, "" if we did not
    std::vector<bool> refused_by_;     // (strand) URLs that refused us since the last register
    uint32_t registrations_ = 0;       // (strand)
    bool refuse_after_close_ = false;  // (strand)
    bool connected_emitted_ = false;   // (strand) on_connected called for this connection
    bool stopping_ = false;            // (strand)
    std::atomic<bool> callbacks_off_{false};
    std::mutex acks_m_;
    std::vector<std::string> acked_;      // (acks_m_) ids acked lately, a ring
    size_t acked_next_ = 0;               // (acks_m_) its oldest entry once full
    std::vector<std::string> held_acks_;  // (acks_m_) acks to send after the next register
};

}  // namespace detail

// ---------------------------------------------------------------------------

ClientRuntime::Impl::Impl(unsigned thread_count) {
    endpoint.init_asio();
    tls_endpoint.init_asio(&endpoint.get_io_service());
    wire(endpoint);
    wire(tls_endpoint);
    connect_strand.emplace(endpoint.get_io_service());
    // wss://: the context of the connection's client; the controller's name
    // is checked against its certificate (SNI is set by websocketpp).
    // websocketpp asks for the context and sets the socket up inside
    // get_connection(), before the connection knows its client or its URI:
    // connect_now() puts both in thread-locals first.
    tls_endpoint.set_tls_init_handler([](ws::connection_hdl) {
        if (!t_next_tls_context) throw std::logic_error("wss:// connection without a context");
        return t_next_tls_context;
    });
    tls_endpoint.set_socket_init_handler(
        [](ws::connection_hdl, asio::ssl::stream<asio::ip::tcp::socket>& stream) {
            const std::string& host = t_next_tls_host;
            X509_VERIFY_PARAM* param = SSL_get0_param(stream.native_handle());
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            boost::system::error_code ec;
            asio::ip::make_address(host, ec);
            // An IP address must be an IP SAN; a name a DNS SAN (or the CN).
            if (!ec)
                X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
            else
                X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
        });

    running.store(true);
    for (unsigned i = 0; i < thread_count; ++i) {
        threads.emplace_back([this] {
            for (;;) {
                try {
                    endpoint.run();  // the shared io_context: both endpoints
                    return;
                } catch (const std::exception&) {
                    // One connection's failure must not stop the others' thread.
                }
            }
        });
    }
}

template <class Cfg>
void ClientRuntime::Impl::wire(Endpoint<Cfg>& ep) {
    using Core = detail::ClientCoreT<Cfg>;
    const auto core_of = [](const auto& con) {
        return std::static_pointer_cast<Core>(con->owner.lock());
    };
    ep.clear_access_channels(ws::log::alevel::all);
    ep.clear_error_channels(ws::log::elevel::all);
    ep.set_max_message_size(kMaxFrameBytes);
    ep.set_user_agent("moolai-orchestrator-client");
    ep.start_perpetual();  // the threads keep running while no client is busy

    ep.set_open_handler([this, core_of](ws::connection_hdl hdl) {
        auto con = con_of<Cfg>(std::move(hdl));
        if (!con) return;
        open.fetch_add(1);
        if (auto core = core_of(con)) core->opened(con);
    });
    ep.set_fail_handler([this, core_of](ws::connection_hdl hdl) {
        auto con = con_of<Cfg>(std::move(hdl));
        if (!con) return;
        std::string reason = con->get_ec().message();
        if (const int status = con->get_response_code(); status != 0)
            reason = "upgrade refused with HTTP " + std::to_string(status);
        if (auto core = core_of(con))
            core->ended(con, ws::close::status::abnormal_close, std::move(reason), false);
    });
    ep.set_close_handler([this, core_of](ws::connection_hdl hdl) {
        auto con = con_of<Cfg>(std::move(hdl));
        if (!con) return;
        open.fetch_sub(1);
        uint16_t code = con->get_remote_close_code();
        std::string reason = con->get_remote_close_reason();
        if (code == ws::close::status::abnormal_close || code == ws::close::status::no_status) {
            // No close frame from the controller: say what happened instead.
            if (con->get_local_close_code() == ws::close::status::message_too_big)
                code = ws::close::status::message_too_big;
            reason = con->get_ec() ? con->get_ec().message() : "connection dropped";
        }
        if (auto core = core_of(con)) core->ended(con, code, std::move(reason), true);
    });
    ep.set_message_handler(
        [this, core_of](ws::connection_hdl hdl, typename Endpoint<Cfg>::message_ptr msg) {
            auto con = con_of<Cfg>(std::move(hdl));
            if (!con) return;
            if (auto core = core_of(con)) core->received(con, std::move(msg->get_raw_payload()));
        });
}

ws::uri_ptr ClientRuntime::Impl::uri_for(const std::string& url) {
    // websocketpp's parser also takes http:// URLs; we speak WebSocket only.
    if (url.compare(0, 5, "ws://") != 0 && url.compare(0, 6, "wss://") != 0)
        throw std::invalid_argument("\"" + url +
                                    "\" is not a ws:// or wss:// URL (wss://host:port/path)");
    std::lock_guard<std::mutex> lk(m);
    auto it = uris.find(url);
    if (it != uris.end()) return it->second;
    auto uri = std::make_shared<ws::uri>(url);
    if (!uri->get_valid())
        throw std::invalid_argument("\"" + url +
                                    "\" is not a WebSocket URL (wss://host:port/path)");
    uris.emplace(url, uri);
    return uri;
}

// TLS 1.2+, the controller's certificate verified against options.ca_file
// (or the system's CAs), and the client certificate when one is given.
std::shared_ptr<SslContext> ClientRuntime::Impl::tls_context(const ClientOptions& o) {
    std::lock_guard<std::mutex> lk(m);
    auto key = std::make_tuple(o.ca_file, o.cert_file, o.key_file);
    if (auto it = tls_contexts.find(key); it != tls_contexts.end()) return it->second;
    auto ctx = std::make_shared<SslContext>(SslContext::tls_client);
    SSL_CTX* native = ctx->native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);  // idle clients hold no buffers
    boost::system::error_code ec;
    if (o.ca_file.empty())
        ctx->set_default_verify_paths(ec);
    else
        ctx->load_verify_file(o.ca_file, ec);
    if (ec)
        throw std::invalid_argument("CA file \"" + o.ca_file +
                                    "\" cannot be used: " + ec.message());
    ctx->set_verify_mode(asio::ssl::verify_peer, ec);
    if (!o.cert_file.empty() || !o.key_file.empty()) {
        if (o.cert_file.empty() || o.key_file.empty())
            throw std::invalid_argument("a client certificate needs both cert_file and key_file");
        ctx->use_certificate_chain_file(o.cert_file, ec);
        if (ec)
            throw std::invalid_argument("client certificate \"" + o.cert_file +
                                        "\" cannot be used: " + ec.message());
        ctx->use_private_key_file(o.key_file, SslContext::pem, ec);
        if (ec || SSL_CTX_check_private_key(native) != 1)
            throw std::invalid_argument("client key \"" + o.key_file +
                                        "\" cannot be used or does not match the certificate");
    }
    tls_contexts.emplace(key, ctx);
    return ctx;
}

ClientRuntime::ClientRuntime(unsigned threads) {
    if (threads == 0) throw std::invalid_argument("ClientRuntime needs at least one thread");
    impl_ = std::make_shared<Impl>(threads);
}

ClientRuntime::~ClientRuntime() {
    stop(std::chrono::milliseconds(0));
}

void ClientRuntime::stop(std::chrono::milliseconds grace) {
    Impl& m = *impl_;
    {
        std::lock_guard<std::mutex> lk(m.m);
        if (m.stopped) return;
        m.stopped = true;
    }
    const auto deadline = Clock::now() + grace;
    while (m.open.load() > 0 && Clock::now() < deadline)
        std::this_thread::sleep_for(milliseconds(10));
    m.endpoint.stop_perpetual();
    m.tls_endpoint.stop_perpetual();
    m.endpoint.stop();  // cuts what is left: pending connects, timers, unanswered closes
    for (auto& t : m.threads) t.join();
    m.threads.clear();
    m.running.store(false);
}

size_t ClientRuntime::open_connections() const {
    return impl_->open.load();
}

// ---------------------------------------------------------------------------

const char* state_name(ClientState state) {
    switch (state) {
        case ClientState::idle:
            return "idle";
        case ClientState::connecting:
            return "connecting";
        case ClientState::registering:
            return "registering";
        case ClientState::registered:
            return "registered";
        case ClientState::waiting:
            return "waiting";
        case ClientState::refused:
            return "refused";
        case ClientState::stopped:
            return "stopped";
    }
    return "?";
}

namespace {

void require_object(const std::string& text, const char* what) {
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw std::invalid_argument(std::string(what) + " must be a JSON object");
}

}  // namespace

OrchestratorClient::OrchestratorClient(ClientRuntime& runtime, ClientOptions options,
                                       ClientHandlers handlers) {
    if (options.orchestrator_id.empty() || options.orchestrator_id.size() > 255)
        throw std::invalid_argument("the orchestrator id must be 1 to 255 bytes");
    if (!options.metadata_json.empty()) require_object(options.metadata_json, "metadata");
    if (options.heartbeat_interval.count() < 0 || options.register_timeout.count() <= 0 ||
        options.silent_intervals == 0)
        throw std::invalid_argument(
            "heartbeat_interval must be >= 0, register_timeout and silent_intervals > 0");
    if (options.backoff.base.count() <= 0 || options.backoff.cap < options.backoff.base)
        throw std::invalid_argument("backoff: base must be > 0 and cap >= base");
    if (!options.url.empty() && !options.urls.empty())
        throw std::invalid_argument("give url or urls, not both");
    if (options.urls.empty()) options.urls.push_back(options.url);
    options.url.clear();
    std::vector<ws::uri_ptr> uris;
    for (const std::string& url : options.urls) {
        uris.push_back(runtime.impl_->uri_for(url));
        if (uris.back()->get_secure() != uris.front()->get_secure())
            throw std::invalid_argument("urls must be all ws:// or all wss://");
    }
    if (options.first_url >= static_cast<int>(options.urls.size()))
        throw std::invalid_argument("first_url is past the end of urls");
    if (uris.front()->get_secure()) {
        // websocketpp 0.8.2 on Boost 1.74: a TLS shutdown racing a read on
        // another thread corrupts the heap (docs/library-quirks.md, W18).
        if (runtime.impl_->threads.size() > 1)
            throw std::invalid_argument(
                "wss:// needs a ClientRuntime with one thread (this one has " +
                std::to_string(runtime.impl_->threads.size()) + ")");
        auto tls = runtime.impl_->tls_context(options);
        core_ = std::make_shared<detail::ClientCoreT<TlsConfig>>(runtime.impl_, std::move(options),
                                                                 std::move(handlers),
                                                                 std::move(uris), std::move(tls));
    } else {
        core_ = std::make_shared<detail::ClientCoreT<PlainConfig>>(
            runtime.impl_, std::move(options), std::move(handlers), std::move(uris), nullptr);
    }
}

OrchestratorClient::~OrchestratorClient() {
    core_->detach();
}

void OrchestratorClient::start() {
    core_->start();
}
void OrchestratorClient::stop() {
    core_->stop();
}
ClientState OrchestratorClient::state() const {
    return core_->state();
}
const std::string& OrchestratorClient::orchestrator_id() const {
    return core_->options().orchestrator_id;
}
const std::vector<std::string>& OrchestratorClient::urls() const {
    return core_->options().urls;
}
size_t OrchestratorClient::current_url_index() const {
    return core_->url_index();
}
const std::string& OrchestratorClient::current_url() const {
    return core_->options().urls[core_->url_index()];
}
std::chrono::milliseconds OrchestratorClient::heartbeat_interval() const {
    return core_->interval();
}

bool OrchestratorClient::send_heartbeat() {
    return core_->send(core_->frame_of({{"type", "i_am_alive"}}));
}

bool OrchestratorClient::send_usage_report(const UsageReport& r) {
    return core_->send(
        core_->frame_of({{"type", "usage_report"},
                         {"period", r.period.empty() ? current_hour_utc() : r.period},
                         {"model", r.model},
                         {"requests", r.requests},
                         {"input_tokens", r.input_tokens},
                         {"output_tokens", r.output_tokens},
                         {"cost_usd", r.cost_usd}}));
}

bool OrchestratorClient::update_metadata(const std::string& metadata_json) {
    const json m = json::parse(metadata_json, nullptr, false);
    if (m.is_discarded() || !m.is_object())
        throw std::invalid_argument("metadata must be a JSON object");
    return core_->send(core_->frame_of({{"type", "update_metadata"}, {"metadata", m}}));
}

bool OrchestratorClient::request_status() {
    return core_->send(core_->frame_of({{"type", "request_status"}}));
}

bool OrchestratorClient::ack_message(const std::string& message_id) {
    if (message_id.empty()) return false;
    return core_->ack(message_id);
}

bool OrchestratorClient::send_frame(const std::string& frame_json) {
    const json j = json::parse(frame_json, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("type") || !j["type"].is_string())
        throw std::invalid_argument("a frame must be a JSON object with a string \"type\"");
    return core_->send(frame_json);
}

}  // namespace moolai::orchestrator
