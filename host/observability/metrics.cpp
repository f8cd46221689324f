#include "observability/metrics.hpp"

#include <cstdio>

namespace moolai::host {

void Metric::add(double delta) noexcept {
    double cur = value_.load(std::memory_order_relaxed);
    while (!value_.compare_exchange_weak(cur, cur + delta, std::memory_order_relaxed)) {
    }
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

Metric* Metrics::counter(std::string_view name, std::string_view help) {
    return get(name, help, true);
}
Metric* Metrics::gauge(std::string_view name, std::string_view help) {
    return get(name, help, false);
}

Metric* Metrics::get(std::string_view name, std::string_view help, bool is_counter) {
    if (!valid_name(name)) return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(name);
    if (it == entries_.end()) {
        it = entries_
                 .emplace(std::string(name),
                          Entry{is_counter, std::string(help), std::make_unique<Metric>()})
                 .first;
    }
    return it->second.metric.get();
}

std::string Metrics::render_prometheus() const {
    std::string out;
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [name, e] : entries_) {
        if (!e.help.empty()) out += "# HELP " + name + " " + e.help + "\n";
        out += "# TYPE " + name + (e.is_counter ? " counter\n" : " gauge\n");
        char num[64];
        std::snprintf(num, sizeof num, "%.17g", e.metric->value());
        out += name + " " + num + "\n";
    }
    return out;
}

}  // namespace moolai::host
