#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

namespace moolai::bench {
namespace {

using nlohmann::json;
using Num = std::optional<double>;

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    if (!in) return {};
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// One JSON object per results file; null when missing or unreadable.
json load(const std::string& dir, const std::string& name) {
    const json j = json::parse(read_text(dir + "/" + name + ".json"), nullptr, false);
    return j.is_discarded() ? json() : j;
}

// "a.b.c" inside j, as a number.
Num at(const json& j, const std::string& path) {
    const json* p = &j;
    std::stringstream parts(path);
    std::string key;
    while (std::getline(parts, key, '.')) {
        if (!p->is_object() || !p->contains(key)) return std::nullopt;
        p = &(*p)[key];
    }
    if (!p->is_number()) return std::nullopt;
    return p->get<double>();
}

std::string with_separators(long long v) {
    std::string digits = std::to_string(v < 0 ? -v : v);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3)
        digits.insert(static_cast<size_t>(i), ",");
    return v < 0 ? "-" + digits : digits;
}

std::string fmt(Num v, int decimals = 1) {
    if (!v) return "—";
    if (decimals == 0 || std::fabs(*v) >= 1000) return with_separators(std::llround(*v));
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s.precision(decimals);
    s << *v;
    return s.str();
}

Num ratio(Num a, Num b) {
    if (!a || !b || *b == 0) return std::nullopt;
    return *a / *b;
}

std::string times(Num r) {
    return r ? fmt(r, 2) + "×" : "—";
}

std::string verdict(std::optional<bool> pass) {
    if (!pass) return "NOT MEASURED";
    return *pass ? "**PASS**" : "**FAIL**";
}

// Both backends must pass; a missing measurement is not a pass.
std::optional<bool> both(std::optional<bool> a, std::optional<bool> b) {
    if (!a || !b) return std::nullopt;
    return *a && *b;
}

std::optional<bool> check(Num v, bool (*ok)(double, double), double limit) {
    if (!v) return std::nullopt;
    return ok(*v, limit);
}
bool at_most(double v, double limit) {
    return v <= limit;
}
bool at_least(double v, double limit) {
    return v >= limit;
}

struct Row {
    std::string scenario, metric;
    Num ref, sqlite, postgres;
    int decimals = 1;
    bool ratios = false;
    std::string target, result;
};

// (a) runs in rounds; the round with the median acks/s stands for it.
json median_round(const std::vector<json>& rounds) {
    std::vector<json> ok;
    for (const json& r : rounds)
        if (at(r, "acks_per_sec")) ok.push_back(r);
    if (ok.empty()) return json();
    std::sort(ok.begin(), ok.end(), [](const json& x, const json& y) {
        return *at(x, "acks_per_sec") < *at(y, "acks_per_sec");
    });
    return ok[ok.size() / 2];
}

// One line of `perf report --no-children --sort dso,symbol --stdio`:
// "  5.79%  moolai-controller  [.] moolai::host::FleetState::sweep".
struct Sample {
    double percent = 0;
    std::string dso, symbol;
    bool kernel = false;
};

std::vector<Sample> read_profile(const std::string& text) {
    std::vector<Sample> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        Sample s;
        std::istringstream fields(line);
        std::string pct, marker;
        if (!(fields >> pct >> s.dso >> marker) || pct.empty() || pct.back() != '%') continue;
        s.percent = std::atof(pct.c_str());
        s.kernel = marker == "[k]";
        std::getline(fields, s.symbol);
        s.symbol.erase(0, s.symbol.find_first_not_of(' '));
        // perf pads the symbol to its column width and may add empty columns ("-  -").
        for (;;) {
            s.symbol.erase(s.symbol.find_last_not_of(' ') + 1);
            if (s.symbol.size() < 2 || s.symbol.compare(s.symbol.size() - 2, 2, " -") != 0) break;
            s.symbol.resize(s.symbol.size() - 2);
        }
        out.push_back(std::move(s));
    }
    return out;
}

bool has(const std::string& s, const char* part) {
    return s.find(part) != std::string::npos;
}

// Where a sample's time belongs; checked in this order (websocketpp's
// templates name the controller's config, so they come before our code).
const char* category_of(const Sample& s) {
    if (s.kernel) return "kernel: TCP, epoll, scheduling";
    if (has(s.symbol, "websocketpp::") || has(s.symbol, "boost::asio") ||
        has(s.symbol, "boost::system"))
        return "websocketpp + Asio";
    if (has(s.symbol, "nlohmann::")) return "JSON (nlohmann)";
    for (const char* m : {"malloc", "free", "_int_", "operator new", "operator delete", "tcache",
                          "arena", "unlink_chunk", "memalign"})
        if (has(s.symbol, m)) return "malloc / free";
    if (has(s.symbol, "FleetState::sweep")) return "status sweeper (whole fleet, 4×/s)";
    if (has(s.symbol, "moolai::")) return "controller code";
    if (has(s.dso, "sqlite") || has(s.dso, "libpq")) return "database client";
    if (has(s.dso, "libstorage") || has(s.dso, "libindependence") || has(s.dso, "libauth") ||
        has(s.dso, "libmessaging"))
        return "plugins";
    if (has(s.symbol, "pthread") || has(s.symbol, "lll_") || has(s.symbol, "futex"))
        return "locks (user side)";
    return "other libc / libstdc++";
}

std::string shorten(std::string symbol, size_t max) {
    if (symbol.size() > max) symbol = symbol.substr(0, max - 1) + "…";
    for (char& ch : symbol)
        if (ch == '|') ch = '/';
    return symbol;
}

// The profile of one run, as shares per category and CPU per ack.
struct ProfileSummary {
    std::map<std::string, double> reference, controller;  // % of samples
    std::vector<std::string> order;                       // by the controller's share
    Num us_reference, us_controller;                      // server CPU per ack in those runs
    bool present = false;
};

ProfileSummary profile_of(const std::string& dir) {
    ProfileSummary p;
    const std::vector<Sample> ref = read_profile(read_text(dir + "/profile.reference.txt"));
    const std::vector<Sample> host = read_profile(read_text(dir + "/profile.postgres.txt"));
    if (ref.empty() || host.empty()) return p;
    p.present = true;
    p.us_reference = at(load(dir, "profile.reference.load"), "server.cpu_us_per_ack");
    p.us_controller = at(load(dir, "profile.postgres.load"), "server.cpu_us_per_ack");
    for (const auto& [samples, share] :
         {std::pair{&ref, &p.reference}, std::pair{&host, &p.controller}}) {
        for (const Sample& x : *samples) {
            const std::string c = category_of(x);
            if (std::find(p.order.begin(), p.order.end(), c) == p.order.end()) p.order.push_back(c);
            (*share)[c] += x.percent;
        }
    }
    std::sort(p.order.begin(), p.order.end(), [&](const std::string& x, const std::string& y) {
        return p.controller[x] > p.controller[y];
    });
    return p;
}

Num per_ack(double percent, Num us) {
    return us ? Num(percent / 100 * *us) : Num();
}

// (a) of one run: each server's median round.
struct ClosedLoop {
    json round[3];  // reference, sqlite, postgres
    std::vector<json> rounds[3];
    int count = 0;
};

ClosedLoop closed_loop_of(const std::string& dir, const json& settings) {
    ClosedLoop c;
    c.count = static_cast<int>(at(settings, "a.rounds").value_or(1));
    const char* targets[] = {"reference", "sqlite", "postgres"};
    for (int t = 0; t < 3; ++t) {
        for (int r = 1; r <= c.count; ++r)
            c.rounds[t].push_back(load(dir, std::string(targets[t]) + ".a." + std::to_string(r)));
        c.round[t] = median_round(c.rounds[t]);
    }
    return c;
}

// Earlier runs of this benchmark kept with the sources (bench/baseline/NAME/,
// their raw results), against this one: what the optimizations changed.
void write_history(const std::string& baseline_dir, const std::string& dir, const json& settings,
                   std::ostream& out) {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::vector<std::string> earlier;
    for (const auto& entry : fs::directory_iterator(baseline_dir, ec))
        if (entry.is_directory() && fs::exists(entry.path() / "settings.json"))
            earlier.push_back(entry.path().string());
    if (earlier.empty()) return;
    std::sort(earlier.begin(), earlier.end());
    struct Run {
        std::string label, dir;
        json settings;
        ClosedLoop a;
        ProfileSummary profile;
    };
    std::vector<Run> runs;
    for (const std::string& d : earlier) {
        const json st = load(d, "settings");
        runs.push_back(
            {fs::path(d).filename().string(), d, st, closed_loop_of(d, st), profile_of(d)});
    }
    runs.push_back({"this run", dir, settings, closed_loop_of(dir, settings), profile_of(dir)});

    out << "\n## Before and after\n\n";
    out << "Earlier runs of the same benchmark, their raw results kept in `bench/baseline/` "
           "and rendered here by the same code, next to this run. Each run's load differed "
           "(see its load average), so compare the ratios and the CPU per ack rather than "
           "raw acks/s.\n\n";
    for (const Run& r : runs) {
        const std::string about = read_text(r.dir + "/about.md");
        if (!about.empty()) out << "- " << r.label << ": " << about;
    }
    out << "\n";
    out << "|";
    for (const Run& r : runs) out << " | " << r.label;
    out << " |\n|---|";
    for (size_t i = 0; i < runs.size(); ++i) out << "--:|";
    out << "\n";
    auto row = [&](const std::string& name, const std::function<std::string(const Run&)>& cell) {
        out << "| " << name;
        for (const Run& r : runs) out << " | " << cell(r);
        out << " |\n";
    };
    row("commit", [](const Run& r) { return "`" + r.settings.value("commit", "") + "`"; });
    row("mode, date", [](const Run& r) {
        return r.settings.value("mode", "") + ", " + r.settings.value("date", "");
    });
    row("load average at the start",
        [](const Run& r) { return r.settings.value("load_average", "?"); });
    const char* names[] = {"reference", "SQLite", "PostgreSQL"};
    for (int t = 0; t < 3; ++t)
        row(std::string("(a) acks/s, ") + names[t],
            [t](const Run& r) { return fmt(at(r.a.round[t], "acks_per_sec"), 0); });
    for (int t = 1; t < 3; ++t)
        row(std::string("(a) ") + names[t] + " / reference", [t](const Run& r) {
            return times(ratio(at(r.a.round[t], "acks_per_sec"), at(r.a.round[0], "acks_per_sec")));
        });
    for (int t = 0; t < 3; ++t)
        row(std::string("(a) server CPU per ack (µs), ") + names[t],
            [t](const Run& r) { return fmt(at(r.a.round[t], "server.cpu_us_per_ack"), 1); });
    row("(a) PostgreSQL ack p99 (ms)",
        [](const Run& r) { return fmt(at(r.a.round[2], "latency.p99_ms"), 1); });
    const char* files[] = {"reference.b", "sqlite.b", "postgres.b"};
    for (int t = 0; t < 3; ++t) {
        row(std::string("(b) connections established, ") + names[t],
            [&, t](const Run& r) { return fmt(at(load(r.dir, files[t]), "established"), 0); });
    }
    for (int t = 0; t < 3; ++t) {
        row(std::string("(b) handshakes retried during the ramp, ") + names[t],
            [&, t](const Run& r) { return fmt(at(load(r.dir, files[t]), "retries"), 0); });
    }
    for (int t = 0; t < 3; ++t) {
        row(std::string("(b) server RSS per connection (KiB), ") + names[t], [&, t](const Run& r) {
            return fmt(at(load(r.dir, files[t]), "server.rss_per_connection_kb"), 1);
        });
    }
    row("profile: controller CPU per ack (µs)",
        [](const Run& r) { return fmt(r.profile.us_controller, 1); });
    std::vector<std::string> categories;
    for (const Run& r : runs)
        for (const std::string& c : r.profile.order)
            if (std::find(categories.begin(), categories.end(), c) == categories.end())
                categories.push_back(c);
    for (const std::string& c : categories)
        row("profile: " + c + " (µs/ack)", [&c](const Run& r) {
            auto it = r.profile.controller.find(c);
            return fmt(per_ack(it == r.profile.controller.end() ? 0.0 : it->second,
                               r.profile.us_controller),
                       2);
        });
}

}  // namespace

int write_report(const std::string& dir, std::ostream& out) {
    const json settings = load(dir, "settings");
    if (settings.is_null()) {
        out << "# Benchmarks\n\nNo results: " << dir << "/settings.json is missing.\n";
        return 1;
    }
    const ClosedLoop closed = closed_loop_of(dir, settings);
    const int a_rounds = closed.count;
    const std::vector<json>* rounds = closed.rounds;  // reference, sqlite, postgres
    const json ref_a = closed.round[0], ref_b = load(dir, "reference.b");
    const char* backends[] = {"sqlite", "postgres"};
    json a[2], b[2], c[2], e[2], e_fresh[2], e_live[2], f_first[2], f_empty[2], f_full[2];
    for (int i = 0; i < 2; ++i) {
        const std::string k = backends[i];
        a[i] = closed.round[i + 1];
        b[i] = load(dir, k + ".b");
        c[i] = load(dir, k + ".c");
        e[i] = load(dir, k + ".e");
        e_fresh[i] = load(dir, k + ".e_fresh");
        e_live[i] = load(dir, k + ".e_live");
        f_first[i] = load(dir, k + ".f_first");
        f_empty[i] = load(dir, k + ".f_empty");
        f_full[i] = load(dir, k + ".f_50k");
    }
    const bool quick = settings.value("mode", "") == "quick";
    const double b_conns = at(settings, "b.connections").value_or(0);
    const double seeded = at(settings, "seeded").value_or(0);

    // ---- verdicts ----
    const Num a_ratio_sqlite = ratio(at(a[0], "acks_per_sec"), at(ref_a, "acks_per_sec"));
    const Num a_ratio_pg = ratio(at(a[1], "acks_per_sec"), at(ref_a, "acks_per_sec"));
    const auto a_pass = check(a_ratio_pg, at_least, 0.7);

    Num rss_ratio[2], b_p99[2];
    std::optional<bool> held[2];
    for (int i = 0; i < 2; ++i) {
        rss_ratio[i] = ratio(at(b[i], "server.rss_per_connection_kb"),
                             at(ref_b, "server.rss_per_connection_kb"));
        b_p99[i] = at(b[i], "latency.p99_ms");
        const Num est = at(b[i], "established");
        if (est) held[i] = *est >= b_conns && at(b[i], "closed_early").value_or(1) == 0;
    }
    const auto rss_pass =
        both(check(rss_ratio[0], at_most, 2.0), check(rss_ratio[1], at_most, 2.0));
    auto p99_pass = both(check(b_p99[0], at_most, 10.0), check(b_p99[1], at_most, 10.0));
    if (p99_pass && !(held[0].value_or(false) && held[1].value_or(false))) p99_pass = false;

    // (c): the same heartbeat interval at 1,000 orchestrators (c) and at the
    // big fleet (b); (a) adds the closed loop's far higher rate.
    Num stmts_1k[2], stmts_19k[2], stmts_a[2], rows_1k[2], rows_19k[2];
    std::optional<bool> flat[2];
    const double c_window = at(settings, "c.duration").value_or(1);
    const double b_window = at(settings, "b.duration").value_or(1);
    for (int i = 0; i < 2; ++i) {
        stmts_1k[i] = at(c[i], "metrics.rates.moolai_heartbeat_batches_total_per_sec");
        stmts_19k[i] = at(b[i], "metrics.rates.moolai_heartbeat_batches_total_per_sec");
        stmts_a[i] = at(a[i], "metrics.rates.moolai_heartbeat_batches_total_per_sec");
        rows_1k[i] = at(c[i], "metrics.rates.moolai_heartbeat_rows_total_per_sec");
        rows_19k[i] = at(b[i], "metrics.rates.moolai_heartbeat_rows_total_per_sec");
        // "Flat": no more statements per second at the big fleet than at the
        // small one, give or take the one batch each window's edges can cut.
        if (stmts_1k[i] && stmts_19k[i])
            flat[i] = *stmts_19k[i] <= *stmts_1k[i] + 1 / c_window + 1 / b_window;
    }
    const auto flat_pass = both(flat[0], flat[1]);

    Num toggle_p50[2], toggle_p99[2];
    std::optional<bool> toggle_ok[2];
    for (int i = 0; i < 2; ++i) {
        toggle_p50[i] = at(b[i], "toggles.stop_monitoring.p50_ms");
        toggle_p99[i] = at(b[i], "toggles.stop_monitoring.p99_ms");
        toggle_ok[i] = check(toggle_p99[i], at_most, 50.0);
        if (toggle_ok[i] && (at(b[i], "toggles.missed").value_or(1) != 0 ||
                             at(b[i], "toggles.refused").value_or(1) != 0))
            toggle_ok[i] = false;
    }
    const auto toggle_pass = both(toggle_ok[0], toggle_ok[1]);

    Num list_p50[2], list_p99[2], start_empty[2], start_full[2];
    for (int i = 0; i < 2; ++i) {
        list_p50[i] = at(e[i], "latency.p50_ms");
        list_p99[i] = at(e[i], "latency.p99_ms");
        start_empty[i] = at(f_empty[i], "ready_ms_median");
        start_full[i] = at(f_full[i], "ready_ms_median");
    }
    auto list_pass = both(check(list_p99[0], at_most, 20.0), check(list_p99[1], at_most, 20.0));
    const auto empty_pass =
        both(check(start_empty[0], at_most, 300.0), check(start_empty[1], at_most, 300.0));
    const auto full_pass =
        both(check(start_full[0], at_most, 3000.0), check(start_full[1], at_most, 3000.0));

    // ---- the table ----
    const std::string a_name = "(a) closed loop, " + fmt(at(settings, "a.connections"), 0) +
                               " connections, " + fmt(at(settings, "a.in_flight"), 0) +
                               " in flight";
    const std::string b_name = "(b) " + fmt(b_conns, 0) + " orchestrators, 1 heartbeat / " +
                               fmt(at(settings, "b.interval_ms").value_or(0) / 1000, 0) + " s";
    const std::string c_name = "(c) database writes caused by heartbeats (1 / " +
                               fmt(at(settings, "b.interval_ms").value_or(0) / 1000, 0) +
                               " s each)";
    auto sq = [](const json* arr, const std::string& path) { return at(arr[0], path); };
    auto pg = [](const json* arr, const std::string& path) { return at(arr[1], path); };
    std::vector<Row> rows = {
        {a_name, "acks/s", at(ref_a, "acks_per_sec"), sq(a, "acks_per_sec"), pg(a, "acks_per_sec"),
         0, true, "PostgreSQL ≥ 0.70× ref", verdict(a_pass)},
        {a_name, "ack latency p50 (ms)", at(ref_a, "latency.p50_ms"), sq(a, "latency.p50_ms"),
         pg(a, "latency.p50_ms"), 2, true, "", ""},
        {a_name, "ack latency p99 (ms)", at(ref_a, "latency.p99_ms"), sq(a, "latency.p99_ms"),
         pg(a, "latency.p99_ms"), 2, true, "", ""},
        {a_name, "ack latency max (ms)", at(ref_a, "latency.max_ms"), sq(a, "latency.max_ms"),
         pg(a, "latency.max_ms"), 1, false, "", ""},
        {a_name, "server CPU (% of one core)", at(ref_a, "server.cpu_pct"), sq(a, "server.cpu_pct"),
         pg(a, "server.cpu_pct"), 0, false, "", ""},
        {a_name, "load generator CPU (% of one core)", at(ref_a, "client.cpu_pct"),
         sq(a, "client.cpu_pct"), pg(a, "client.cpu_pct"), 0, false, "", ""},
        {b_name, "connections established", at(ref_b, "established"), sq(b, "established"),
         pg(b, "established"), 0, false, "all " + fmt(b_conns, 0), ""},
        {b_name, "connections failed + dropped",
         ref_b.is_null()
             ? Num()
             : Num(at(ref_b, "failed").value_or(0) + at(ref_b, "closed_early").value_or(0)),
         b[0].is_null() ? Num()
                        : Num(sq(b, "failed").value_or(0) + sq(b, "closed_early").value_or(0)),
         b[1].is_null() ? Num()
                        : Num(pg(b, "failed").value_or(0) + pg(b, "closed_early").value_or(0)),
         0, false, "0", ""},
        {b_name, "ramp-up time (s)", at(ref_b, "ramp_sec"), sq(b, "ramp_sec"), pg(b, "ramp_sec"), 1,
         false, "", ""},
        {b_name, "handshakes retried during the ramp", at(ref_b, "retries"), sq(b, "retries"),
         pg(b, "retries"), 0, false, "", ""},
        {b_name, "server RSS per connection (KiB)", at(ref_b, "server.rss_per_connection_kb"),
         sq(b, "server.rss_per_connection_kb"), pg(b, "server.rss_per_connection_kb"), 1, true,
         "≤ 2.0× ref", verdict(rss_pass)},
        {b_name, "server RSS, fleet connected (MiB)",
         at(ref_b, "server.rss_connected_kb").has_value()
             ? Num(*at(ref_b, "server.rss_connected_kb") / 1024)
             : Num(),
         sq(b, "server.rss_connected_kb").has_value()
             ? Num(*sq(b, "server.rss_connected_kb") / 1024)
             : Num(),
         pg(b, "server.rss_connected_kb").has_value()
             ? Num(*pg(b, "server.rss_connected_kb") / 1024)
             : Num(),
         0, false, "", ""},
        {b_name, "acks/s", at(ref_b, "acks_per_sec"), sq(b, "acks_per_sec"), pg(b, "acks_per_sec"),
         0, false, "", ""},
        {b_name, "ack latency p50 (ms)", at(ref_b, "latency.p50_ms"), sq(b, "latency.p50_ms"),
         pg(b, "latency.p50_ms"), 2, false, "", ""},
        {b_name, "ack latency p99 (ms)", at(ref_b, "latency.p99_ms"), sq(b, "latency.p99_ms"),
         pg(b, "latency.p99_ms"), 2, false, "≤ 10 ms", verdict(p99_pass)},
        {b_name, "ack latency max (ms)", at(ref_b, "latency.max_ms"), sq(b, "latency.max_ms"),
         pg(b, "latency.max_ms"), 1, false, "", ""},
        {b_name, "server CPU (% of one core)", at(ref_b, "server.cpu_pct"), sq(b, "server.cpu_pct"),
         pg(b, "server.cpu_pct"), 1, false, "", ""},
        {c_name, "write transactions/s at " + fmt(at(settings, "c.connections"), 0) + " orchestrators",
         Num(), stmts_1k[0], stmts_1k[1], 2, false, "", ""},
        {c_name, "write transactions/s at " + fmt(b_conns, 0) + " orchestrators (b)", Num(), stmts_19k[0],
         stmts_19k[1], 2, false, "flat", verdict(flat_pass)},
        {c_name, "rows written/s at " + fmt(at(settings, "c.connections"), 0), Num(), rows_1k[0],
         rows_1k[1], 0, false, "", ""},
        {c_name, "rows written/s at " + fmt(b_conns, 0), Num(), rows_19k[0], rows_19k[1], 0, false,
         "", ""},
        {c_name, "server side: commits/s at " + fmt(at(settings, "c.connections"), 0), Num(), Num(),
         pg(c, "probe.rates.xact_commit_per_sec"), 2, false, "", ""},
        {c_name, "server side: commits/s at " + fmt(b_conns, 0), Num(), Num(),
         pg(b, "probe.rates.xact_commit_per_sec"), 2, false, "", ""},
        {c_name, "server side: rows updated/s at " + fmt(b_conns, 0), Num(), Num(),
         pg(b, "probe.rates.tup_updated_per_sec"), 0, false, "", ""},
        {c_name,
         "write transactions/s during (a): " + fmt(sq(a, "acks_per_sec"), 0) + " / " +
             fmt(pg(a, "acks_per_sec"), 0) + " heartbeats/s",
         Num(), stmts_a[0], stmts_a[1], 2, false, "", ""},
        {"(d) independence toggle → stop_monitoring, during (b)", "p50 (ms)", Num(), toggle_p50[0],
         toggle_p50[1], 2, false, "", ""},
        {"(d) independence toggle → stop_monitoring, during (b)", "p99 (ms)", Num(), toggle_p99[0],
         toggle_p99[1], 2, false, "≤ 50 ms", verdict(toggle_pass)},
        {"(e) GET /api/v1/controller/orchestrators, " + fmt(seeded, 0) + " stored", "p50 (ms)",
         Num(), list_p50[0], list_p50[1], 2, false, "", ""},
        {"(e) GET /api/v1/controller/orchestrators, " + fmt(seeded, 0) + " stored", "p99 (ms)",
         Num(), list_p99[0], list_p99[1], 2, false, "≤ 20 ms", verdict(list_pass)},
        {"(e) GET /api/v1/controller/orchestrators, " + fmt(seeded, 0) + " stored",
         "p99 (ms), right after the bulk insert (before the first VACUUM)", Num(),
         at(e_fresh[0], "latency.p99_ms"), at(e_fresh[1], "latency.p99_ms"), 2, false, "", ""},
        {"(e) GET /api/v1/controller/orchestrators, " + fmt(seeded, 0) + " stored",
         "p50 (ms) while the fleet of (b) heartbeats", Num(), at(e_live[0], "latency.p50_ms"),
         at(e_live[1], "latency.p50_ms"), 2, false, "", ""},
        {"(e) GET /api/v1/controller/orchestrators, " + fmt(seeded, 0) + " stored",
         "p99 (ms) while the fleet of (b) heartbeats", Num(), at(e_live[0], "latency.p99_ms"),
         at(e_live[1], "latency.p99_ms"), 2, false, "", ""},
        {"(f) start-up to ready", "empty database, median (ms)", Num(), start_empty[0],
         start_empty[1], 0, false, "≤ 300 ms", verdict(empty_pass)},
        {"(f) start-up to ready", fmt(seeded, 0) + " stored, median (ms)", Num(), start_full[0],
         start_full[1], 0, false, "≤ 3,000 ms", verdict(full_pass)},
        {"(f) start-up to ready", "first start: creates the schema (ms)", Num(),
         at(f_first[0], "ready_ms_median"), at(f_first[1], "ready_ms_median"), 0, false, "", ""},
    };

    out << "# Benchmarks\n\n";
    out << "<!-- Generated by bench/run.sh from its own measurements. Do not edit: run it again. "
           "-->\n\n";
    out << "| | |\n|---|---|\n";
    out << "| command | `" << settings.value("command", "") << "` |\n";
    out << "| mode | " << settings.value("mode", "")
        << (quick ? " (smaller fleet, shorter windows: for iteration, not for claims)"
                  : " (the issue's sizes)")
        << " |\n";
    out << "| date | " << settings.value("date", "") << " |\n";
    out << "| commit | `" << settings.value("commit", "") << "` |\n";
    out << "| machine | " << settings.value("cpu_model", "") << ", " << settings.value("cores", 0)
        << " cores; memory: " << settings.value("memory", "") << " |\n";
    out << "| run time | " << fmt(at(settings, "elapsed_sec"), 0) << " s |\n\n";
    out << "The load generator runs on the same " << settings.value("cores", 0)
        << " cores as the server it measures (and other work on the machine may share them too: "
           "the load average was "
        << settings.value("load_average", "?")
        << " when the run started). Absolute numbers are therefore low and noisy; the "
           "ratios to the reference server, measured in the same run under the same "
           "conditions, are the claim.\n\n";

    out << "## Results\n\n";
    out << "| scenario | metric | reference | host, SQLite | host, PostgreSQL | SQLite / ref | "
           "PostgreSQL / ref | target | result |\n";
    out << "|---|---|--:|--:|--:|--:|--:|---|---|\n";
    std::string last;
    for (const Row& r : rows) {
        out << "| " << (r.scenario == last ? "" : r.scenario) << " | " << r.metric << " | "
            << fmt(r.ref, r.decimals) << " | " << fmt(r.sqlite, r.decimals) << " | "
            << fmt(r.postgres, r.decimals) << " | "
            << (r.ratios ? times(ratio(r.sqlite, r.ref)) : "") << " | "
            << (r.ratios ? times(ratio(r.postgres, r.ref)) : "") << " | " << r.target << " | "
            << r.result << " |\n";
        last = r.scenario;
    }
    if (a_rounds > 1) {
        out << "\n(a) ran in " << a_rounds
            << " rounds, the three servers taking turns; the table shows each server's median "
               "round. Every round:\n\n";
        out << "| round | reference acks/s | SQLite acks/s | PostgreSQL acks/s | SQLite / ref | "
               "PostgreSQL / ref |\n|--:|--:|--:|--:|--:|--:|\n";
        for (int r = 0; r < a_rounds; ++r) {
            const Num x = at(rounds[0][static_cast<size_t>(r)], "acks_per_sec");
            const Num y = at(rounds[1][static_cast<size_t>(r)], "acks_per_sec");
            const Num z = at(rounds[2][static_cast<size_t>(r)], "acks_per_sec");
            out << "| " << r + 1 << " | " << fmt(x, 0) << " | " << fmt(y, 0) << " | " << fmt(z, 0)
                << " | " << times(ratio(y, x)) << " | " << times(ratio(z, x)) << " |\n";
        }
    }
    out << "\n\"—\": does not apply (the reference server has no REST API and no database) "
           "or was not measured.\n\n";

    out << "## Targets\n\n";
    auto line = [&](const std::string& what, std::optional<bool> pass,
                    const std::string& measured) {
        out << "- " << verdict(pass) << " " << what << ": " << measured << "\n";
    };
    line("(a) ≥ 0.7× the reference's acks/s with PostgreSQL storage", a_pass,
         "PostgreSQL " + times(a_ratio_pg) + " (" + fmt(at(a[1], "acks_per_sec"), 0) + " vs " +
             fmt(at(ref_a, "acks_per_sec"), 0) + " acks/s); SQLite " + times(a_ratio_sqlite));
    line("(b) RSS per connection ≤ 2× the reference's", rss_pass,
         "SQLite " + times(rss_ratio[0]) + ", PostgreSQL " + times(rss_ratio[1]) + " (reference " +
             fmt(at(ref_b, "server.rss_per_connection_kb"), 1) + " KiB)");
    line("(b) ack p99 ≤ 10 ms at " + fmt(b_conns, 0) + " orchestrators, all of them connected",
         p99_pass,
         "SQLite " + fmt(b_p99[0], 2) + " ms (" + fmt(at(b[0], "established"), 0) +
             " connected), PostgreSQL " + fmt(b_p99[1], 2) + " ms (" +
             fmt(at(b[1], "established"), 0) + " connected)");
    line("(c) heartbeat writes flat as the fleet grows", flat_pass,
         "SQLite " + fmt(stmts_1k[0], 2) + " → " + fmt(stmts_19k[0], 2) + ", PostgreSQL " +
             fmt(stmts_1k[1], 2) + " → " + fmt(stmts_19k[1], 2) +
             " transactions/s, two statements each");
    line("(d) toggle → stop_monitoring p99 ≤ 50 ms", toggle_pass,
         "SQLite " + fmt(toggle_p99[0], 2) + " ms, PostgreSQL " + fmt(toggle_p99[1], 2) + " ms");
    line("(e) orchestrators page p99 ≤ 20 ms with " + fmt(seeded, 0) + " stored", list_pass,
         "SQLite " + fmt(list_p99[0], 2) + " ms, PostgreSQL " + fmt(list_p99[1], 2) + " ms");
    line("(f) ready ≤ 300 ms with an empty database", empty_pass,
         "SQLite " + fmt(start_empty[0], 0) + " ms, PostgreSQL " + fmt(start_empty[1], 0) + " ms");
    line("(f) ready ≤ 3 s with " + fmt(seeded, 0) + " stored", full_pass,
         "SQLite " + fmt(start_full[0], 0) + " ms, PostgreSQL " + fmt(start_full[1], 0) + " ms");
    if (quick)
        out << "\nQuick mode: (b) used " << fmt(b_conns, 0)
            << " orchestrators, not the issue's 19,000, and shorter windows; the verdicts above "
               "hold for this run only.\n";
    out << "\n";

    out << "## How it was measured\n\n";
    out << "- Server threads: the controller's WebSocket io threads and the reference's are both "
        << settings.value("server_threads", 0) << " (= cores). The load generator uses "
        << settings.value("client_threads", 0) << " io thread(s) for all its connections.\n";
    out << "- (a): " << fmt(at(settings, "a.connections"), 0) << " connections, each with "
        << fmt(at(settings, "a.in_flight"), 0)
        << " i_am_alive in flight (the next leaves when the ack arrives); ramp "
        << fmt(at(settings, "a.ramp"), 0) << "/s, " << fmt(at(settings, "a.warmup"), 0)
        << " s warm-up, then a " << fmt(at(settings, "a.duration"), 0) << " s window.\n";
    out << "- (b): " << fmt(b_conns, 0) << " connections ramped in at "
        << fmt(at(settings, "b.ramp"), 0)
        << "/s, open loop: every connection sends one i_am_alive per "
        << fmt(at(settings, "b.interval_ms").value_or(0) / 1000, 0)
        << " s on a fixed schedule with a random phase; latency counts from the scheduled send "
           "time. "
        << fmt(at(settings, "b.warmup"), 0) << " s after the last registration, a "
        << fmt(at(settings, "b.duration"), 0)
        << " s window. RSS per connection = (server RSS with the fleet connected − RSS before "
           "the first connection) ÷ connections. A handshake or register that fails during the "
           "ramp (a server busy with the ramp drops some) is tried again after 1, 2, 3, 4 s "
           "plus jitter, as the orchestrator client library reconnects; \"failed\" counts "
           "connections still without provisioning after 5 attempts.\n";
    out << "- (c): " << fmt(at(settings, "c.connections"), 0)
        << " orchestrators at the interval of (b), a " << fmt(at(settings, "c.duration"), 0)
        << " s window after the same warm-up, against the window of (b). Transactions and rows "
           "are the controller's own counters `moolai_heartbeat_batches_total` (one "
           "transaction of two statements each in both storage plugins: the upsert of "
           "`last_seen` into `orchestrator_liveness`, the update of the rows whose status "
           "changed) and `moolai_heartbeat_rows_total` from `GET /metrics`, read before "
           "and after each window. For PostgreSQL also the server's view, "
           "`pg_stat_database.xact_commit` and `tup_updated` of the benchmark's database "
           "(it counts the probe's own query too; PostgreSQL publishes a busy session's counts "
           "about once a second and an idle one's within 10 s, hence the "
        << fmt(at(settings, "b.warmup"), 0) << " s warm-up before these windows).\n";
    out << "  At the fleet of (b) the server-side commits also count the read transactions of the "
           "page requests of (e) made during that window (one per request); the controller's "
           "own counter does not.\n";
    out << "- (d): after the window of (b), with the fleet still connected and heartbeating, "
        << fmt(at(settings, "b.toggles"), 0)
        << " times: `PUT /api/v1/internal/orchestrators/{id}/independence` "
           "`{\"is_independent\":true}` for a connected orchestrator, timed from just before "
           "the request is written to the arrival of `stop_monitoring` on that orchestrator's "
           "connection; then back to false (waiting for `config_update`), 20 ms apart.\n";
    out << "- (e): " << fmt(at(settings, "e.requests"), 0)
        << " sequential `GET /api/v1/controller/orchestrators?page=N&page_size=50` on one "
           "keep-alive connection, N random over all pages, after 10 unmeasured requests, "
           "with no other load. PostgreSQL: first right after the bulk insert (no page of "
           "the table marked all-visible yet, so every row the page query passes is checked "
           "in the heap), then after `VACUUM ANALYZE orchestrator_instances` -- what "
           "autovacuum does by itself soon after such an insert, the state a stored fleet "
           "lives in; the target is read from the second. Then once more on both backends "
           "while the fleet of (b) is connected and heartbeating (started a few seconds into "
           "its window), shown for information.\n";
    out << "- (f): the time from fork/exec of `moolai-controller` to the first 200 from "
           "`GET /api/v1/controller/health` (polled every 2 ms); the median of "
        << fmt(at(settings, "f.runs"), 0)
        << " starts. \"Empty\": the schema exists, no orchestrator. The first start, which "
           "creates the schema, is shown for information.\n";
    out << "- Orchestrators: " << settings.value("auth_mode_note", "") << " The insert took "
        << fmt(at(load(dir, "sqlite.seed"), "seconds"), 1) << " s on SQLite and "
        << fmt(at(load(dir, "postgres.seed"), "seconds"), 1) << " s on PostgreSQL.\n";
    out << "- Build: " << settings.value("build", "") << "\n\n";

    const std::string doc_dir = settings.value("doc_dir", "");
    out << "## Profile of the heartbeat path\n\n";
    out << read_text(doc_dir + "/profile.md");
    const ProfileSummary prof = profile_of(dir);
    if (prof.present) {
        out << "\n### This run: where the server's CPU goes under the load of (a)\n\n";
        out << "`perf record -F 499` of the whole server process (every thread) for "
            << fmt(at(settings, "profile_sec"), 0)
            << " s while it carried the load of (a); the controller with PostgreSQL storage. "
               "Server CPU per ack in those runs: reference "
            << fmt(prof.us_reference, 1) << " µs, controller " << fmt(prof.us_controller, 1)
            << " µs (kernel time included). µs per ack below = share × that.\n\n";
        out << "| where | reference % | reference µs/ack | controller % | controller µs/ack | "
               "controller − reference, µs/ack |\n|---|--:|--:|--:|--:|--:|\n";
        for (const std::string& c : prof.order) {
            const double rs = prof.reference.count(c) ? prof.reference.at(c) : 0.0;
            const double hs = prof.controller.count(c) ? prof.controller.at(c) : 0.0;
            const Num r = per_ack(rs, prof.us_reference), h = per_ack(hs, prof.us_controller);
            out << "| " << c << " | " << fmt(rs, 1) << " | " << fmt(r, 2) << " | " << fmt(hs, 1)
                << " | " << fmt(h, 2) << " | " << (r && h ? fmt(*h - *r, 2) : "—") << " |\n";
        }
        const std::vector<Sample> host = read_profile(read_text(dir + "/profile.postgres.txt"));
        out << "\nThe controller's 25 busiest symbols (self time):\n\n"
               "| % | where | symbol |\n|--:|---|---|\n";
        for (size_t i = 0; i < host.size() && i < 25; ++i)
            out << "| " << fmt(host[i].percent, 2) << " | " << category_of(host[i]) << " | `"
                << shorten(host[i].symbol, 110) << "` |\n";
    }
    write_history(settings.value("baseline_dir", ""), dir, settings, out);
    return 0;
}

}  // namespace moolai::bench
