#include "rest/rest_api.hpp"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "abuse/log_limiter.hpp"
#include "abuse/source_address.hpp"
#include "auth/login_throttle.hpp"
#include "auth/session_auth.hpp"
#include "cluster/cluster_link.hpp"
#include "common/rfc3339.hpp"
#include "events/event_stream.hpp"
#include "fleet/fleet_state.hpp"
#include "net/ws_server.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "plugins/plugin_set.hpp"
#include "rest/rest_support.hpp"

extern const char moolai_openapi_json[];
extern const unsigned long moolai_openapi_json_size;

namespace moolai::host::RestApi {
namespace {

HttpResponse health(const Context& ctx) {
    const bool db_up = ctx.plugins.storage().ping().ok();
    return ok(json{{"status", "up"},
                   {"database", db_up ? "up" : "down"},
                   {"timestamp", format_rfc3339(now_unix_ms())}});
}

// File paths tell where the controller is installed: superadmins only.
HttpResponse list_plugins(const Context& ctx, bool with_paths) {
    json items = json::array();
    for (const auto& p : ctx.plugins.plugins()) {
        json caps = json::array();
        const std::string names = capability_names(p->capabilities());
        for (size_t start = 0; start < names.size();) {
            const size_t end = names.find(',', start);
            caps.push_back(names.substr(start, end == std::string::npos ? end : end - start));
            start = end == std::string::npos ? names.size() : end + 1;
        }
        json item = {{"name", p->name()},
                         {"version", p->version()},
                         {"description", p->description()},
                         {"abi_version", p->abi_version()},
                         {"abi_minor_required", p->abi_minor_required()},
                         {"capabilities", caps},
                     {"threading", p->concurrent() ? "concurrent" : "serialized"}};
        if (with_paths) item["path"] = p->path();
        items.push_back(std::move(item));
    }
    return ok(json{{"success", true},
                   {"data", {{"items", items}, {"total", items.size()}}},
                   {"host_abi_version",
                    std::to_string(MOOLAI_ABI_MAJOR) + "." + std::to_string(MOOLAI_ABI_MINOR)}});
}

HttpResponse login(const Context& ctx, const HttpRequest& req) {
    const json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
        return HttpResponse::error(400, "invalid_json", "the body must be a JSON object");
    const auto user = body.find("username");
    const auto pass = body.find("password");
    if (user == body.end() || !user->is_string() || user->get<std::string>().empty() ||
        pass == body.end() || !pass->is_string())
        return HttpResponse::error(400, "invalid_request",
                                   "\"username\" and \"password\" must be strings");
    const std::string username = user->get<std::string>();
    const std::string source = source_key(req.client);
    const int64_t now = now_unix_ms();
    // Counted as failed from here (so concurrent guesses cannot all get in
    // before one is counted); a success or an unjudged attempt takes it back.
    if (const int64_t wait = ctx.throttle.begin(username, source, now)) {
        HttpResponse r = HttpResponse::error(
            429, "too_many_attempts",
            "too many failed logins from this address; try again in " + std::to_string(wait) +
                " s");
        r.headers.emplace_back("Retry-After", std::to_string(wait));
        return r;
    }
    LoginResult r = ctx.auth.login(username, pass->get<std::string>());
    if (r.status == MOOLAI_E_DENIED) {
        // One line per source per minute: a flood of guesses is not a flood of lines.
        if (const auto held = ctx.failed_login_log.admit(source, now)) {
            ctx.log.warn("failed login for \"" + username.substr(0, 128) + "\" from " + req.client +
                             LogLimiter::held_back_note(*held),
                         {{"username", username.substr(0, 128)},
                          {"remote", req.client},
                          {"request_id", req.request_id}});
        }
        return HttpResponse::error(401, "invalid_credentials", "invalid username or password");
    }
    if (r.status == MOOLAI_OK)
        ctx.throttle.succeeded(username, source);
    else
        ctx.throttle.not_counted(username, source);
    if (r.status == MOOLAI_E_UNAVAILABLE) return storage_unavailable();
    if (r.status != MOOLAI_OK)
        return HttpResponse::error(http_status_of(r.status), "login_failed",
                                   public_error_text(r.error));
    ctx.log.info("login of \"" + r.principal.username + "\" from " + req.client,
                 {{"username", r.principal.username},
                  {"remote", req.client},
                  {"request_id", req.request_id}});
    json org =
        r.principal.organization_id.empty() ? json(nullptr) : json(r.principal.organization_id);
    return ok(json{{"success", true},
                   {"message", "Login successful"},
                   {"user",
                    {{"username", r.principal.username},
                     {"role", r.principal.role},
                     {"organization_id", org},
                     {"token", r.token},
                     {"expires_at", format_rfc3339(r.expires_at_ms)}}}});
}

// Fleet gauges are computed at scrape time: nothing on the heartbeat path.
void update_fleet_gauges(const Context& ctx) {
    size_t active = 0, independent = 0, connected = 0;
    const auto all = ctx.fleet.all();
    for (const auto& o : all) {
        active += o->status.load() == MOOLAI_ORCH_ACTIVE ? 1 : 0;
        independent += o->independent.load() ? 1 : 0;
        connected += o->connection.load() != 0 ? 1 : 0;
    }
    Metrics& m = ctx.metrics;
    m.gauge("moolai_orchestrators", "Orchestrators known to this controller")
        ->set(static_cast<double>(all.size()));
    m.gauge("moolai_orchestrators_active",
            "Orchestrators with a processed heartbeat within the TTL")
        ->set(static_cast<double>(active));
    m.gauge("moolai_orchestrators_inactive", "Orchestrators silent for longer than the TTL")
        ->set(static_cast<double>(all.size() - active));
    m.gauge("moolai_orchestrators_independent", "Orchestrators running independently")
        ->set(static_cast<double>(independent));
    m.gauge("moolai_orchestrators_connected", "Orchestrators with a live WebSocket connection")
        ->set(static_cast<double>(connected));
    m.gauge("moolai_event_stream_subscribers", "Dashboard event streams subscribed")
        ->set(static_cast<double>(ctx.stream.subscribers()));

    const WsStats ws = ctx.ws_server.stats();
    m.gauge("moolai_ws_connections", "Open WebSocket connections (orchestrators and dashboards)")
        ->set(static_cast<double>(ws.connections));
    const auto refused = [&m](const char* reason, uint64_t n) {
        m.counter_with("moolai_ws_refused_total", "WebSocket upgrades refused by a connection cap",
                       std::string("reason=\"") + reason + "\"")
            ->set(static_cast<double>(n));
    };
    refused("capacity", ws.refused_capacity);
    refused("per_address", ws.refused_per_address);
    const auto closed = [&m](const char* reason, uint64_t n) {
        m.counter_with("moolai_ws_closed_total", "WebSocket connections the server cut",
                       std::string("reason=\"") + reason + "\"")
            ->set(static_cast<double>(n));
    };
    closed("register_deadline", ws.closed_admit_deadline);
    closed("slow_consumer", ws.closed_slow_consumer);
    const auto failed = [&m](const char* reason, uint64_t n) {
        m.counter_with(
             "moolai_ws_handshake_failures_total",
             "WebSocket opening handshakes that ended without an upgrade (refusals aside)",
             std::string("reason=\"") + reason + "\"")
            ->set(static_cast<double>(n));
    };
    failed("timeout", ws.handshake_timeouts);
    failed("error", ws.handshake_errors);
    m.counter("moolai_ws_accept_pauses_total",
              "Times the WebSocket accept loop waited for opening handshakes to finish")
        ->set(static_cast<double>(ws.accept_pauses));
    m.counter("moolai_ws_accept_errors_total",
              "Failed WebSocket accepts (EMFILE, ...), each followed by a 100 ms pause")
        ->set(static_cast<double>(ws.accept_errors));
    m.counter("moolai_rest_tls_handshake_failures_total",
              "REST TLS handshakes that timed out (10 s) or failed (plain HTTP, an unknown CA)")
        ->set(static_cast<double>(ctx.rest_server.tls_handshake_failures()));
    m.counter("moolai_rest_accept_errors_total",
              "Failed REST accepts (EMFILE, ...), each followed by a 100 ms pause")
        ->set(static_cast<double>(ctx.rest_server.accept_errors()));
}

HttpResponse render_metrics(const Context& ctx) {
    update_fleet_gauges(ctx);
    update_process_metrics(ctx.metrics);
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = ctx.metrics.render_prometheus();
    return r;
}

// Fleet-wide numbers: a superadmin's (or DEV_BEARER_TOKEN's) view, or a
// scraper's with MOOLAI_METRICS_TOKEN -- a credential that reads the
// metrics and nothing else, and does not expire like a session.
HttpHandler metrics_handler(const Context& ctx) {
    const HttpHandler with_session = authed(ctx, [&ctx](const HttpRequest&, const Principal& who) {
        if (!who.superadmin()) return forbidden("only a superadmin reads the metrics");
        return render_metrics(ctx);
    });
    return [&ctx, with_session](const HttpRequest& req) {
        if (!ctx.metrics_token.empty() &&
            SessionAuth::same_secret(req.authorization, "Bearer " + ctx.metrics_token))
            return render_metrics(ctx);
        return with_session(req);
    };
}

HttpResponse logout(const Context& ctx, const HttpRequest& req, const Principal&) {
    // Deferred (storage down) is still a logout: the token is refused from
    // now on, and storage drops the session when it is back.
    if (ctx.auth.logout(req.authorization) == LogoutResult::unavailable)
        return storage_unavailable();
    return ok(json{{"success", true}, {"message", "Logged out"}});
}

// Recent controller log lines from the in-memory ring (the dashboard's Logs page).
HttpResponse logs(const Context& ctx, const HttpRequest& req, const Principal& who) {
    if (!who.superadmin()) return forbidden("only a superadmin reads the controller log");
    size_t limit = 200;
    HttpResponse bad;
    if (!read_limit(req, 2000, limit, bad)) return bad;
    LogLevel level = LogLevel::debug;
    const std::string lv = query_value(req, "level");
    if (!lv.empty() && !parse_level(lv, level))
        return HttpResponse::error(400, "invalid_query",
                                   "\"level\" must be debug, info, warn or error");
    json items = json::array();
    for (const LogLine& line : ctx.log.recent(limit, level)) {
        json item = {{"time", format_rfc3339(line.time_ms)},
                     {"level", level_name(line.level)},
                     {"source", line.source},
                     {"message", line.text}};
        if (!line.fields.empty()) {
            json fields = json::object();
            for (const auto& [k, v] : line.fields) fields[k] = v;
            item["fields"] = std::move(fields);
        }
        items.push_back(std::move(item));
    }
    return ok(json{{"success", true}, {"data", {{"items", items}, {"total", items.size()}}}});
}

HttpResponse plugins(const Context& ctx, const HttpRequest&, const Principal& who) {
    return list_plugins(ctx, who.superadmin());
}

// The hosts sharing this store, as this host sees them (superadmin).
HttpResponse cluster(const Context& ctx, const HttpRequest&, const Principal& who) {
    if (!who.superadmin()) return forbidden("only a superadmin reads the cluster's state");
    json data = ctx.cluster != nullptr ? json::parse(ctx.cluster->status_json(), nullptr, false)
                                       : json{{"enabled", false},     {"host_id", nullptr},
                                              {"leader", nullptr},    {"this_host_leads", false},
                                              {"lease_sec", nullptr}, {"hosts", json::array()}};
    return ok(json{{"success", true}, {"data", std::move(data)}});
}

// Who the token belongs to: the dashboard restores its session with this.
HttpResponse me(const Context&, const HttpRequest&, const Principal& who) {
    json org = who.organization_id.empty() ? json(nullptr) : json(who.organization_id);
    return ok(
        json{{"success", true},
             {"user", {{"username", who.username}, {"role", who.role}, {"organization_id", org}}}});
}

// Where the dashboard finds the live event stream, and how often to poll
// when it is down.
HttpResponse ui_config(const Context& ctx, const HttpRequest&, const Principal&) {
    // Behind a reverse proxy the page's origin is not the REST port: the
    // dashboard then dials the stream on its own origin (the proxy forwards
    // events_path to the WebSocket port), unless events_url says where.
    return ok(
        json{{"success", true},
             {"ws_port", ctx.ws_port},
             {"rest_port", ctx.rest_port},
             {"events_path", EventStream::kPath},
             {"events_url", ctx.public_ws_url.empty() ? json(nullptr) : json(ctx.public_ws_url)},
             {"poll_interval_ms", ctx.dashboard_poll_ms}});
}

// The newest host events the caller may see, newest first.
HttpResponse recent_events(const Context& ctx, const HttpRequest& req, const Principal& who) {
    size_t limit = 50;
    HttpResponse bad;
    if (!read_limit(req, 500, limit, bad)) return bad;
    json items = json::array();
    for (const std::string& e : ctx.stream.recent(who, limit)) {
        json j = json::parse(e);
        j.erase("type");
        items.push_back(std::move(j));
    }
    return ok(json{{"success", true}, {"data", {{"items", items}, {"total", items.size()}}}});
}

// The maintained OpenAPI 3 document (host/rest/openapi.json), compiled in.
HttpResponse openapi(const Context&, const HttpRequest&, const Principal&) {
    return HttpResponse::json(200, std::string(moolai_openapi_json, moolai_openapi_json_size));
}

// "/a/:id/b" -> "/a/{id}/b", the OpenAPI spelling.
std::string openapi_path(const std::string& pattern) {
    std::string out;
    size_t i = 0;
    while (i < pattern.size()) {
        if (pattern[i] == ':') {
            const size_t end = std::min(pattern.find('/', i), pattern.size());
            out += "{" + pattern.substr(i + 1, end - i - 1) + "}";
            i = end;
        } else {
            out += pattern[i++];
        }
    }
    return out;
}

}  // namespace

void install(RestServer& server, const Context& ctx) {
    const Context* c = &ctx;
    server.add_route("GET", "/api/v1/controller/health",
                     [c](const HttpRequest&) { return health(*c); });
    server.add_route("POST", "/api/v1/internal/auth/login",
                     [c](const HttpRequest& req) { return login(*c, req); });
    add_authed(server, ctx, "POST", "/api/v1/internal/auth/logout", &logout);
    add_authed(server, ctx, "GET", "/api/v1/internal/plugins", &plugins);
    add_authed(server, ctx, "GET", "/api/v1/internal/cluster", &cluster);
    server.add_route("GET", "/metrics", metrics_handler(ctx));
    add_authed(server, ctx, "GET", "/api/v1/internal/logs", &logs);
    add_authed(server, ctx, "GET", "/api/v1/internal/auth/me", &me);
    add_authed(server, ctx, "GET", "/api/v1/internal/ui-config", &ui_config);
    add_authed(server, ctx, "GET", "/api/v1/internal/events", &recent_events);
    add_authed(server, ctx, "GET", "/api/v1/openapi.json", &openapi);
    // The served route table, for tools (and the test that keeps the
    // OpenAPI document true).
    const RestServer* served = &server;
    server.add_route("GET", "/api/v1/internal/routes",
                     authed(ctx, [served](const HttpRequest&, const Principal& who) {
                         if (!who.superadmin()) return forbidden("only a superadmin lists routes");
                         json items = json::array();
                         for (const auto& [method, pattern] : served->routes())
                             items.push_back({{"method", method}, {"path", openapi_path(pattern)}});
                         return ok(json{{"success", true},
                                        {"data", {{"items", items}, {"total", items.size()}}}});
                     }));
    install_registry_routes(server, ctx);
    install_fleet_routes(server, ctx);
    install_message_routes(server, ctx);
    install_user_routes(server, ctx);
    install_cost_routes(server, ctx);
    install_dashboard_routes(server, ctx);
    install_org_edit_routes(server, ctx);
    install_user_edit_routes(server, ctx);
}

}  // namespace moolai::host::RestApi
