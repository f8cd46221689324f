#include "provisioning.hpp"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_map>

#include "http_client.hpp"

namespace moolai::sim {

using nlohmann::json;

namespace {

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what);
}

// The controller's error message from {"error":{"message"}}, else the body.
std::string reason_of(const HttpReply& r) {
    const json j = json::parse(r.body, nullptr, false);
    if (j.is_object()) {
        const auto e = j.find("error");
        if (e != j.end() && e->is_object()) {
            const auto m = e->find("message");
            if (m != e->end() && m->is_string()) return m->get<std::string>();
        }
    }
    return r.body.substr(0, 300);
}

std::string http_failure(const std::string& what, const HttpReply& r) {
    return what + ": HTTP " + std::to_string(r.status) + ": " + reason_of(r);
}

std::string login(HttpClient& http, const SimOptions& o) {
    const HttpReply r =
        http.request("POST", "/api/v1/internal/auth/login",
                     json{{"username", o.username}, {"password", o.password}}.dump());
    if (r.status == 401) fail("login as \"" + o.username + "\" failed: wrong username or password");
    if (r.status == 429)
        fail("login as \"" + o.username + "\" throttled: too many failed logins; retry in " +
             (r.retry_after.empty() ? std::string("a while") : r.retry_after + " s"));
    if (r.status != 200) fail(http_failure("login as \"" + o.username + "\"", r));
    const json j = json::parse(r.body, nullptr, false);
    const json* token = nullptr;
    if (j.is_object() && j.contains("user") && j["user"].is_object() &&
        j["user"].contains("token") && j["user"]["token"].is_string())
        token = &j["user"]["token"];
    if (token == nullptr) fail("login answered without user.token: " + r.body.substr(0, 300));
    return token->get<std::string>();
}

void ensure_organization(HttpClient& http, const std::string& bearer, const std::string& org,
                         const std::function<void(const std::string&)>& say) {
    const HttpReply got =
        http.request("GET", "/api/v1/controller/organizations/" + org, "", bearer);
    if (got.status == 200) return;
    if (got.status == 401) fail(http_failure("the API token was refused", got));
    if (got.status != 404) fail(http_failure("looking up organization \"" + org + "\"", got));
    const HttpReply made =
        http.request("POST", "/api/v1/internal/organizations",
                     json{{"organization_id", org}, {"name", org}}.dump(), bearer);
    if (made.status == 201) {
        say("created organization \"" + org + "\"");
        return;
    }
    if (made.status == 409) return;  // created meanwhile by someone else
    fail(http_failure("creating organization \"" + org + "\"", made));
}

// true: the controller knows the orchestrator (so a saved credential is worth reusing).
bool orchestrator_exists(HttpClient& http, const std::string& bearer, const std::string& id) {
    const HttpReply r = http.request("GET", "/api/v1/internal/orchestrators/" + id, "", bearer);
    if (r.status == 200) return true;
    if (r.status == 404) return false;
    fail(http_failure("looking up orchestrator \"" + id + "\"", r));
}

}  // namespace

std::string simulated_id(const std::string& prefix, size_t n) {
    char digits[24];
    std::snprintf(digits, sizeof digits, "%05zu", n);
    return prefix + digits;
}

std::vector<Credential> provision_fleet(const SimOptions& o,
                                        const std::function<void(const std::string&)>& say) {
    HttpClient http(o.api, o.api.rfind("https://", 0) == 0 ? o.ca_file : "");
    const std::string bearer = o.api_token.empty() ? login(http, o) : o.api_token;
    ensure_organization(http, bearer, o.organization, say);

    std::unordered_map<std::string, std::string> saved;
    std::vector<Credential> saved_order;
    if (!o.credentials_out.empty() && std::filesystem::exists(o.credentials_out)) {
        saved_order = read_credentials_file(o.credentials_out);
        for (const Credential& c : saved_order) saved.emplace(c.orchestrator_id, c.token);
        say("read " + std::to_string(saved.size()) + " saved credentials from " +
            o.credentials_out);
    }

    std::vector<Credential> fleet;
    size_t reused = 0, created = 0, skipped = 0;
    // Bounded: a run of ids taken by orchestrators whose credentials are lost
    // must not make us probe forever.
    const size_t max_probes = o.count + 10000;
    for (size_t n = 1; fleet.size() < o.count; ++n) {
        if (n > max_probes)
            fail("only " + std::to_string(fleet.size()) + " of " + std::to_string(o.count) +
                 " orchestrators could be provisioned; " + std::to_string(skipped) +
                 " ids exist without a saved credential (use another --id-prefix)");
        const std::string id = simulated_id(o.id_prefix, n);
        auto s = saved.find(id);
        if (s != saved.end() && orchestrator_exists(http, bearer, id)) {
            fleet.push_back({id, s->second});
            ++reused;
            continue;
        }
        const HttpReply r = http.request(
            "POST", "/api/v1/internal/orchestrators",
            json{{"orchestrator_id", id}, {"organization_id", o.organization}, {"name", id}}.dump(),
            bearer);
        if (r.status == 409) {
            ++skipped;
            if (skipped <= 5)
                say("orchestrator \"" + id + "\" exists but its credential is not saved: skipped");
            continue;
        }
        if (r.status != 201) fail(http_failure("creating orchestrator \"" + id + "\"", r));
        const json j = json::parse(r.body, nullptr, false);
        if (!j.is_object() || !j.contains("data") || !j["data"].is_object() ||
            !j["data"].contains("token") || !j["data"]["token"].is_string())
            fail("creating orchestrator \"" + id + "\" answered without data.token");
        Credential c{id, j["data"]["token"].get<std::string>()};
        // Saved at once: the controller shows a credential only this one time.
        if (!o.credentials_out.empty()) append_credential(o.credentials_out, c);
        fleet.push_back(std::move(c));
        ++created;
    }
    if (skipped > 5) say("... " + std::to_string(skipped) + " ids skipped in all");
    if (!o.credentials_out.empty() && created > 0) {
        // One line per id again (replacements were appended), saved ones kept.
        std::unordered_map<std::string, size_t> at;
        std::vector<Credential> all;
        for (const auto* list : {&saved_order, &fleet}) {
            for (const Credential& c : *list) {
                auto it = at.find(c.orchestrator_id);
                if (it != at.end()) {
                    all[it->second].token = c.token;
                } else {
                    at.emplace(c.orchestrator_id, all.size());
                    all.push_back(c);
                }
            }
        }
        write_credentials_file(o.credentials_out, all);
    }
    say("provisioned " + std::to_string(fleet.size()) + " orchestrators in \"" + o.organization +
        "\": " + std::to_string(reused) + " reused, " + std::to_string(created) + " created" +
        (o.credentials_out.empty() ? " (not saved: no --credentials-out)"
                                   : ", credentials in " + o.credentials_out));
    return fleet;
}

}  // namespace moolai::sim
