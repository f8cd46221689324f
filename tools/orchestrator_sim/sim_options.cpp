#include "sim_options.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>

namespace moolai::sim {

const char* const kDefaultUrl = "ws://127.0.0.1:8766/ws";

const char* const kUsage = R"(Usage: moolai-orchestrator-sim [options]

Runs simulated Moolai orchestrators against a controller: each registers over
WebSocket, sends heartbeats, usage reports and metadata updates, acknowledges
forwarded messages, obeys stop_monitoring/config_update (it keeps sending
heartbeats, which the controller acks processed:false while independent) and
reconnects with exponential backoff and full jitter. Prints a stats line to
stderr periodically. Stops on SIGINT/SIGTERM or after --duration.

Where the credentials come from (exactly one):
  --credentials FILE        "orchestrator_id token" per line ('#' comments)
  --provision               log into the REST API, create the organization if
                            missing and the orchestrators, save their credentials
      --api URL             REST API base (default http://127.0.0.1:8765);
                            https:// verifies the controller's certificate
                            and name (against --ca when given)
      --username U          user to log in as (a superadmin, or an org_admin of
      --password P          --organization); the password may instead come from
                            the environment variable MOOLAI_SIM_PASSWORD
      --api-token T         a bearer token instead of --username/--password
      --credentials-out FILE  where to save the credentials (mode 0600); entries
                            already there are reused (and re-created if the
                            controller no longer knows them), so re-running
                            creates no duplicates
  --open                    no credentials: for a controller started with
                            MOOLAI_ORCHESTRATOR_AUTH=open (creates unknown
                            orchestrators on register)

Fleet:
  --count N                 orchestrators to run (default 1; with --credentials
                            default every line, at most the number of lines)
  --organization ORG        organization for --provision/--open (default sim-org)
  --id-prefix P             ids are P00001, P00002, ... (default "sim-")
  --url URL                 controller WebSocket (default ws://127.0.0.1:8766/ws);
                            wss:// verifies the controller's certificate and name.
                            Several controllers: repeat --url or separate URLs
                            with commas (all ws:// or all wss://). Orchestrators
                            start spread over them (the Nth on URL N mod count)
                            and move on to the next URL when theirs drops; the
                            stats line then counts connections per URL and
                            failovers
  --ca FILE                 wss:// and https://: PEM CA bundle to verify the
                            controller with (default: the system's CAs)
  --cert FILE, --key FILE   wss://: client certificate and key (controllers with
                            MOOLAI_ORCHESTRATOR_AUTH=mtls...; its CN or a SAN must
                            be the orchestrator id, so one certificate fits one id)
  --token-on-upgrade        also send the credential as Authorization: Bearer on
                            the WebSocket upgrade (it is always in "register")

Behaviour (SEC may have decimals):
  --heartbeat-interval SEC  default: what the controller provisions, else 30
  --usage-interval SEC      usage report per orchestrator (default 60; 0 = none)
  --metadata-interval SEC   metadata update per orchestrator (default 300; 0 = none)
  --backoff-base SEC        reconnect backoff: sleep uniform(0, min(cap,
  --backoff-cap SEC         base*2^attempt)) (defaults 0.5 and 30)
  --refused-retry SEC       after the controller refuses an orchestrator (1008
                            bad credential, or a deliberate 1000 such as being
                            replaced by another connection): 0 = give up on it
                            (default), else retry after SEC
  --register-timeout SEC    no provisioning this long after connecting: retry
                            (default 10)
  --ramp-rate N             connections started per second (default 1000; 0 = all
                            at once)
  --threads N               I/O threads shared by all connections (default 2;
                            wss:// always uses 1)
  --seed N                  random seed for usage values and jitter (default random)

Output and lifetime:
  --stats-interval SEC      stats line period (default 5; 0 = only at exit)
  --duration SEC            stop after SEC (default 0 = until SIGINT/SIGTERM)
  --verbose                 also log every connect, register and disconnect
  --help                    this text

Exit status: 0 after --duration or a signal, 1 when provisioning fails or every
orchestrator was refused, 2 for bad options.
)";

namespace {

[[noreturn]] void bad(const std::string& what) {
    throw OptionError(what);
}

std::string number_text(double d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", d);
    return buf;
}

double parse_seconds(const std::string& option, const std::string& v, double min, double max) {
    errno = 0;
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || errno != 0 || !std::isfinite(d) || d < min || d > max)
        bad(option + " needs a number of seconds from " + number_text(min) + " to " +
            number_text(max) + ", not \"" + v + "\"");
    return d;
}

unsigned long long parse_count(const std::string& option, const std::string& v,
                               unsigned long long min, unsigned long long max) {
    errno = 0;
    char* end = nullptr;
    const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || v[0] == '-' || *end != '\0' || errno != 0 || n < min || n > max)
        bad(option + " needs a whole number from " + std::to_string(min) + " to " +
            std::to_string(max) + ", not \"" + v + "\"");
    return n;
}

// Ids and organizations go into URL paths unencoded: keep them plain.
void check_plain(const std::string& option, const std::string& v, bool allow_empty) {
    if (v.empty() && !allow_empty) bad(option + " must not be empty");
    if (v.size() > 200) bad(option + " is longer than 200 characters");
    for (char c : v) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!ok) bad(option + " may use letters, digits, '-', '_' and '.' only, not \"" + v + "\"");
    }
}

}  // namespace

SimOptions parse_options(const std::vector<std::string>& args, const std::string& env_password) {
    SimOptions o;
    int sources = 0;
    bool count_given = false;
    using Setter = std::function<void(const std::string& option, const std::string& value)>;
    const std::map<std::string, Setter> with_value = {
        {"--url",
         [&](auto& n, auto& v) {
             size_t from = 0;
             for (;;) {
                 const size_t comma = v.find(',', from);
                 const std::string one = v.substr(from, comma - from);
                 if (one.empty()) bad(n + " has an empty URL in \"" + v + "\"");
                 o.urls.push_back(one);
                 if (comma == std::string::npos) break;
                 from = comma + 1;
             }
         }},
        {"--ca", [&](auto&, auto& v) { o.ca_file = v; }},
        {"--cert", [&](auto&, auto& v) { o.cert_file = v; }},
        {"--key", [&](auto&, auto& v) { o.key_file = v; }},
        {"--credentials",
         [&](auto&, auto& v) {
             o.source = CredentialSource::file;
             o.credentials_file = v;
             ++sources;
         }},
        {"--api", [&](auto&, auto& v) { o.api = v; }},
        {"--username", [&](auto&, auto& v) { o.username = v; }},
        {"--password", [&](auto&, auto& v) { o.password = v; }},
        {"--api-token", [&](auto&, auto& v) { o.api_token = v; }},
        {"--credentials-out", [&](auto&, auto& v) { o.credentials_out = v; }},
        {"--organization",
         [&](auto& n, auto& v) {
             check_plain(n, v, false);
             o.organization = v;
         }},
        {"--id-prefix",
         [&](auto& n, auto& v) {
             check_plain(n, v, true);
             o.id_prefix = v;
         }},
        {"--count",
         [&](auto& n, auto& v) {
             o.count = static_cast<size_t>(parse_count(n, v, 1, 1000000));
             count_given = true;
         }},
        {"--heartbeat-interval",
         [&](auto& n, auto& v) { o.heartbeat_interval_sec = parse_seconds(n, v, 0.05, 86400); }},
        {"--usage-interval",
         [&](auto& n, auto& v) { o.usage_interval_sec = parse_seconds(n, v, 0, 86400); }},
        {"--metadata-interval",
         [&](auto& n, auto& v) { o.metadata_interval_sec = parse_seconds(n, v, 0, 86400); }},
        {"--backoff-base",
         [&](auto& n, auto& v) { o.backoff_base_sec = parse_seconds(n, v, 0.001, 3600); }},
        {"--backoff-cap",
         [&](auto& n, auto& v) { o.backoff_cap_sec = parse_seconds(n, v, 0.001, 86400); }},
        {"--refused-retry",
         [&](auto& n, auto& v) { o.refused_retry_sec = parse_seconds(n, v, 0, 86400); }},
        {"--register-timeout",
         [&](auto& n, auto& v) { o.register_timeout_sec = parse_seconds(n, v, 0.1, 3600); }},
        {"--stats-interval",
         [&](auto& n, auto& v) { o.stats_interval_sec = parse_seconds(n, v, 0, 86400); }},
        {"--duration", [&](auto& n, auto& v) { o.duration_sec = parse_seconds(n, v, 0, 1e9); }},
        {"--ramp-rate",
         [&](auto& n, auto& v) {
             o.ramp_rate = static_cast<double>(parse_count(n, v, 0, 1000000));
         }},
        {"--threads",
         [&](auto& n, auto& v) { o.threads = static_cast<unsigned>(parse_count(n, v, 1, 64)); }},
        {"--seed",
         [&](auto& n, auto& v) {
             o.seed = static_cast<unsigned>(parse_count(n, v, 0, 4294967295u));
         }},
    };
    const std::map<std::string, std::function<void()>> flags = {
        {"--provision",
         [&] {
             o.source = CredentialSource::provision;
             ++sources;
         }},
        {"--open",
         [&] {
             o.source = CredentialSource::open;
             ++sources;
         }},
        {"--token-on-upgrade", [&] { o.token_on_upgrade = true; }},
        {"--verbose", [&] { o.verbose = true; }},
        {"-v", [&] { o.verbose = true; }},
        {"--help", [&] { o.help = true; }},
        {"-h", [&] { o.help = true; }},
    };

    for (size_t i = 0; i < args.size(); ++i) {
        std::string name = args[i];
        std::string value;
        bool has_value = false;
        if (const size_t eq = name.find('='); name.rfind("--", 0) == 0 && eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            has_value = true;
        }
        if (auto f = flags.find(name); f != flags.end()) {
            if (has_value) bad(name + " takes no value");
            f->second();
            continue;
        }
        auto s = with_value.find(name);
        if (s == with_value.end()) bad("unknown option \"" + args[i] + "\" (see --help)");
        if (!has_value) {
            if (i + 1 >= args.size()) bad(name + " needs a value");
            value = args[++i];
        }
        s->second(name, value);
    }
    if (o.help) return o;

    if (sources == 0)
        bad("say where the credentials come from: --credentials FILE, --provision or --open");
    if (sources > 1) bad("--credentials, --provision and --open exclude each other");
    if (o.urls.empty()) o.urls.push_back(kDefaultUrl);
    const bool wss = o.urls[0].rfind("wss://", 0) == 0;
    for (const std::string& url : o.urls) {
        const bool this_wss = url.rfind("wss://", 0) == 0;
        if (url.rfind("ws://", 0) != 0 && !this_wss)
            bad("--url must be a ws:// or wss:// URL such as ws://127.0.0.1:8766/ws, not \"" + url +
                "\"");
        if (this_wss != wss) bad("--url: all ws:// or all wss://, not a mix");
    }
    const bool https = o.source == CredentialSource::provision && o.api.rfind("https://", 0) == 0;
    if (!wss && !https && !o.ca_file.empty()) bad("--ca needs a wss:// --url or an https:// --api");
    if (!wss && (!o.cert_file.empty() || !o.key_file.empty()))
        bad("--cert and --key need a wss:// --url");
    if (o.cert_file.empty() != o.key_file.empty()) bad("--cert and --key go together");
    if (wss) o.threads = 1;  // the client library's wss:// needs one thread
    if (o.backoff_cap_sec < o.backoff_base_sec) bad("--backoff-cap must be >= --backoff-base");
    if (o.source == CredentialSource::provision) {
        if (o.password.empty()) o.password = env_password;
        if (o.api_token.empty() && (o.username.empty() || o.password.empty()))
            bad("--provision needs --api-token, or --username with --password (or "
                "MOOLAI_SIM_PASSWORD)");
        if (o.api.rfind("http://", 0) != 0 && !https)
            bad("--api must be an http:// or https:// URL such as http://127.0.0.1:8765, not \"" +
                o.api + "\"");
    } else {
        for (const char* only : {"--credentials-out", "--api-token", "--username"}) {
            const std::string& v = std::string(only) == "--credentials-out" ? o.credentials_out
                                   : std::string(only) == "--api-token"     ? o.api_token
                                                                            : o.username;
            if (!v.empty()) bad(std::string(only) + " goes with --provision only");
        }
    }
    if (o.source == CredentialSource::file && o.credentials_file.empty())
        bad("--credentials needs a file name");
    if (!count_given && o.source != CredentialSource::file) o.count = 1;
    return o;
}

}  // namespace moolai::sim
