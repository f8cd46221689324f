// moolai-bench-load: the benchmark's load generator and measuring tools.
// Each command prints ONE JSON object on stdout; bench/run.sh collects them
// and `report` turns them into docs/benchmarks.md.
//
//   ws       N orchestrators over WebSocket: ramp, warm-up, a measured window
//            (acks/s, ack latency, client CPU, server CPU/RSS from /proc,
//            optionally the controller's heartbeat-write counters and a probe
//            command), then optional independence toggles timed up to the
//            stop_monitoring frame.
//   http     GET latency of one REST route (random pages).
//   startup  start a command, time it until GET /api/v1/controller/health is 200.
//   report   results directory -> Markdown.
//   storm, soak, storm-report, soak-report: see resilience.hpp (issue #13).
#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "args.hpp"
#include "fleet_args.hpp"
#include "http_client.hpp"
#include "load_stats.hpp"
#include "report.hpp"
#include "resilience.hpp"
#include "ws_fleet.hpp"

namespace {

using nlohmann::json;
using namespace moolai::bench;

const char* kUsage = R"(Usage:
  moolai-bench-load ws [--host H] [--port P] [--path /ws] [--connections N] [--ramp PER_SEC]
        [--threads T] [--closed-loop K | --open-loop INTERVAL_MS] [--token T]
        [--id-prefix bench-] [--first-index 1] [--organization bench]
        [--warmup SEC] [--duration SEC] [--settle-timeout SEC] [--server-pid PID]
        [--rest-port P --bearer TOKEN]   read /metrics around the window; needed by --toggles
        [--metrics-port P]               read /metrics there instead (the host this fleet is on,
                                         when the toggles go through another)
        [--toggles N] [--probe CMD]      CMD prints a JSON object of counters (before/after)
        [--linger SEC]                   keep the fleet connected SEC after the window (and
                                         the toggles): other generators' windows stay undisturbed
        [--barrier DIR --barrier-count N]  once settled, wait until N generators settled (a
                                         file each in DIR), so their windows start together
  moolai-bench-load http --port P --bearer T --target '/path?page={page}' [--pages MAX]
        [--requests N] [--warmup N]
  moolai-bench-load startup --port P [--runs N] [--timeout SEC] [--log FILE] -- COMMAND [ARGS...]
  moolai-bench-load report --results DIR
  moolai-bench-load storm --port WS --rest-port P --connections N [--ramp PER_SEC]
        [--open-loop INTERVAL_MS] [--token T] [--threads T] [--warmup SEC] [--down-sec SEC]
        [--settle SEC] [--timeout SEC] [--connect-timeout-ms 5000] [--upgrade-timeout-ms 5000]
        [--register-timeout-ms 10000] [--log FILE] -- CONTROLLER...
  moolai-bench-load soak --port WS --rest-port P [--server-pid PID] --admin-user U
        --admin-password P --connections N [--ramp PER_SEC] [--open-loop INTERVAL_MS]
        [--usage-interval-ms MS] [--token T] [--minutes M] [--sample-sec S]
        [--churn-interval SEC] [--samples-file FILE]
  moolai-bench-load storm-report --results DIR
  moolai-bench-load soak-report --results FILE [--settings FILE]
)";

// Entries of `dir` (not . and ..); 0 when it cannot be read.
size_t files_in(const std::string& dir) {
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return 0;
    size_t n = 0;
    while (const dirent* e = readdir(d))
        if (e->d_name[0] != '.') ++n;
    closedir(d);
    return n;
}

void sleep_sec(double s) {
    std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

// The counters of the controller's /metrics that say how much the
// heartbeats cost the database.
json heartbeat_metrics(HttpClient& http) {
    const HttpReply r = http.request("GET", "/metrics");
    if (r.status != 200)
        return json{{"error", "GET /metrics: " + std::to_string(r.status) + " " + r.error}};
    json out = json::object();
    for (const char* name :
         {"moolai_heartbeat_batches_total", "moolai_heartbeat_rows_total",
          "moolai_events_published_total", "moolai_cluster_notifications_sent_total",
          "moolai_cluster_resyncs_total", "moolai_cluster_lease_renewals_total{with=\"batch\"}",
          "moolai_cluster_lease_renewals_total{with=\"none\"}",
          "moolai_status_changes_total{to=\"active\"}",
          "moolai_status_changes_total{to=\"inactive\"}",
          "moolai_ws_handshake_failures_total{reason=\"timeout\"}",
          "moolai_ws_handshake_failures_total{reason=\"error\"}"}) {
        const std::string key = std::string("\n") + name + " ";
        const size_t at = r.body.find(key);
        if (at != std::string::npos) out[name] = std::stod(r.body.substr(at + key.size()));
    }
    return out;
}

json run_probe(const std::string& command) {
    if (command.empty()) return json();
    FILE* p = popen(command.c_str(), "r");
    if (p == nullptr) return json{{"error", "popen failed"}};
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
    json j = json::parse(out, nullptr, false);
    return j.is_discarded() ? json{{"error", "probe output is not JSON: " + out}} : j;
}

// (after - before) / seconds for every numeric key present in both.
json rates(const json& before, const json& after, double seconds) {
    json out = json::object();
    if (!before.is_object() || !after.is_object()) return out;
    for (auto it = after.begin(); it != after.end(); ++it) {
        if (!it->is_number() || !before.contains(it.key()) || !before[it.key()].is_number())
            continue;
        out[it.key() + "_per_sec"] = (it->get<double>() - before[it.key()].get<double>()) / seconds;
    }
    return out;
}

int command_ws(const Args& a) {
    const uint64_t fd_limit = raise_fd_limit();
    FleetOptions o;
    o.host = a.str("host", o.host);
    o.path = a.str("path", o.path);
    read_fleet_args(a, o);
    if (a.has("open-loop")) {
        o.closed_loop = false;
        o.interval_ms = a.num("open-loop", 30000);
    } else {
        o.closed_loop = true;
        o.in_flight = static_cast<unsigned>(a.num("closed-loop", 1));
    }
    if (o.connections + 64 > fd_limit)
        throw std::runtime_error("--connections " + std::to_string(o.connections) +
                                 " needs more open files than the limit " +
                                 std::to_string(fd_limit));
    const int server_pid = static_cast<int>(a.num("server-pid", 0));
    const double warmup = a.num("warmup", 3), duration = a.num("duration", 10);
    const std::string probe = a.str("probe");
    std::unique_ptr<HttpClient> rest, metrics_from;
    if (a.has("rest-port"))
        rest = std::make_unique<HttpClient>(o.host, static_cast<uint16_t>(a.num("rest-port", 0)),
                                            a.str("bearer"));
    if (a.has("metrics-port"))
        metrics_from = std::make_unique<HttpClient>(
            o.host, static_cast<uint16_t>(a.num("metrics-port", 0)), a.str("bearer"));
    HttpClient* metrics_http = metrics_from ? metrics_from.get() : rest.get();

    json result = {{"connections", o.connections},
                   {"ramp_per_sec", o.ramp_per_sec},
                   {"client_io_threads", o.io_threads},
                   {"mode", o.closed_loop ? "closed" : "open"},
                   {"in_flight", o.closed_loop ? o.in_flight : 0},
                   {"interval_ms", o.closed_loop ? 0.0 : o.interval_ms}};
    const ProcessReading server_idle = server_pid ? read_process(server_pid) : ProcessReading{};

    WsFleet fleet(o);
    const double ramp_start = monotonic_sec();
    fleet.ramp();
    const bool settled = fleet.wait_settled(a.num("settle-timeout", 120));
    result["ramp_sec"] = monotonic_sec() - ramp_start;
    result["settled"] = settled;
    if (a.has("barrier")) {
        // Several generators: each one's window starts after every ramp,
        // so no window holds another fleet's first heartbeats.
        const std::string dir = a.str("barrier");
        const size_t count = static_cast<size_t>(a.num("barrier-count", 1));
        std::FILE* mark = std::fopen((dir + "/" + std::to_string(getpid())).c_str(), "w");
        if (mark != nullptr) std::fclose(mark);
        const double started = monotonic_sec(), deadline = started + a.num("settle-timeout", 120);
        while (files_in(dir) < count && monotonic_sec() < deadline) sleep_sec(0.2);
        result["barrier_wait_sec"] = monotonic_sec() - started;
    }
    sleep_sec(1.0);  // let the last registrations finish their work
    const ProcessReading server_connected =
        server_pid ? read_process(server_pid) : ProcessReading{};

    sleep_sec(warmup);
    const json metrics_before = metrics_http ? heartbeat_metrics(*metrics_http) : json();
    const json probe_before = run_probe(probe);
    const ProcessReading self_0 = read_self();
    const ProcessReading server_0 = server_pid ? read_process(server_pid) : ProcessReading{};
    fleet.begin_window();
    sleep_sec(duration);
    fleet.end_window();
    const ProcessReading self_1 = read_self();
    const ProcessReading server_1 = server_pid ? read_process(server_pid) : ProcessReading{};
    const double window = self_1.at_sec - self_0.at_sec;
    const json probe_after = run_probe(probe);
    const json metrics_after = metrics_http ? heartbeat_metrics(*metrics_http) : json();

    const size_t toggles = static_cast<size_t>(a.num("toggles", 0));
    if (toggles > 0) {
        if (!rest) throw std::runtime_error("--toggles needs --rest-port and --bearer");
        std::vector<uint32_t> stop_latency, put_latency;
        size_t missed = 0, refused = 0;
        const size_t n = o.connections;
        const size_t stride = std::max<size_t>(1, n / toggles);
        for (size_t t = 0, i = 0; t < toggles && i < n * 2; ++t, i += stride) {
            const size_t c = i % n;
            if (!fleet.registered(c)) continue;
            const std::string target =
                "/api/v1/internal/orchestrators/" + fleet.orchestrator_id(c) + "/independence";
            const int64_t before = fleet.stop_monitoring_at(c);
            const int64_t t0 = monotonic_ns();
            const HttpReply r = rest->request("PUT", target, R"({"is_independent":true})");
            put_latency.push_back(static_cast<uint32_t>((monotonic_ns() - t0) / 1000));
            if (r.status != 200) {
                if (++refused <= 3)
                    std::fprintf(stderr, "PUT %s: %d %s%s\n", target.c_str(), r.status,
                                 r.body.c_str(), r.error.c_str());
                continue;
            }
            int64_t at = 0;
            const double deadline = monotonic_sec() + 5;
            while ((at = fleet.stop_monitoring_at(c)) == before && monotonic_sec() < deadline)
                std::this_thread::sleep_for(std::chrono::microseconds(100));
            if (at == before) {
                ++missed;
            } else {
                stop_latency.push_back(static_cast<uint32_t>((at - t0) / 1000));
            }
            // Back to monitored, so the fleet ends as it began.
            const int64_t resumed = fleet.config_update_at(c);
            rest->request("PUT", target, R"({"is_independent":false})");
            const double resume_deadline = monotonic_sec() + 5;
            while (fleet.config_update_at(c) == resumed && monotonic_sec() < resume_deadline)
                std::this_thread::sleep_for(std::chrono::microseconds(100));
            sleep_sec(0.02);
        }
        result["toggles"] = {{"stop_monitoring", to_json(summarize(stop_latency))},
                             {"put", to_json(summarize(put_latency))},
                             {"missed", missed},
                             {"refused", refused}};
    }
    const ProcessReading server_end = server_pid ? read_process(server_pid) : ProcessReading{};

    // Several generators against several hosts: closing this fleet at once
    // would put its disconnections in a window another one still measures.
    sleep_sec(a.num("linger", 0));
    fleet.shutdown();
    FleetCounters t = fleet.totals();
    result["established"] = t.established;
    result["failed"] = t.failed;
    result["retries"] = t.retries;
    result["retries_by_stage"] = {
        {"connect", t.retries_at[0]}, {"upgrade", t.retries_at[1]}, {"register", t.retries_at[2]}};
    result["closed_early"] = t.closed_early;
    result["error_frames"] = t.error_frames;
    result["window_sec"] = window;
    result["acks"] = t.acks;
    result["acks_per_sec"] = static_cast<double>(t.acks) / window;
    result["latency"] = to_json(summarize(std::move(t.latency_us)));
    // CPU time per ack holds up better than acks/s when other work shares the cores.
    auto us_per_ack = [&](const ProcessReading& from, const ProcessReading& to) {
        return t.acks ? (to.cpu_sec - from.cpu_sec) * 1e6 / static_cast<double>(t.acks) : 0.0;
    };
    result["client"] = {{"cpu_pct", cpu_percent(self_0, self_1)},
                        {"cpu_us_per_ack", us_per_ack(self_0, self_1)},
                        {"rss_kb", self_1.rss_kb}};
    if (server_pid) {
        const double per_conn =
            t.established ? static_cast<double>(server_connected.rss_kb - server_idle.rss_kb) /
                                static_cast<double>(t.established)
                          : 0.0;
        result["server"] = {{"pid", server_pid},
                            {"cpu_pct", cpu_percent(server_0, server_1)},
                            {"cpu_us_per_ack", us_per_ack(server_0, server_1)},
                            {"rss_idle_kb", server_idle.rss_kb},
                            {"rss_connected_kb", server_connected.rss_kb},
                            {"rss_end_kb", server_end.rss_kb},
                            {"rss_per_connection_kb", per_conn}};
    }
    if (rest) {
        result["metrics"] = {{"before", metrics_before},
                             {"after", metrics_after},
                             {"rates", rates(metrics_before, metrics_after, window)}};
    }
    if (!probe.empty()) {
        result["probe"] = {{"before", probe_before},
                           {"after", probe_after},
                           {"rates", rates(probe_before, probe_after, window)}};
    }
    std::cout << result.dump() << std::endl;
    return 0;
}

int command_http(const Args& a) {
    HttpClient http("127.0.0.1", static_cast<uint16_t>(a.num("port", 8765)), a.str("bearer"));
    const std::string target = a.str("target");
    const size_t pages = static_cast<size_t>(a.num("pages", 1));
    const size_t requests = static_cast<size_t>(a.num("requests", 200));
    const size_t warmup = static_cast<size_t>(a.num("warmup", 10));
    std::mt19937 rng(12345);
    std::uniform_int_distribution<size_t> page(1, std::max<size_t>(pages, 1));
    std::vector<uint32_t> latency;
    size_t failures = 0;
    std::string last_body;
    for (size_t i = 0; i < warmup + requests; ++i) {
        std::string t = target;
        const size_t at = t.find("{page}");
        if (at != std::string::npos) t.replace(at, 6, std::to_string(page(rng)));
        const int64_t t0 = monotonic_ns();
        const HttpReply r = http.request("GET", t);
        const int64_t t1 = monotonic_ns();
        if (r.status != 200) {
            if (++failures <= 3)
                std::fprintf(stderr, "GET %s: %d %s%s\n", t.c_str(), r.status, r.body.c_str(),
                             r.error.c_str());
            continue;
        }
        if (i >= warmup) latency.push_back(static_cast<uint32_t>((t1 - t0) / 1000));
        last_body = r.body;
    }
    json result = {{"target", target},
                   {"requests", requests},
                   {"failures", failures},
                   {"latency", to_json(summarize(latency))}};
    const json body = json::parse(last_body, nullptr, false);
    if (!body.is_discarded() && body.contains("data") && body["data"].is_object())
        result["total"] = body["data"].value("total", json());
    std::cout << result.dump() << std::endl;
    return failures == 0 ? 0 : 1;
}

// Forks and execs `command`, its output appended to `log_path` (our stdout
// carries the result).
pid_t spawn(const std::vector<std::string>& command, const std::string& log_path) {
    const pid_t pid = fork();
    if (pid == 0) {
        const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        std::vector<char*> argv;
        for (const auto& s : command) argv.push_back(const_cast<char*>(s.c_str()));
        argv.push_back(nullptr);
        execvp(argv[0], argv.data());
        _exit(127);
    }
    return pid;
}

int command_startup(const Args& a) {
    if (a.rest.empty()) throw std::invalid_argument("startup needs -- COMMAND");
    const auto port = static_cast<uint16_t>(a.num("port", 8765));
    const int runs = static_cast<int>(a.num("runs", 3));
    const double timeout = a.num("timeout", 60);
    std::vector<double> ready_ms;
    json all = json::array();
    for (int run = 0; run < runs; ++run) {
        const double t0 = monotonic_sec();
        const pid_t pid = spawn(a.rest, a.str("log", "/dev/null"));
        if (pid < 0) throw std::runtime_error("fork failed");
        double ready = -1;
        int status = 0;
        bool exited = false;
        while (monotonic_sec() - t0 < timeout) {
            if (waitpid(pid, &status, WNOHANG) == pid) {
                exited = true;
                break;
            }
            HttpClient probe("127.0.0.1", port);
            if (probe.request("GET", "/api/v1/controller/health").status == 200) {
                ready = (monotonic_sec() - t0) * 1000;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        if (!exited) {
            kill(pid, SIGTERM);
            waitpid(pid, &status, 0);
        }
        all.push_back(ready);
        if (ready < 0) {
            std::cout << json{{"error", "not ready"}, {"runs", all}}.dump() << std::endl;
            return 1;
        }
        ready_ms.push_back(ready);
    }
    std::sort(ready_ms.begin(), ready_ms.end());
    std::cout << json{{"ready_ms_median", ready_ms[ready_ms.size() / 2]},
                      {"ready_ms_max", ready_ms.back()},
                      {"runs", all}}
                     .dump()
              << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    const std::string command = argv[1];
    try {
        const Args args(argc, argv, 2);
        if (command == "ws") return command_ws(args);
        if (command == "http") return command_http(args);
        if (command == "startup") return command_startup(args);
        if (command == "report") return write_report(args.str("results"), std::cout);
        if (command == "storm") return command_storm(args);
        if (command == "soak") return command_soak(args);
        if (command == "storm-report") return command_storm_report(args, std::cout);
        if (command == "soak-report") return command_soak_report(args, std::cout);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "moolai-bench-load %s: %s\n", command.c_str(), e.what());
        return 1;
    }
    std::fputs(kUsage, stderr);
    return 2;
}
