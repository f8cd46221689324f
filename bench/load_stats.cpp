#include "load_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <numeric>
#include <sstream>

namespace moolai::bench {

LatencySummary summarize(std::vector<uint32_t> micros) {
    LatencySummary s;
    s.samples = micros.size();
    if (micros.empty()) return s;
    std::sort(micros.begin(), micros.end());
    // Nearest rank: the smallest sample with at least p% of samples at or below it.
    auto at = [&](double p) {
        size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(micros.size()) + 0.5);
        rank = std::clamp<size_t>(rank, 1, micros.size());
        return micros[rank - 1] / 1000.0;
    };
    s.p50_ms = at(50);
    s.p90_ms = at(90);
    s.p99_ms = at(99);
    s.max_ms = micros.back() / 1000.0;
    const double sum = std::accumulate(micros.begin(), micros.end(), 0.0);
    s.mean_ms = sum / static_cast<double>(micros.size()) / 1000.0;
    return s;
}

nlohmann::json to_json(const LatencySummary& s) {
    return {{"samples", s.samples}, {"p50_ms", s.p50_ms}, {"p90_ms", s.p90_ms},
            {"p99_ms", s.p99_ms},   {"max_ms", s.max_ms}, {"mean_ms", s.mean_ms}};
}

double monotonic_sec() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

int64_t monotonic_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

namespace {

int64_t rss_kb_of(const std::string& status_path) {
    std::ifstream in(status_path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
    }
    return 0;
}

}  // namespace

ProcessReading read_process(int pid) {
    ProcessReading r;
    r.at_sec = monotonic_sec();
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(in, stat)) return r;
    // The command name may contain spaces: fields are counted after its ')'.
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) return r;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; fields >> field; ++i) {                 // field 3 is the state
        if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
        if (i == 15) break;
    }
    r.cpu_sec = ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
    r.rss_kb = rss_kb_of("/proc/" + std::to_string(pid) + "/status");
    return r;
}

ProcessReading read_self() {
    ProcessReading r;
    r.at_sec = monotonic_sec();
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    r.cpu_sec = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
                static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
    r.rss_kb = rss_kb_of("/proc/self/status");
    return r;
}

double cpu_percent(const ProcessReading& from, const ProcessReading& to) {
    const double wall = to.at_sec - from.at_sec;
    return wall > 0 ? 100.0 * (to.cpu_sec - from.cpu_sec) / wall : 0.0;
}

uint64_t raise_fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur;
}

}  // namespace moolai::bench
