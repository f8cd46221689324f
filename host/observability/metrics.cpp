#include "observability/metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace moolai::host {

void Metric::add(double delta) noexcept {
    double cur = value_.load(std::memory_order_relaxed);
    while (!value_.compare_exchange_weak(cur, cur + delta, std::memory_order_relaxed)) {
    }
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
    if (bounds_.size() > kMaxBuckets || !std::is_sorted(bounds_.begin(), bounds_.end()))
        throw std::invalid_argument("histogram bounds: ascending, at most 16");
}

void Histogram::observe(double value) noexcept {
    const size_t i = static_cast<size_t>(
        std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.add(value);
}

uint64_t Histogram::count() const noexcept {
    uint64_t n = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) n += bucket(i);
    return n;
}

std::vector<double> latency_buckets() {
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
            0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5,  10};
}

bool Metrics::valid_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 200) return false;
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool ok = (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return true;
}

std::string Metrics::label_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

Metrics::Family* Metrics::family(std::string_view name, std::string_view help, Kind kind) {
    auto it = families_.find(name);
    if (it == families_.end())
        it = families_.emplace(std::string(name), Family{kind, std::string(help), {}, {}}).first;
    // One name, one type: a mismatch is refused rather than rendered twice.
    return it->second.kind == kind ? &it->second : nullptr;
}

Metric* Metrics::value(std::string_view name, std::string_view help, Kind kind,
                       std::string_view labels) {
    if (!valid_name(name)) return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    Family* f = family(name, help, kind);
    if (f == nullptr) return nullptr;
    auto it = f->values.find(labels);
    if (it == f->values.end())
        it = f->values.emplace(std::string(labels), std::make_unique<Metric>()).first;
    return it->second.get();
}

Metric* Metrics::counter(std::string_view name, std::string_view help) {
    return value(name, help, Kind::counter, "");
}
Metric* Metrics::gauge(std::string_view name, std::string_view help) {
    return value(name, help, Kind::gauge, "");
}
Metric* Metrics::gauge_with(std::string_view name, std::string_view help,
                            std::string_view labels) {
    return value(name, help, Kind::gauge, labels);
}

Metric* Metrics::counter_with(std::string_view name, std::string_view help,
                              std::string_view labels) {
    return value(name, help, Kind::counter, labels);
}

Histogram* Metrics::histogram(std::string_view name, std::string_view help,
                              std::string_view labels, const std::vector<double>& bounds) {
    if (!valid_name(name)) return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    Family* f = family(name, help, Kind::histogram);
    if (f == nullptr) return nullptr;
    auto it = f->histograms.find(labels);
    if (it == f->histograms.end())
        it = f->histograms.emplace(std::string(labels), std::make_unique<Histogram>(bounds)).first;
    return it->second.get();
}

namespace {

std::string number(double v) {
    char num[64];
    std::snprintf(num, sizeof num, "%.17g", v);
    return num;
}

std::string with_labels(const std::string& name, const std::string& labels,
                        const std::string& extra = "") {
    std::string l = labels;
    if (!extra.empty()) l += (l.empty() ? "" : ",") + extra;
    return l.empty() ? name : name + "{" + l + "}";
}

}  // namespace

std::string Metrics::render_prometheus() const {
    std::string out;
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [name, f] : families_) {
        if (!f.help.empty()) out += "# HELP " + name + " " + f.help + "\n";
        out += "# TYPE " + name +
               (f.kind == Kind::counter ? " counter\n"
                : f.kind == Kind::gauge ? " gauge\n"
                                        : " histogram\n");
        for (const auto& [labels, m] : f.values)
            out += with_labels(name, labels) + " " + number(m->value()) + "\n";
        for (const auto& [labels, h] : f.histograms) {
            uint64_t cumulative = 0;
            for (size_t i = 0; i < h->bounds().size(); ++i) {
                cumulative += h->bucket(i);
                out += with_labels(name + "_bucket", labels, "le=\"" + number(h->bounds()[i]) + "\"") +
                       " " + std::to_string(cumulative) + "\n";
            }
            cumulative += h->bucket(h->bounds().size());
            out += with_labels(name + "_bucket", labels, "le=\"+Inf\"") + " " +
                   std::to_string(cumulative) + "\n";
            out += with_labels(name + "_sum", labels) + " " + number(h->sum()) + "\n";
            out += with_labels(name + "_count", labels) + " " + std::to_string(cumulative) + "\n";
        }
    }
    return out;
}

void update_process_metrics(Metrics& metrics) {
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    // /proc/self/stat: fields after the ")" that ends the command name.
    std::ifstream stat("/proc/self/stat");
    std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const size_t paren = all.rfind(')');
    if (paren != std::string::npos) {
        std::istringstream in(all.substr(paren + 2));
        std::vector<std::string> f;
        for (std::string s; in >> s;) f.push_back(s);
        // Field numbers of proc(5) minus 3: state is field 3.
        if (f.size() > 21) {
            const double utime = std::stod(f[11]), stime = std::stod(f[12]);
            metrics.counter("process_cpu_seconds_total", "User and system CPU time spent, seconds")
                ->set((utime + stime) / tick);
            metrics.gauge("process_virtual_memory_bytes", "Virtual memory size, bytes")
                ->set(std::stod(f[20]));
            metrics.gauge("process_resident_memory_bytes", "Resident memory size, bytes")
                ->set(std::stod(f[21]) * page);
            std::ifstream up("/proc/stat");
            for (std::string line; std::getline(up, line);) {
                if (line.rfind("btime ", 0) == 0) {
                    metrics
                        .gauge("process_start_time_seconds",
                               "Start time of the process since the Unix epoch, seconds")
                        ->set(std::stod(line.substr(6)) + std::stod(f[19]) / tick);
                    break;
                }
            }
        }
    }
    size_t fds = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
        while (const dirent* e = readdir(d)) fds += e->d_name[0] != '.' ? 1 : 0;
        closedir(d);
        metrics.gauge("process_open_fds", "Open file descriptors")
            ->set(static_cast<double>(fds > 0 ? fds - 1 : 0));  // minus the one reading the dir
    }
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        metrics.gauge("process_max_fds", "Limit of open file descriptors")
            ->set(static_cast<double>(rl.rlim_cur));
}

}  // namespace moolai::host
