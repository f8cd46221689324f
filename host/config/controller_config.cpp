#include "config/controller_config.hpp"

#include <cctype>
#include <arpa/inet.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/json_schema.hpp"

#ifndef MOOLAI_PLUGIN_DIR_FROM_BIN
#define MOOLAI_PLUGIN_DIR_FROM_BIN "../lib/moolai/plugins"
#endif

namespace moolai::host {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr size_t kMinStaticTokenBytes = 32;

const char* kSchema = R"({
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "rest": {"type": "object", "additionalProperties": false, "properties": {
      "host": {"type": "string", "minLength": 1},
      "port": {"type": "integer", "minimum": 0, "maximum": 65535},
      "rate_per_address": {"type": "integer", "minimum": 0, "maximum": 1000000},
      "burst_per_address": {"type": "integer", "minimum": 1, "maximum": 1000000},
      "trusted_proxies": {"type": "array", "items": {"type": "string", "minLength": 1}}}},
    "websocket": {"type": "object", "additionalProperties": false, "properties": {
      "host": {"type": "string", "minLength": 1},
      "port": {"type": "integer", "minimum": 0, "maximum": 65535},
      "register_deadline_sec": {"type": "integer", "minimum": 0, "maximum": 3600},
      "max_connections": {"type": "integer", "minimum": 0, "maximum": 10000000},
      "max_connections_per_address": {"type": "integer", "minimum": 0, "maximum": 10000000},
      "max_pending_handshakes": {"type": "integer", "minimum": 0, "maximum": 1000000},
      "max_send_buffer_bytes": {"type": "integer", "minimum": 0, "maximum": 1073741824}}},
    "data_dir": {"type": "string", "minLength": 1},
    "plugin_dir": {"type": "string", "minLength": 1},
    "static_dir": {"type": "string"},
    "dashboard_poll_ms": {"type": "integer", "minimum": 1000, "maximum": 3600000},
    "storage_wait_sec": {"type": "integer", "minimum": 0, "maximum": 86400},
    "storage_queue_max": {"type": "integer", "minimum": 1, "maximum": 10000000},
    "storage_journal_dir": {"type": "string", "minLength": 1},
    "message_ttl_sec": {"type": "integer", "minimum": 1, "maximum": 31536000},
    "public_ws_url": {"type": "string"},
    "plugins": {"type": "array", "items": {"type": "object", "additionalProperties": false,
      "required": ["name"], "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9_]{1,64}$"},
        "path": {"type": "string", "minLength": 1},
        "config": {"type": "object"}}}},
    "heartbeat_ttl_sec": {"type": "integer", "minimum": 1, "maximum": 86400},
    "heartbeat_poker": {"type": "boolean"},
    "log_level": {"type": "string", "enum": ["debug", "info", "warn", "error"]},
    "log_format": {"type": "string", "enum": ["text", "json"]},
    "max_frame_bytes": {"type": "integer", "minimum": 1024, "maximum": 67108864},
    "max_body_bytes": {"type": "integer", "minimum": 1024, "maximum": 67108864},
    "session_ttl_sec": {"type": "integer", "minimum": 60, "maximum": 2592000},
    "orchestrator_auth": {"type": "string", "enum": ["token", "open", "mtls", "mtls+token"]},
    "tls": {"type": "object", "additionalProperties": false, "properties": {
      "cert": {"type": "string", "minLength": 1},
      "key": {"type": "string", "minLength": 1},
      "client_ca": {"type": "string", "minLength": 1},
      "rest": {"type": "object", "additionalProperties": false, "properties": {
        "cert": {"type": "string", "minLength": 1},
        "key": {"type": "string", "minLength": 1}}},
      "websocket": {"type": "object", "additionalProperties": false, "properties": {
        "cert": {"type": "string", "minLength": 1},
        "key": {"type": "string", "minLength": 1}}}}}
  }
})";

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr ? std::string(v) : std::string();
}

long env_int(const char* name, long min, long max, long fallback) {
    const std::string v = env(name);
    if (v.empty()) return fallback;
    char* end = nullptr;
    const long n = std::strtol(v.c_str(), &end, 10);
    if (end == v.c_str() || *end != '\0' || n < min || n > max)
        throw ConfigError("environment variable " + std::string(name) + "=\"" + v +
                          "\" is not an integer in [" + std::to_string(min) + ", " +
                          std::to_string(max) + "]");
    return n;
}

bool env_bool(const char* name, bool fallback) {
    std::string v = env(name);
    if (v.empty()) return fallback;
    for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
    if (v == "0" || v == "false" || v == "no" || v == "off") return false;
    throw ConfigError("environment variable " + std::string(name) + "=\"" + v +
                      "\" is not a boolean (true/false)");
}

std::string absolute_from(const fs::path& base, const std::string& p) {
    fs::path path(p);
    if (path.is_relative()) path = base / path;
    return path.lexically_normal().string();
}

// TLS files and the orchestrator authentication mode (file, then environment).
// A port's own pair wins over the shared one; half a pair is an error.
void read_tls(ControllerConfig& c, const json& file, const fs::path& base) {
    using Paths = ControllerConfig::TlsPaths;
    const auto from_file = [&base](const json& o, const char* key) {
        return o.contains(key) ? absolute_from(base, o[key].get<std::string>()) : std::string();
    };
    const auto from_env = [](const char* name) {
        const std::string v = env(name);
        return v.empty() ? v : absolute_from(fs::current_path(), v);
    };
    const auto pair = [](Paths p, const std::string& cert, const std::string& key) {
        if (!cert.empty()) p.cert = cert;
        if (!key.empty()) p.key = key;
        return p;
    };
    Paths shared, rest, ws;
    std::string mode = "token";
    if (auto t = file.find("tls"); t != file.end()) {
        shared = pair(shared, from_file(*t, "cert"), from_file(*t, "key"));
        c.tls_client_ca = from_file(*t, "client_ca");
        if (t->contains("rest"))
            rest = pair(rest, from_file((*t)["rest"], "cert"), from_file((*t)["rest"], "key"));
        if (t->contains("websocket"))
            ws =
                pair(ws, from_file((*t)["websocket"], "cert"), from_file((*t)["websocket"], "key"));
    }
    mode = file.value("orchestrator_auth", mode);
    shared = pair(shared, from_env("MOOLAI_TLS_CERT"), from_env("MOOLAI_TLS_KEY"));
    rest = pair(rest, from_env("MOOLAI_REST_TLS_CERT"), from_env("MOOLAI_REST_TLS_KEY"));
    ws = pair(ws, from_env("MOOLAI_WS_TLS_CERT"), from_env("MOOLAI_WS_TLS_KEY"));
    if (!env("MOOLAI_TLS_CLIENT_CA").empty()) c.tls_client_ca = from_env("MOOLAI_TLS_CLIENT_CA");
    if (!env("MOOLAI_ORCHESTRATOR_AUTH").empty()) mode = env("MOOLAI_ORCHESTRATOR_AUTH");

    const auto check = [](const Paths& p, const char* name, const char* key) {
        if (p.cert.empty() != p.key.empty())
            throw ConfigError(std::string(name) + (p.cert.empty() ? "_CERT" : "_KEY") +
                              " (config file: " + key + (p.cert.empty() ? ".cert" : ".key") +
                              ") is missing: a TLS certificate and its key go together");
    };
    check(shared, "MOOLAI_TLS", "tls");
    check(rest, "MOOLAI_REST_TLS", "tls.rest");
    check(ws, "MOOLAI_WS_TLS", "tls.websocket");
    c.rest_tls = rest.cert.empty() ? shared : rest;
    c.ws_tls = ws.cert.empty() ? shared : ws;

    if (mode == "token" || mode == "open" || mode == "mtls" || mode == "mtls+token") {
        c.orchestrator_auth_open = mode == "open";
        c.orchestrator_cert_required = mode == "mtls" || mode == "mtls+token";
        c.orchestrator_token_required = mode == "token" || mode == "mtls+token";
    } else {
        throw ConfigError("MOOLAI_ORCHESTRATOR_AUTH=\"" + mode +
                          "\" must be token, open, mtls or mtls+token");
    }
    if (c.orchestrator_cert_required && (c.tls_client_ca.empty() || c.ws_tls.cert.empty()))
        throw ConfigError("MOOLAI_ORCHESTRATOR_AUTH=" + mode +
                          " needs TLS on the WebSocket port and MOOLAI_TLS_CLIENT_CA "
                          "(the CA of the orchestrators' certificates)");
    if (!c.tls_client_ca.empty() && c.ws_tls.cert.empty())
        throw ConfigError(
            "MOOLAI_TLS_CLIENT_CA needs TLS on the WebSocket port "
            "(MOOLAI_TLS_CERT/KEY or MOOLAI_WS_TLS_CERT/KEY)");
}

}  // namespace

const char* controller_config_schema() {
    return kSchema;
}

ControllerConfig load_controller_config(const std::string& config_path,
                                        const std::string& exe_dir) {
    ControllerConfig c;
    json file = json::object();
    fs::path base = fs::current_path();
    if (!config_path.empty()) {
        std::ifstream in(config_path);
        if (!in) throw ConfigError("cannot read config file " + config_path);
        std::stringstream text;
        text << in.rdbuf();
        try {
            file = json::parse(text.str());
        } catch (const json::exception& e) {  // parse_error, and out_of_range for 1e400
            throw ConfigError("config file " + config_path + " is not valid JSON: " + e.what());
        }
        if (auto problem = validate_json_schema(json::parse(kSchema), file))
            throw ConfigError("config file " + config_path + " is invalid " + *problem);
        base = fs::absolute(fs::path(config_path)).parent_path();
    }

    if (auto r = file.find("rest"); r != file.end()) {
        c.rest_host = r->value("host", c.rest_host);
        c.rest_port = r->value("port", c.rest_port);
        c.rest_rate_per_address = r->value("rate_per_address", c.rest_rate_per_address);
        c.rest_burst_per_address = r->value("burst_per_address", c.rest_burst_per_address);
        if (auto t = r->find("trusted_proxies"); t != r->end())
            c.trusted_proxies = t->get<std::vector<std::string>>();
    }
    if (auto w = file.find("websocket"); w != file.end()) {
        c.ws_host = w->value("host", c.ws_host);
        c.ws_port = w->value("port", c.ws_port);
        c.register_deadline_sec = w->value("register_deadline_sec", c.register_deadline_sec);
        c.ws_max_connections = w->value("max_connections", c.ws_max_connections);
        c.ws_max_connections_per_address =
            w->value("max_connections_per_address", c.ws_max_connections_per_address);
        c.ws_max_pending_handshakes =
            w->value("max_pending_handshakes", c.ws_max_pending_handshakes);
        c.ws_max_send_buffer_bytes = w->value("max_send_buffer_bytes", c.ws_max_send_buffer_bytes);
    }
    c.data_dir = file.value("data_dir", c.data_dir);
    c.static_dir = file.value("static_dir", c.static_dir);
    c.heartbeat_ttl_sec = file.value("heartbeat_ttl_sec", c.heartbeat_ttl_sec);
    c.heartbeat_poker = file.value("heartbeat_poker", c.heartbeat_poker);
    c.log_level = file.value("log_level", c.log_level);
    c.log_format = file.value("log_format", c.log_format);
    c.max_frame_bytes = file.value("max_frame_bytes", c.max_frame_bytes);
    c.max_body_bytes = file.value("max_body_bytes", c.max_body_bytes);
    c.session_ttl_sec = file.value("session_ttl_sec", c.session_ttl_sec);
    c.dashboard_poll_ms = file.value("dashboard_poll_ms", c.dashboard_poll_ms);
    c.storage_wait_sec = file.value("storage_wait_sec", c.storage_wait_sec);
    c.storage_queue_max = file.value("storage_queue_max", c.storage_queue_max);
    c.storage_journal_dir = file.value("storage_journal_dir", c.storage_journal_dir);

    // The environment names of the wire contract.
    c.message_ttl_sec = file.value("message_ttl_sec", c.message_ttl_sec);
    if (!env("CONTROLLER_HOST").empty()) c.rest_host = c.ws_host = env("CONTROLLER_HOST");
    c.rest_port = static_cast<uint16_t>(env_int("CONTROLLER_PORT", 0, 65535, c.rest_port));
    c.ws_port = static_cast<uint16_t>(env_int("CONTROLLER_WS_PORT", 0, 65535, c.ws_port));
    c.heartbeat_ttl_sec =
        static_cast<int>(env_int("HEARTBEAT_TTL_SEC", 1, 86400, c.heartbeat_ttl_sec));
    c.heartbeat_interval_sec =
        static_cast<int>(env_int("HEARTBEAT_INTERVAL_SEC", 1, 3600, c.heartbeat_interval_sec));
    c.heartbeat_poker = env_bool("HEARTBEAT_POKER_ENABLED", c.heartbeat_poker);
    c.heartbeat_target_rate = static_cast<double>(
        env_int("MOOLAI_HEARTBEAT_TARGET_RATE", 0, 10000000, static_cast<long>(c.heartbeat_target_rate)));
    c.heartbeat_interval_max_sec = static_cast<int>(
        env_int("MOOLAI_HEARTBEAT_INTERVAL_MAX_SEC", 1, 86400, c.heartbeat_interval_max_sec));
    c.dashboard_poll_ms =
        static_cast<int>(env_int("MOOLAI_DASHBOARD_POLL_MS", 1000, 3600000, c.dashboard_poll_ms));
    c.storage_wait_sec =
        static_cast<int>(env_int("MOOLAI_STORAGE_WAIT_SEC", 0, 86400, c.storage_wait_sec));
    c.storage_queue_max = static_cast<size_t>(
        env_int("MOOLAI_STORAGE_QUEUE_MAX", 1, 10000000, static_cast<long>(c.storage_queue_max)));
    c.register_deadline_sec =
        static_cast<int>(env_int("MOOLAI_REGISTER_DEADLINE_SEC", 0, 3600, c.register_deadline_sec));
    const auto env_size = [](const char* name, long max, size_t fallback) {
        return static_cast<size_t>(env_int(name, 0, max, static_cast<long>(fallback)));
    };
    c.ws_max_connections = env_size("MOOLAI_WS_MAX_CONNECTIONS", 10000000, c.ws_max_connections);
    c.ws_max_connections_per_address = env_size("MOOLAI_WS_MAX_CONNECTIONS_PER_ADDRESS", 10000000,
                                                c.ws_max_connections_per_address);
    c.ws_max_pending_handshakes =
        env_size("MOOLAI_WS_MAX_PENDING_HANDSHAKES", 1000000, c.ws_max_pending_handshakes);
    c.ws_max_send_buffer_bytes =
        env_size("MOOLAI_WS_MAX_SEND_BUFFER_BYTES", 1073741824, c.ws_max_send_buffer_bytes);
    c.max_frame_bytes = env_size("MOOLAI_MAX_FRAME_BYTES", 67108864, c.max_frame_bytes);
    c.max_body_bytes = env_size("MOOLAI_MAX_BODY_BYTES", 67108864, c.max_body_bytes);
    c.rest_rate_per_address =
        env_size("MOOLAI_REST_RATE_PER_ADDRESS", 1000000, c.rest_rate_per_address);
    c.rest_burst_per_address =
        env_size("MOOLAI_REST_BURST_PER_ADDRESS", 1000000, c.rest_burst_per_address);
    if (c.rest_burst_per_address < 1)
        throw ConfigError("MOOLAI_REST_BURST_PER_ADDRESS must be at least 1");
    if (const std::string t = env("MOOLAI_TRUSTED_PROXIES"); !t.empty()) {
        c.trusted_proxies.clear();
        for (size_t start = 0; start <= t.size();) {
            const size_t comma = std::min(t.find(',', start), t.size());
            std::string one = t.substr(start, comma - start);
            one.erase(0, one.find_first_not_of(' '));
            one.erase(one.find_last_not_of(' ') + 1);
            if (!one.empty()) c.trusted_proxies.push_back(one);
            start = comma + 1;
        }
    }
    for (const std::string& p : c.trusted_proxies) {
        const size_t slash = p.find('/');
        const std::string ip = p.substr(0, slash);
        const std::string bits = slash == std::string::npos ? "" : p.substr(slash + 1);
        unsigned char addr[16];
        const bool v4 = inet_pton(AF_INET, ip.c_str(), addr) == 1;
        const bool v6 = !v4 && inet_pton(AF_INET6, ip.c_str(), addr) == 1;
        const bool bits_ok =
            slash == std::string::npos ||
            (!bits.empty() && bits.size() <= 3 &&
             bits.find_first_not_of("0123456789") == std::string::npos &&
             std::stoi(bits) <= (v4 ? 32 : 128));
        if ((!v4 && !v6) || !bits_ok)
            throw ConfigError("MOOLAI_TRUSTED_PROXIES: \"" + p +
                              "\" is not an IP address or network (list the proxies' "
                              "addresses or networks, comma-separated, e.g. 10.0.0.5,172.16.0.0/12)");
    }
    if (c.max_frame_bytes < 1024 || c.max_body_bytes < 1024)
        throw ConfigError("MOOLAI_MAX_FRAME_BYTES and MOOLAI_MAX_BODY_BYTES must be at least 1024");
    c.dev_bearer_token = env("DEV_BEARER_TOKEN");
    c.metrics_token = env("MOOLAI_METRICS_TOKEN");
    // Static bearer tokens never expire and are not throttled like logins:
    // a short one could be guessed.
    for (const auto& [name, token] :
         {std::pair<const char*, const std::string&>{"DEV_BEARER_TOKEN", c.dev_bearer_token},
          {"MOOLAI_METRICS_TOKEN", c.metrics_token}})
        if (!token.empty() && token.size() < kMinStaticTokenBytes)
            throw ConfigError(std::string(name) + " is " + std::to_string(token.size()) +
                              " bytes; a static token must have at least " +
                              std::to_string(kMinStaticTokenBytes) +
                              " (e.g. `openssl rand -hex 32`), or leave it unset");
    c.public_ws_url = file.value("public_ws_url", c.public_ws_url);
    c.message_ttl_sec = env_int("MOOLAI_MESSAGE_TTL_SEC", 1, 31536000, c.message_ttl_sec);
    if (!env("MOOLAI_PUBLIC_WS_URL").empty()) c.public_ws_url = env("MOOLAI_PUBLIC_WS_URL");
    if (!c.public_ws_url.empty() && c.public_ws_url.rfind("ws://", 0) != 0 &&
        c.public_ws_url.rfind("wss://", 0) != 0)
        throw ConfigError("MOOLAI_PUBLIC_WS_URL=\"" + c.public_ws_url +
                          "\" must start with ws:// or wss://");
    c.host_id = env("MOOLAI_HOST_ID");
    if (!c.host_id.empty()) {
        bool ok = c.host_id.size() <= 64;
        for (char ch : c.host_id)
            ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' ||
                        ch == ':' || ch == '-');
        if (!ok)
            throw ConfigError("MOOLAI_HOST_ID=\"" + c.host_id +
                              "\" must be 1 to 64 of A-Z a-z 0-9 . _ : -");
    }
    c.cluster = env_bool("MOOLAI_CLUSTER", c.cluster);
    c.cluster_lease_sec =
        static_cast<int>(env_int("MOOLAI_CLUSTER_LEASE_SEC", 3, 600, c.cluster_lease_sec));
    c.cluster_queue_max = static_cast<size_t>(env_int(
        "MOOLAI_CLUSTER_QUEUE_MAX", 1, 10000000, static_cast<long>(c.cluster_queue_max)));
    c.superadmin_username = env("MOOLAI_SUPERADMIN_USERNAME");
    c.superadmin_password = env("MOOLAI_SUPERADMIN_PASSWORD");
    if (!env("MOOLAI_DATA_DIR").empty()) c.data_dir = env("MOOLAI_DATA_DIR");
    if (!env("MOOLAI_LOG_LEVEL").empty()) c.log_level = env("MOOLAI_LOG_LEVEL");
    if (!env("MOOLAI_LOG_FORMAT").empty()) c.log_format = env("MOOLAI_LOG_FORMAT");
    if (c.log_format != "text" && c.log_format != "json")
        throw ConfigError("MOOLAI_LOG_FORMAT=\"" + c.log_format + "\" must be text or json");
    // MOOLAI_STATIC_DIR is the older name of MOOLAI_DASHBOARD_DIR.
    if (!env("MOOLAI_STATIC_DIR").empty()) c.static_dir = env("MOOLAI_STATIC_DIR");
    if (!env("MOOLAI_DASHBOARD_DIR").empty()) c.static_dir = env("MOOLAI_DASHBOARD_DIR");
    read_tls(c, file, base);
    if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" &&
        c.log_level != "error")
        throw ConfigError("log level \"" + c.log_level + "\" must be debug, info, warn or error");
    c.data_dir = absolute_from(fs::current_path(), c.data_dir);
    if (!env("MOOLAI_STORAGE_JOURNAL_DIR").empty())
        c.storage_journal_dir = env("MOOLAI_STORAGE_JOURNAL_DIR");
    if (c.storage_journal_dir.empty())
        c.storage_journal_dir = c.data_dir + "/storage-journal";
    else if (c.storage_journal_dir != "off")
        c.storage_journal_dir = absolute_from(fs::current_path(), c.storage_journal_dir);

    if (!env("MOOLAI_PLUGIN_DIR").empty())
        c.plugin_dir = absolute_from(fs::current_path(), env("MOOLAI_PLUGIN_DIR"));
    else if (file.contains("plugin_dir"))
        c.plugin_dir = absolute_from(base, file["plugin_dir"]);
    else
        c.plugin_dir = absolute_from(exe_dir, MOOLAI_PLUGIN_DIR_FROM_BIN);
    if (!c.static_dir.empty()) {
        c.static_dir = absolute_from(base, c.static_dir);
    } else {
        // Installed layout: <prefix>/bin/moolai-controller, <prefix>/share/moolai/dashboard.
        const fs::path installed = fs::path(exe_dir) / ".." / "share" / "moolai" / "dashboard";
        std::error_code ec;
        if (fs::exists(installed / "index.html", ec))
            c.static_dir = fs::weakly_canonical(installed, ec).string();
    }

    if (file.contains("plugins")) {
        for (const json& p : file["plugins"]) {
            PluginEntry e;
            e.name = p["name"].get<std::string>();
            e.path = p.contains("path") ? absolute_from(base, p["path"].get<std::string>())
                                        : c.plugin_dir + "/lib" + e.name + ".so";
            if (p.contains("config")) e.config = p["config"];
            c.plugins.push_back(std::move(e));
        }
    } else {
        // The default bundle: SQLite unless a database server is named.
        const bool postgres = !env("DATABASE_HOST").empty();
        const std::vector<std::string> names = {postgres ? "storage_postgres" : "storage_sqlite",
                                                "auth_local", "independence_default",
                                                "messaging_default"};
        for (const std::string& n : names) {
            PluginEntry e{n, c.plugin_dir + "/lib" + n + ".so", json::object()};
            if (n == "storage_sqlite") e.config["path"] = c.data_dir + "/moolai.db";
            c.plugins.push_back(std::move(e));
        }
    }
    return c;
}

}  // namespace moolai::host
