#include "app/rest_api.hpp"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "app/login_throttle.hpp"
#include "app/rest_support.hpp"
#include "app/rfc3339.hpp"
#include "app/session_auth.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "plugins/plugin_set.hpp"

namespace moolai::host::RestApi {
namespace {

HttpResponse health(const Context& ctx) {
    const bool db_up = ctx.plugins.storage().ping().ok();
    return ok(json{{"status", "up"},
                   {"database", db_up ? "up" : "down"},
                   {"timestamp", format_rfc3339(now_unix_ms())}});
}

HttpResponse list_plugins(const Context& ctx) {
    json items = json::array();
    for (const auto& p : ctx.plugins.plugins()) {
        json caps = json::array();
        const std::string names = capability_names(p->capabilities());
        for (size_t start = 0; start < names.size();) {
            const size_t end = names.find(',', start);
            caps.push_back(names.substr(start, end == std::string::npos ? end : end - start));
            start = end == std::string::npos ? names.size() : end + 1;
        }
        items.push_back({{"name", p->name()},
                         {"version", p->version()},
                         {"description", p->description()},
                         {"abi_version", p->abi_version()},
                         {"abi_minor_required", p->abi_minor_required()},
                         {"capabilities", caps},
                         {"threading", p->concurrent() ? "concurrent" : "serialized"},
                         {"path", p->path()}});
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
    if (const int64_t wait = ctx.throttle.retry_after_sec(username, now_unix_ms())) {
        HttpResponse r = HttpResponse::error(
            429, "too_many_attempts",
            "too many failed logins for this user; try again in " + std::to_string(wait) + " s");
        r.headers.emplace_back("Retry-After", std::to_string(wait));
        return r;
    }
    LoginResult r = ctx.auth.login(username, pass->get<std::string>());
    if (r.status == MOOLAI_E_DENIED) {
        ctx.throttle.record_failure(username, now_unix_ms());
        ctx.log.warn("failed login for \"" + username + "\" from " + req.remote);
        return HttpResponse::error(401, "invalid_credentials", "invalid username or password");
    }
    if (r.status == MOOLAI_OK) ctx.throttle.reset(username);
    if (r.status != MOOLAI_OK)
        return HttpResponse::error(http_status_of(r.status), "login_failed", r.error);
    ctx.log.info("login of \"" + r.principal.username + "\" from " + req.remote);
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

HttpResponse metrics(const Context& ctx, const HttpRequest&, const Principal&) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = ctx.metrics.render_prometheus();
    return r;
}

HttpResponse logout(const Context& ctx, const HttpRequest& req, const Principal&) {
    ctx.auth.logout(req.authorization);
    return ok(json{{"success", true}, {"message", "Logged out"}});
}

// Recent controller log lines from the in-memory ring (the dashboard's Logs page).
HttpResponse logs(const Context& ctx, const HttpRequest& req, const Principal& who) {
    if (!who.superadmin()) return forbidden("only a superadmin reads the controller log");
    size_t limit = 200;
    const std::string l = query_value(req, "limit");
    if (!l.empty()) {
        char* end = nullptr;
        const unsigned long v = std::strtoul(l.c_str(), &end, 10);
        if (*end != '\0' || v < 1 || v > 2000)
            return HttpResponse::error(400, "invalid_query", "\"limit\" must be 1 to 2000");
        limit = v;
    }
    LogLevel level = LogLevel::debug;
    const std::string lv = query_value(req, "level");
    if (!lv.empty() && !parse_level(lv, level))
        return HttpResponse::error(400, "invalid_query",
                                   "\"level\" must be debug, info, warn or error");
    json items = json::array();
    for (const LogLine& line : ctx.log.recent(limit, level))
        items.push_back({{"time", format_rfc3339(line.time_ms)},
                         {"level", level_name(line.level)},
                         {"source", line.source},
                         {"message", line.text}});
    return ok(json{{"success", true}, {"data", {{"items", items}, {"total", items.size()}}}});
}

HttpResponse plugins(const Context& ctx, const HttpRequest&, const Principal&) {
    return list_plugins(ctx);
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
    add_authed(server, ctx, "GET", "/metrics", &metrics);
    add_authed(server, ctx, "GET", "/api/v1/internal/logs", &logs);
    install_fleet_routes(server, ctx);
    install_message_routes(server, ctx);
    install_user_routes(server, ctx);
    install_cost_routes(server, ctx);
}

}  // namespace moolai::host::RestApi
