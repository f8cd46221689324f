// Shared pieces of the REST handlers: envelopes, status mapping, the
// logged-in wrapper, body and paging parsing, and the tenancy rule for
// orchestrators named in a path.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "auth/session_auth.hpp"
#include "fleet/fleet_state.hpp"
#include "plugins/capability_clients.hpp"
#include "rest/rest_api.hpp"

namespace moolai::host::RestApi {

using nlohmann::json;

HttpResponse ok(const json& body);
int http_status_of(moolai_status s);
HttpResponse forbidden(const std::string& why);
// The one mapping of a failed plugin call to a response. Unreachable
// storage is 503 storage_unavailable with Retry-After and a fixed message;
// other plugin text reaches the client only when it names no connection
// (host, port, URI), since a driver's error may quote its connection string.
HttpResponse storage_error(const CallResult& r);
HttpResponse storage_unavailable();
// `text`, or a generic line when it looks like it carries connection details.
std::string public_error_text(const std::string& text);
// A new password: a string of at least 8 characters (code points, as JSON
// Schema counts them) without NUL. kPasswordRule says so to the caller.
bool valid_password(const json& password);
inline constexpr const char* kPasswordRule =
    "\"password\" must be a string of at least 8 characters, without NUL";
// The body as a JSON object, or an error response in `bad`.
bool parse_body(const HttpRequest& req, json& out, HttpResponse& bad);
// page / page_size from the query string (1-based page; page_size 1..1000).
bool read_page(const HttpRequest& req, size_t default_size, Query& q, HttpResponse& bad,
               size_t& page, size_t& page_size);
std::string query_value(const HttpRequest& req, const char* name);
// "sort" (one of `fields`) and "order" (asc | desc, default asc) from the
// query string into q.sort / q.descending; false with a 400 in `bad` naming
// the accepted values otherwise. "order" without "sort" changes nothing.
bool read_sort(const HttpRequest& req, std::initializer_list<const char*> fields, Query& q,
               HttpResponse& bad);
// "limit" from the query string, 1..max; `limit` keeps its default when absent.
bool read_limit(const HttpRequest& req, size_t max, size_t& limit, HttpResponse& bad);
// A listing in the seed's envelope: {"success":true,"data":{items,total,page,page_size}},
// plus "sort" and "order": the order storage applied, or null for the
// listing's default order (no sort asked, or a storage plugin from before
// ABI 1.3, which does not sort: the caller can tell the two apart).
HttpResponse listing(const CallResult& r, size_t page, size_t page_size,
                     const std::function<void(json&)>& adjust = {});
// The orchestrator named by the path, if the caller may act on it; else
// the 404 to answer. An org_admin outside the orchestrator's organization
// gets 404 on purpose: other tenants' ids are not confirmed.
std::shared_ptr<Orchestrator> orchestrator_for(const Context& ctx, const HttpRequest& req,
                                               const Principal& who, HttpResponse& refusal);

// Memory is fresher than the last batch: a stored orchestrator row gets the
// live status, last_seen, independence and connection; "independent" wins,
// as in the seed's listing.
void overlay_live(const FleetState& fleet, json& item);
// One audit row; a failure is logged, never returned to the caller.
void audit(const Context& ctx, const Principal& who, const char* action,
           const std::string& organization_id, const std::string& orchestrator_id,
           json detail = json::object(), const std::string& old_value = "",
           const std::string& new_value = "");

// Wraps a handler that needs a logged-in user.
template <class Fn>
HttpHandler authed(const Context& ctx, Fn fn) {
    return [&ctx, fn](const HttpRequest& req) -> HttpResponse {
        const AuthCheck who = ctx.auth.check(req.authorization);
        // Storage could not tell, and the session was not validated here
        // recently: the token may be good, so no 401 (a dashboard would log
        // its operator out).
        if (who.verdict == AuthVerdict::unavailable) return storage_unavailable();
        if (who.verdict != AuthVerdict::ok) {
            HttpResponse r = HttpResponse::error(401, "unauthorized",
                                                 "a valid \"Authorization: Bearer <token>\" "
                                                 "header is required");
            r.headers.emplace_back("WWW-Authenticate", "Bearer");
            return r;
        }
        return fn(req, who.who);
    };
}

using AuthedHandler = HttpResponse (*)(const Context&, const HttpRequest&, const Principal&);
// Adds a route whose handler needs a logged-in user.
void add_authed(RestServer& server, const Context& ctx, const char* method, const char* pattern,
                AuthedHandler handler);

// Each resource file installs its own routes.
void install_fleet_routes(RestServer& server, const Context& ctx);
void install_message_routes(RestServer& server, const Context& ctx);
void install_user_routes(RestServer& server, const Context& ctx);
void install_cost_routes(RestServer& server, const Context& ctx);
void install_registry_routes(RestServer& server, const Context& ctx);
void install_dashboard_routes(RestServer& server, const Context& ctx);
void install_org_edit_routes(RestServer& server, const Context& ctx);
void install_user_edit_routes(RestServer& server, const Context& ctx);

}  // namespace moolai::host::RestApi
