#pragma once
// The WebSocket server's implementation, a template over the websocketpp
// config so that the plain and the TLS endpoint share one source. Included
// by ws_server.cpp (plain) and ws_server_tls.cpp (TLS) only: each
// instantiates the whole websocketpp stack once, and the two compile in
// parallel (docs/library-quirks.md).

#include <websocketpp/config/asio.hpp>  // asio_tls, and asio_no_tls
#include <websocketpp/server.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <streambuf>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "net/forwarded_for.hpp"
#include "net/http_error.hpp"
#include "net/tls.hpp"
#include "net/ws_log_line.hpp"
#include "net/ws_server.hpp"

namespace moolai::host {

// What WsServer and WsConnection forward to: one WsEngine per config.
struct WsServer::Impl {
    virtual ~Impl() = default;
    virtual void add_path(std::string path, WsHandlers handlers) = 0;
    virtual void start() = 0;
    virtual void stop() = 0;
    virtual const WsOptions& options() const = 0;
    virtual uint16_t port() const = 0;
    virtual bool send(ConnectionId id, std::string_view text) = 0;
    virtual void close(ConnectionId id, uint16_t code, std::string_view reason) = 0;
    virtual bool post(ConnectionId id, std::function<void(WsConnection&)> task) = 0;
    virtual size_t connection_count() const = 0;
    virtual WsStats stats() const = 0;
    // A connection's own operations (WsConnection's methods).
    virtual WsUpgrade upgrade(const WsConnection& c) const = 0;
    virtual bool send(WsConnection& c, std::string_view text) = 0;
    virtual void close(WsConnection& c, uint16_t code, std::string_view reason) = 0;
    virtual std::weak_ptr<WsConnection> handle(WsConnection& c) = 0;
};

// Defined in ws_server.cpp and ws_server_tls.cpp.
std::unique_ptr<WsServer::Impl> make_plain_ws_engine(WsServer* self, WsOptions options);
std::unique_ptr<WsServer::Impl> make_tls_ws_engine(WsServer* self, WsOptions options);

namespace ws_tls {
struct ServerConfig;  // the TLS endpoint's config (ws_tls_socket.hpp)
}

namespace ws_detail {

namespace ws = websocketpp;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

inline int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
        .count();
}

// Per-connection state lives inside websocketpp's connection object (the
// config's connection_base), so the message path needs no map lookup or
// lock: the WsConnection handlers get, and what only the server uses.
struct ConnState : WsConnection {
    uint32_t moolai_route = 0;  // index into WsServer::Impl::routes, set at validation
    std::atomic<int64_t> moolai_last_rx_ms{0};    // last frame/ping/pong received
    std::atomic<int64_t> moolai_last_ping_ms{0};  // last ping we sent
    // Counted against the caps from a successful validation until the close
    // (or the failed handshake); released exactly once.
    std::atomic<bool> moolai_counted{false};
    std::string moolai_address;  // remote IP, set with moolai_counted
    // The opening handshake is over (opened, failed or plain HTTP): no longer
    // counts against max_pending_handshakes.
    std::atomic<bool> moolai_settled{false};
};

// config::asio or ws_tls::ServerConfig (config::asio_tls with our own TLS
// socket policy; both multithreaded, strand per connection) plus our
// connection state.
template <class Base>
struct Config : Base {
    typedef ConnState connection_base;
    // The read buffer lives inside every connection object. Orchestrator
    // frames are tens of bytes; 16 KiB (the default) per connection is 300 MiB
    // of heap at 19,000 connections, and pages a reused allocation has
    // touched count as resident. Larger messages just take more reads.
    static const size_t connection_read_buffer_size = 4096;
};

// Routes websocketpp's error log to our NetLogger. The basic logger writes one
// "[time] [channel] message" line per event under its own mutex.
class LogLineBuf : public std::streambuf {
public:
    explicit LogLineBuf(NetLogger logger) : logger_(std::move(logger)) {}

protected:
    int overflow(int c) override {
        if (c == traits_type::eof()) return 0;
        if (c != '\n') {
            line_.push_back(static_cast<char>(c));
            return c;
        }
        const int level = websocketpp_line_level(line_);
        const size_t msg = line_.find("] [");
        const size_t start = msg == std::string::npos ? 0 : line_.find("] ", msg + 3);
        logger_(level, "websocket: " + line_.substr(start == std::string::npos ? 0 : start + 2));
        line_.clear();
        return c;
    }

private:
    NetLogger logger_;
    std::string line_;
};

constexpr size_t kShards = 16;
// Private-use close code (4000-4999), like HTTP 408: unlike 1008, which
// well-behaved clients take as "refused, stop", this one invites a retry.
constexpr uint16_t kAdmitDeadlineCloseCode = 4408;

// Process-wide, so ids are never reused even across WsServer instances.
inline std::atomic<ConnectionId> g_next_connection_id{1};

template <class Base>
struct WsEngine final : WsServer::Impl {
    using Server = ws::server<Config<Base>>;
    using ConnPtr = typename Server::connection_ptr;
    static constexpr bool kTls = std::is_same_v<Base, ws_tls::ServerConfig>;

    WsServer* self;  // what connections name as their server
    WsOptions opt;
    // The constructor's opt.path first, if it serves one; add_path() appends.
    struct Route {
        std::string path;
        WsHandlers h;
    };
    std::vector<Route> routes;

    std::unique_ptr<LogLineBuf> log_buf;  // outlive the server, which logs into them
    std::unique_ptr<std::ostream> log_stream;
    Server server;  // owns the io_service: outlives the strand and timers below
    std::optional<asio::io_service::strand> control;  // accept loop, timers, stop
    std::optional<asio::steady_timer> backoff_timer;
    std::optional<asio::steady_timer> sweep_timer;
    std::optional<asio::steady_timer> admission_timer;  // re-checks a paused accept loop
    std::optional<asio::steady_timer> deadline_timer;   // admit deadline sweep

    // id -> connection, sharded to keep send() from contending on one
    // mutex. From on_open to on_close (or stop()): what keeps the close
    // report's connection alive, also when stop() forces it.
    struct Shard {
        std::mutex m;
        std::unordered_map<ConnectionId, ConnPtr> conns;
    };
    std::array<Shard, kShards> shards;
    std::atomic<size_t> count{0};

    // Caps: connections counted from validation to close, and per address.
    std::atomic<size_t> occupied{0};
    std::mutex address_m;
    std::unordered_map<std::string, uint32_t> per_address;

    // Admission (control strand only): accepted sockets still in their
    // opening handshake, and whether the accept loop waits for them.
    // Accepted sockets in their opening handshake, with when each was accepted.
    std::vector<std::pair<int64_t, std::weak_ptr<typename Server::connection_type>>> handshaking;
    bool accept_paused = false;

    // Opened connections in opening order, until their admit deadline.
    std::mutex unadmitted_m;
    std::deque<std::pair<int64_t, std::weak_ptr<typename Server::connection_type>>> unadmitted;

    std::atomic<uint64_t> refused_capacity{0}, refused_per_address{0}, closed_admit_deadline{0},
        closed_slow_consumer{0}, accept_pauses{0}, accept_errors{0}, handshake_timeouts{0},
        handshake_errors{0};
    std::atomic<bool> stopping{false};
    std::atomic<uint16_t> bound_port{0};
    std::shared_ptr<asio::ssl::context> tls_ctx;  // TLS endpoints only

    std::mutex state_m;  // start/stop
    bool started = false, stopped = false;
    std::vector<std::thread> threads;
    std::mutex run_m;
    std::condition_variable run_cv;
    unsigned running = 0;

    WsEngine(WsServer* server, WsOptions o);

    // The route serving `path`, or -1.
    int route_of(const std::string& path) const {
        for (size_t i = 0; i < routes.size(); ++i)
            if (routes[i].path == path) return static_cast<int>(i);
        return -1;
    }

    Shard& shard(ConnectionId id) { return shards[id % kShards]; }

    void log(int level, const std::string& msg) {
        if (opt.logger) opt.logger(level, msg);
    }

    ConnPtr con_of(ws::connection_hdl hdl) {
        ws::lib::error_code ec;
        ConnPtr con = server.get_con_from_hdl(std::move(hdl), ec);
        return ec ? nullptr : con;
    }

    ConnPtr find(ConnectionId id) {
        Shard& s = shard(id);
        std::lock_guard<std::mutex> lk(s.m);
        auto it = s.conns.find(id);
        return it == s.conns.end() ? nullptr : it->second;
    }

    WsUpgrade upgrade_of(const typename Server::connection_type* con) const {
        WsUpgrade u;
        const std::string& res = con->get_resource();
        const size_t q = res.find('?');
        u.path = res.substr(0, q);
        if (q != std::string::npos) u.query = res.substr(q + 1);
        u.authorization = con->get_request_header("Authorization");
        u.remote = con->get_remote_endpoint();
        u.client = forwarded_client(peer_ip_of(u.remote), con->get_request_header("X-Forwarded-For"),
                                    opt.trusted_proxies);
        u.client_cert_names = con->client_cert_names_;
        return u;
    }

    static void reject(const ConnPtr& con, int status, const std::string& code = "",
                       const std::string& message = "") {
        const auto st = static_cast<ws::http::status_code::value>(status);
        con->set_status(st);
        const std::string reason = ws::http::status_code::get_string(st);
        con->set_body(http_error_body(code.empty() ? http_error_code(status) : code,
                                      message.empty() ? reason : message));
        con->append_header("Content-Type", "application/json");
    }

    static std::string address_of(typename Server::connection_type& con) {
        boost::system::error_code ec;
        const auto ep = con.get_raw_socket().remote_endpoint(ec);
        return ec ? std::string() : ep.address().to_string();
    }

    // Counts `con` against the caps; 0, or the HTTP status that refuses it.
    int reserve(typename Server::connection_type& con) {
        if (opt.max_connections > 0) {
            size_t now = occupied.load();
            do {
                if (now >= opt.max_connections) {
                    refused_capacity.fetch_add(1, std::memory_order_relaxed);
                    return 503;
                }
            } while (!occupied.compare_exchange_weak(now, now + 1));
        } else {
            occupied.fetch_add(1);
        }
        if (opt.max_connections_per_address > 0) {
            std::string address = address_of(con);
            std::lock_guard<std::mutex> lk(address_m);
            uint32_t& n = per_address[address];
            if (n >= opt.max_connections_per_address) {
                occupied.fetch_sub(1);
                refused_per_address.fetch_add(1, std::memory_order_relaxed);
                return 429;
            }
            ++n;
            con.moolai_address = std::move(address);
        }
        con.moolai_counted.store(true);
        return 0;
    }

    void release(typename Server::connection_type& con) {
        if (!con.moolai_counted.exchange(false)) return;
        occupied.fetch_sub(1);
        if (opt.max_connections_per_address == 0) return;
        std::lock_guard<std::mutex> lk(address_m);
        auto it = per_address.find(con.moolai_address);
        if (it != per_address.end() && --it->second == 0) per_address.erase(it);
    }

    void refuse_over_cap(const ConnPtr& con, int status) {
        if (status == 503) {
            reject(con, 503, "too_many_connections",
                   "this server holds its maximum of " + std::to_string(opt.max_connections) +
                       " connections; retry later or connect to another host");
        } else {
            reject(con, 429, "too_many_connections_from_address",
                   "at most " + std::to_string(opt.max_connections_per_address) +
                       " connections from one address; retry later");
        }
        con->append_header("Retry-After", "5");
    }

    // --- handlers (each runs in its connection's strand) ---

    bool on_validate(ws::connection_hdl hdl) {
        ConnPtr con = con_of(hdl);
        if (!con) return false;
        if constexpr (kTls) {  // the handshake is over: a client certificate is verified by now
            con->client_cert_names_ = tls_peer_names(con->get_socket().native_handle());
        }
        WsUpgrade up = upgrade_of(con.get());
        int status = 0;
        const int route = route_of(up.path);
        if (route >= 0) con->moolai_route = static_cast<uint32_t>(route);
        if (route < 0) {
            status = 404;
        } else if (const int refused = reserve(*con); refused != 0) {
            refuse_over_cap(con, refused);
            return false;
        } else if (const WsHandlers& h = routes[con->moolai_route].h; h.on_validate) {
            try {
                status = h.on_validate(up);
            } catch (const std::exception& e) {
                log(kNetError, std::string("websocket on_validate threw: ") + e.what());
                status = 500;
            }
        }
        if (status == 0) return true;
        release(*con);
        if (status < 400 || status > 599) status = 403;  // a "reject" must be an error status
        reject(con, status);
        return false;
    }

    // Plain HTTP (no upgrade) to this port: JSON error instead of websocketpp's default.
    void on_http(ws::connection_hdl hdl) {
        if (ConnPtr con = con_of(hdl)) {
            con->moolai_settled.store(true);
            const std::string& res = con->get_resource();
            reject(con, route_of(res.substr(0, res.find('?'))) >= 0 ? 426 : 404);
        }
    }

    // The opening handshake failed after validation (or was refused by it).
    void on_fail(ws::connection_hdl hdl) {
        if (ConnPtr con = con_of(std::move(hdl))) {
            con->moolai_settled.store(true);
            // Refusals are counted where they are decided.
            const auto ec = con->get_ec();
            if (ec == ws::error::open_handshake_timeout)
                handshake_timeouts.fetch_add(1, std::memory_order_relaxed);
            else if (ec != ws::error::rejected)
                handshake_errors.fetch_add(1, std::memory_order_relaxed);
            release(*con);
        }
    }

    void on_open(ws::connection_hdl hdl) {
        ConnPtr con = con_of(hdl);
        if (!con) return;
        const ConnectionId id = g_next_connection_id.fetch_add(1);
        con->id_ = id;
        con->server_ = self;
        con->moolai_settled.store(true);
        const int64_t opened = now_ms();
        con->moolai_last_rx_ms.store(opened, std::memory_order_relaxed);
        if (opt.admit_deadline_ms > 0) {
            std::lock_guard<std::mutex> lk(unadmitted_m);
            unadmitted.emplace_back(opened, con);
        }
        {
            Shard& s = shard(id);
            std::lock_guard<std::mutex> lk(s.m);
            s.conns.emplace(id, con);
        }
        count.fetch_add(1);
        const WsHandlers& h = routes[con->moolai_route].h;
        if (h.on_open) {
            try {
                h.on_open(*con);
            } catch (const std::exception& e) {
                log(kNetError, std::string("websocket on_open threw: ") + e.what());
                close_con(con, ws::close::status::internal_endpoint_error, "internal error");
            }
        }
        // Inserted before this check, so stop() either saw it or we see stopping.
        if (stopping.load()) close_con(con, ws::close::status::going_away, "server shutdown");
    }

    void on_message(ws::connection_hdl hdl, const typename Server::message_ptr& msg) {
        ConnPtr con = con_of(std::move(hdl));
        if (!con) return;
        if (opt.ping_interval_ms > 0)
            con->moolai_last_rx_ms.store(now_ms(), std::memory_order_relaxed);
        const WsHandlers& h = routes[con->moolai_route].h;
        if (!h.on_message) return;
        try {
            h.on_message(*con, msg->get_payload());
        } catch (const std::exception& e) {
            log(kNetError, std::string("websocket on_message threw: ") + e.what());
            close_con(con, ws::close::status::internal_endpoint_error, "internal error");
        }
    }

    void on_close(ws::connection_hdl hdl) {
        ConnPtr con = con_of(hdl);
        if (!con || con->id_ == 0) return;
        // The peer's code; ours when we closed and the peer never answered
        // (e.g. 1009 after an oversized message); 1006 when the TCP link dropped.
        uint16_t code = con->get_remote_close_code();
        if (code == ws::close::status::abnormal_close) code = con->get_local_close_code();
        forget(con->id_, code);
    }

    // Removes the id and reports the close, exactly once per id.
    void forget(ConnectionId id, uint16_t code) {
        ConnPtr con;
        {
            Shard& s = shard(id);
            std::lock_guard<std::mutex> lk(s.m);
            auto it = s.conns.find(id);
            if (it == s.conns.end()) return;
            con = std::move(it->second);
            s.conns.erase(it);
        }
        count.fetch_sub(1);
        release(*con);
        const WsHandlers& h = routes[con->moolai_route].h;
        if (!h.on_close) return;
        try {
            h.on_close(*con, code);
        } catch (const std::exception& e) {
            log(kNetError, std::string("websocket on_close threw: ") + e.what());
        }
    }

    void on_pong_timeout(ws::connection_hdl hdl) {
        ConnPtr con = con_of(hdl);  // may already be gone (websocketpp #773)
        if (!con || con->id_ == 0) return;
        const WsHandlers& h = routes[con->moolai_route].h;
        if (h.on_pong_timeout) {
            try {
                h.on_pong_timeout(*con);
            } catch (const std::exception& e) {
                log(kNetError, std::string("websocket on_pong_timeout threw: ") + e.what());
            }
        } else {
            close_con(con, ws::close::status::going_away, "pong timeout");
        }
    }

    void touch(ws::connection_hdl hdl) {
        if (ConnPtr con = con_of(std::move(hdl)))
            con->moolai_last_rx_ms.store(now_ms(), std::memory_order_relaxed);
    }

    void close_con(const ConnPtr& con, uint16_t code, std::string reason) {
        if (reason.size() > 123) reason.resize(123);  // RFC 6455 control frame limit
        ws::lib::error_code ec;
        con->close(code, reason, ec);
        if (ec) log(kNetDebug, "websocket close(" + std::to_string(code) + "): " + ec.message());
    }

    // --- control strand: accept loop, ping sweep, stop ---

    // EMFILE (docs/library-quirks.md, W1): back off 100 ms after any accept error instead of
    // re-arming at once (the stock loop spins at 100% CPU and floods the log).
    // Re-arming and stop_listening() both run on the control strand, which
    // removes the race TSan found between them.
    void accept_next() {
        if (stopping.load() || !server.is_listening()) return;
        ConnPtr con = server.get_connection();
        ws::lib::error_code ec;
        server.async_accept(
            ws::lib::static_pointer_cast<typename Server::transport_con_type>(con),
            [this, con](const ws::lib::error_code& e) {
                // Runs in the new connection's strand.
                if (!e) {
                    con->start();
                } else {
                    con->terminate(e);
                }
                control->post([this, con, failed = bool(e)] {
                    if (!failed) {
                        if (opt.max_pending_handshakes > 0) handshaking.emplace_back(now_ms(), con);
                        accept_or_wait();
                    } else if (!stopping.load() && server.is_listening()) {
                        accept_errors.fetch_add(1, std::memory_order_relaxed);
                        backoff_timer->expires_after(std::chrono::milliseconds(100));
                        backoff_timer->async_wait(
                            control->wrap([this](const boost::system::error_code& te) {
                                if (!te) accept_next();
                            }));
                    }
                });
            },
            ec);
        if (ec) con->terminate(ec);
    }

    // Admission (control strand): accepts the next socket unless
    // max_pending_handshakes are still in their opening handshake; then
    // looks again every 5 ms. Waiting clients stay in the listen backlog.
    void accept_or_wait() {
        if (opt.max_pending_handshakes > 0 && handshaking.size() >= opt.max_pending_handshakes) {
            const int64_t counted_since = now_ms() - opt.admission_grace_ms;
            handshaking.erase(std::remove_if(handshaking.begin(), handshaking.end(),
                                             [counted_since](const auto& h) {
                                                 if (h.first <= counted_since)
                                                     return true;  // grace over
                                                 const ConnPtr c = h.second.lock();
                                                 return !c || c->moolai_settled.load();
                                             }),
                              handshaking.end());
            if (handshaking.size() >= opt.max_pending_handshakes) {
                if (!accept_paused) accept_pauses.fetch_add(1, std::memory_order_relaxed);
                accept_paused = true;
                admission_timer->expires_after(std::chrono::milliseconds(5));
                admission_timer->async_wait(
                    control->wrap([this](const boost::system::error_code& te) {
                        if (!te && !stopping.load()) accept_or_wait();
                    }));
                return;
            }
        }
        accept_paused = false;
        accept_next();
    }

    // Closes the connections that were not admit()ted within the deadline.
    // Opening order is deadline order, so only the expired front is looked at.
    void arm_deadline_sweep() {
        const int period = std::clamp(opt.admit_deadline_ms / 4, 10, 250);
        deadline_timer->expires_after(std::chrono::milliseconds(period));
        deadline_timer->async_wait(control->wrap([this](const boost::system::error_code& ec) {
            if (ec || stopping.load()) return;
            close_unadmitted(now_ms());
            arm_deadline_sweep();
        }));
    }

    void close_unadmitted(int64_t now) {
        std::vector<ConnPtr> late;
        {
            std::lock_guard<std::mutex> lk(unadmitted_m);
            while (!unadmitted.empty() && now - unadmitted.front().first >= opt.admit_deadline_ms) {
                if (ConnPtr c = unadmitted.front().second.lock(); c && !c->admitted())
                    late.push_back(std::move(c));
                unadmitted.pop_front();
            }
        }
        for (const ConnPtr& c : late) {
            if (c->get_state() != ws::session::state::open) continue;
            closed_admit_deadline.fetch_add(1, std::memory_order_relaxed);
            close_con(c, kAdmitDeadlineCloseCode, opt.admit_deadline_reason);
        }
    }

    // A send over max_send_buffer_bytes: refused, and the reader cut.
    bool send_to_reader(typename Server::connection_type& con, std::string_view text) {
        if (opt.max_send_buffer_bytes > 0 &&
            con.get_buffered_amount() > opt.max_send_buffer_bytes) {
            if (opt.close_slow_consumers && con.get_state() == ws::session::state::open) {
                closed_slow_consumer.fetch_add(1, std::memory_order_relaxed);
                close_con(con.get_shared(), ws::close::status::try_again_later,
                          "slow consumer: over " + std::to_string(opt.max_send_buffer_bytes) +
                              " bytes waiting to be read");
            }
            return false;
        }
        return !con.send(text.data(), text.size(), ws::frame::opcode::text);
    }

    // Pings connections that were silent for ping_interval_ms. Never pings a
    // connection again within ping_interval_ms, so the pong timer of the
    // previous ping (shorter, validated) is never cancelled by the next one.
    void arm_sweep() {
        const int period = std::max(opt.ping_interval_ms / 4, 10);
        sweep_timer->expires_after(std::chrono::milliseconds(period));
        sweep_timer->async_wait(control->wrap([this](const boost::system::error_code& ec) {
            if (ec || stopping.load()) return;
            sweep();
            arm_sweep();
        }));
    }

    void sweep() {
        const int64_t now = now_ms();
        std::vector<ConnPtr> due;
        for (Shard& s : shards) {
            std::lock_guard<std::mutex> lk(s.m);
            for (auto& kv : s.conns) {
                const ConnPtr& con = kv.second;
                if (now - con->moolai_last_rx_ms.load(std::memory_order_relaxed) >=
                        opt.ping_interval_ms &&
                    now - con->moolai_last_ping_ms.load(std::memory_order_relaxed) >=
                        opt.ping_interval_ms) {
                    con->moolai_last_ping_ms.store(now, std::memory_order_relaxed);
                    due.push_back(con);
                }
            }
        }
        for (const ConnPtr& con : due) {  // outside the shard locks
            ws::lib::error_code ec;
            con->ping("", ec);
        }
    }

    // Runs on the control strand.
    void begin_shutdown() {
        stopping.store(true);
        ws::lib::error_code ec;
        server.stop_listening(ec);
        backoff_timer->cancel();
        sweep_timer->cancel();
        admission_timer->cancel();
        deadline_timer->cancel();
        std::vector<ConnPtr> all;
        for (Shard& s : shards) {
            std::lock_guard<std::mutex> lk(s.m);
            for (auto& kv : s.conns) all.push_back(kv.second);
        }
        for (const ConnPtr& con : all)
            close_con(con, ws::close::status::going_away, "server shutdown");
    }

    void run_thread() {
        for (;;) {
            try {
                server.run();
                break;
            } catch (const std::exception& e) {  // keep serving other connections
                log(kNetError, std::string("websocket io thread: ") + e.what());
            }
        }
        std::lock_guard<std::mutex> lk(run_m);
        --running;
        run_cv.notify_all();
    }

    // ------------------------------------------------------------ WsServer::Impl

    void add_path(std::string path, WsHandlers handlers) override {
        if (path.empty() || path[0] != '/')
            throw std::invalid_argument("WsServer::add_path: \"" + path + "\" must start with '/'");
        if (route_of(path) >= 0)
            throw std::invalid_argument("WsServer::add_path: \"" + path + "\" is already served");
        std::lock_guard<std::mutex> lk(state_m);
        if (started) throw std::logic_error("WsServer::add_path after start()");
        routes.push_back(Route{std::move(path), std::move(handlers)});
    }

    void start() override {
        std::lock_guard<std::mutex> lk(state_m);
        if (started) throw std::logic_error("WsServer::start() called twice");
        const std::string where = opt.host + ":" + std::to_string(opt.port);
        // websocketpp's own message ("Underlying Transport Error") names nothing.
        ws::lib::error_code ec;
        server.listen(opt.host, std::to_string(opt.port), ec);
        if (ec)
            throw std::runtime_error("websocket server cannot listen on " + where + ": " +
                                     ec.message());
        boost::system::error_code aec;
        const auto ep = server.get_local_endpoint(aec);
        if (aec) throw std::runtime_error("websocket server on " + where + ": " + aec.message());
        bound_port.store(ep.port());
        started = true;

        accept_next();
        if (opt.ping_interval_ms > 0) control->post([this] { arm_sweep(); });
        if (opt.admit_deadline_ms > 0) control->post([this] { arm_deadline_sweep(); });
        running = opt.threads;
        for (unsigned i = 0; i < opt.threads; ++i) threads.emplace_back([this] { run_thread(); });
    }

    void stop() override {
        std::lock_guard<std::mutex> lk(state_m);
        if (!started || stopped) return;
        stopped = true;

        control->post([this] { begin_shutdown(); });
        // The io threads return once every connection is closed; peers that do
        // not answer are cut by websocketpp after close_timeout_ms. Connections
        // still in their opening handshake could hold us longer: force after that.
        {
            std::unique_lock<std::mutex> rl(run_m);
            const auto deadline =
                std::chrono::milliseconds(std::max(opt.close_timeout_ms, 0) + 500);
            if (!run_cv.wait_for(rl, deadline, [this] { return running == 0; })) server.stop();
        }
        for (auto& t : threads) t.join();
        threads.clear();

        // Connections cut by the forced stop never got their close handler.
        std::vector<ConnectionId> left;
        for (auto& s : shards) {
            std::lock_guard<std::mutex> sl(s.m);
            for (auto& kv : s.conns) left.push_back(kv.first);
        }
        for (ConnectionId id : left) forget(id, ws::close::status::abnormal_close);
    }

    const WsOptions& options() const override { return opt; }

    uint16_t port() const override { return bound_port.load(); }

    bool send(ConnectionId id, std::string_view text) override {
        ConnPtr con = find(id);
        return con && send_to_reader(*con, text);
    }

    void close(ConnectionId id, uint16_t code, std::string_view reason) override {
        if (ConnPtr con = find(id)) close_con(con, code, std::string(reason));
    }

    bool post(ConnectionId id, std::function<void(WsConnection&)> task) override {
        ConnPtr con = find(id);
        if (!con) return false;
        con->get_strand()->post([this, con, task = std::move(task)] {
            if (find(con->id_) != con) return;  // closed meanwhile: on_close has run
            try {
                task(*con);
            } catch (const std::exception& e) {
                log(kNetError, std::string("websocket posted task threw: ") + e.what());
            }
        });
        return true;
    }

    size_t connection_count() const override { return count.load(); }

    WsStats stats() const override {
        WsStats st;
        st.connections = count.load();
        st.refused_capacity = refused_capacity.load();
        st.refused_per_address = refused_per_address.load();
        st.closed_admit_deadline = closed_admit_deadline.load();
        st.closed_slow_consumer = closed_slow_consumer.load();
        st.accept_pauses = accept_pauses.load();
        st.accept_errors = accept_errors.load();
        st.handshake_timeouts = handshake_timeouts.load();
        st.handshake_errors = handshake_errors.load();
        return st;
    }

    // The WsConnection is the ConnState base of one of this server's
    // websocketpp connections (see Config).
    static typename Server::connection_type* as_con(WsConnection* c) {
        return static_cast<typename Server::connection_type*>(static_cast<ConnState*>(c));
    }
    static const typename Server::connection_type* as_con(const WsConnection* c) {
        return static_cast<const typename Server::connection_type*>(
            static_cast<const ConnState*>(c));
    }

    WsUpgrade upgrade(const WsConnection& c) const override { return upgrade_of(as_con(&c)); }

    bool send(WsConnection& c, std::string_view text) override {
        return send_to_reader(*as_con(&c), text);
    }

    void close(WsConnection& c, uint16_t code, std::string_view reason) override {
        close_con(as_con(&c)->get_shared(), code, std::string(reason));
    }

    std::weak_ptr<WsConnection> handle(WsConnection& c) override {
        return std::shared_ptr<WsConnection>(as_con(&c)->get_shared(), &c);
    }
};

template <class Base>
WsEngine<Base>::WsEngine(WsServer* owner, WsOptions o) : self(owner), opt(std::move(o)) {
    WsOptions& o2 = opt;
    if (o2.threads == 0) throw std::invalid_argument("WsOptions.threads must be > 0");
    if (o2.max_message_bytes == 0)
        throw std::invalid_argument("WsOptions.max_message_bytes must be > 0");
    if (o2.ping_interval_ms > 0 &&
        (o2.pong_timeout_ms <= 0 || o2.pong_timeout_ms >= o2.ping_interval_ms))
        throw std::invalid_argument(
            "WsOptions.pong_timeout_ms must be > 0 and shorter than ping_interval_ms "
            "(each ping cancels the previous pong timer)");

    WsEngine& m = *this;
    Server& s = server;
    // Quiet by default: access logs cost ~35% CPU and print payloads.
    s.clear_access_channels(ws::log::alevel::all);
    s.clear_error_channels(ws::log::elevel::all);
    s.set_error_channels(ws::log::elevel::warn | ws::log::elevel::rerror | ws::log::elevel::fatal);
    if (o2.logger) {
        m.log_buf = std::make_unique<LogLineBuf>(o2.logger);
        m.log_stream = std::make_unique<std::ostream>(m.log_buf.get());
        s.get_elog().set_ostream(m.log_stream.get());
    }
    s.init_asio();
    s.set_reuse_addr(true);
    s.set_listen_backlog(o2.listen_backlog);
    s.set_max_message_size(o2.max_message_bytes);
    s.set_max_http_body_size(64 * 1024);  // upgrade requests carry no body
    s.set_open_handshake_timeout(o2.handshake_timeout_ms);
    s.set_close_handshake_timeout(o2.close_timeout_ms);
    if (o2.ping_interval_ms > 0) s.set_pong_timeout(o2.pong_timeout_ms);

    s.set_validate_handler([&m](ws::connection_hdl hdl) { return m.on_validate(hdl); });
    s.set_http_handler([&m](ws::connection_hdl hdl) { m.on_http(hdl); });
    s.set_open_handler([&m](ws::connection_hdl hdl) { m.on_open(hdl); });
    s.set_fail_handler([&m](ws::connection_hdl hdl) { m.on_fail(hdl); });
    s.set_close_handler([&m](ws::connection_hdl hdl) { m.on_close(hdl); });
    s.set_message_handler(
        [&m](ws::connection_hdl hdl, typename Server::message_ptr msg) { m.on_message(hdl, msg); });
    s.set_pong_timeout_handler(
        [&m](ws::connection_hdl hdl, const std::string&) { m.on_pong_timeout(hdl); });
    s.set_pong_handler([&m](ws::connection_hdl hdl, const std::string&) { m.touch(hdl); });
    s.set_ping_handler([&m](ws::connection_hdl hdl, const std::string&) {
        m.touch(hdl);
        return true;  // answer with the automatic pong
    });
    if constexpr (kTls) {
        if (!opt.tls) throw std::invalid_argument("WsOptions.tls is required for a TLS endpoint");
        // One io thread: with Boost 1.74, websocketpp's strand did not hold
        // Asio's SSL stream's composed operations, and a TLS shutdown racing
        // a read on another thread corrupted the heap (docs/library-quirks.md,
        // W18). Our socket policy (ws_tls_socket.hpp, W19) runs its steps in
        // the strand, but more threads were not tried under load with it.
        if (opt.threads > 1) {
            log(kNetInfo, "websocket: TLS runs on 1 io thread instead of " +
                              std::to_string(opt.threads) + " (docs/library-quirks.md, W18)");
            opt.threads = 1;
        }
        // One context for the server's life: its certificate callback hands
        // each handshake the material current then (TlsServerContext::reload).
        // Each connection's SSL comes from it (ws_tls::Stream::begin).
        tls_ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
        opt.tls->configure(tls_ctx->native_handle());
        s.set_tls_init_handler([&m](ws::connection_hdl) { return m.tls_ctx; });
    }

    m.control.emplace(s.get_io_service());
    m.backoff_timer.emplace(s.get_io_service());
    m.sweep_timer.emplace(s.get_io_service());
    m.admission_timer.emplace(s.get_io_service());
    m.deadline_timer.emplace(s.get_io_service());
}

}  // namespace ws_detail
}  // namespace moolai::host
