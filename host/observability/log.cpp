#include "observability/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace moolai::host {

std::string_view level_name(LogLevel level) noexcept {
    switch (level) {
        case LogLevel::debug: return "debug";
        case LogLevel::info: return "info";
        case LogLevel::warn: return "warn";
        case LogLevel::error: return "error";
    }
    return "info";
}

bool parse_level(std::string_view text, LogLevel& out) noexcept {
    for (LogLevel l : {LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error}) {
        if (text == level_name(l)) {
            out = l;
            return true;
        }
    }
    return false;
}

Log::Log(size_t ring_capacity) : capacity_(ring_capacity) {}

void Log::add_secret(std::string secret) {
    if (secret.empty()) return;
    std::lock_guard<std::mutex> lock(mutex_);
    secrets_.push_back(std::move(secret));
}

void Log::write(LogLevel level, std::string_view source, std::string_view text) {
    if (!enabled(level)) return;
    const auto now = std::chrono::system_clock::now();
    const int64_t ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    LogLine line{ms, level, std::string(source), std::string(text)};
    // One line per record: a newline inside would let input forge log lines.
    for (char& c : line.text) {
        if (c == '\n' || c == '\r') c = ' ';
    }

    std::lock_guard<std::mutex> lock(mutex_);
    for (const std::string& s : secrets_) {
        for (size_t pos = line.text.find(s); pos != std::string::npos;
             pos = line.text.find(s, pos)) {
            line.text.replace(pos, s.size(), "[redacted]");
        }
    }
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    std::fprintf(stderr, "%s.%03dZ %-5s [%s] %s\n", stamp, static_cast<int>(ms % 1000),
                 level_name(level).data(), line.source.c_str(), line.text.c_str());
    ring_.push_back(std::move(line));
    if (ring_.size() > capacity_) ring_.pop_front();
}

std::vector<LogLine> Log::recent(size_t limit, LogLevel level) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<LogLine> out;
    for (auto it = ring_.rbegin(); it != ring_.rend() && out.size() < limit; ++it) {
        if (it->level >= level) out.push_back(*it);
    }
    return {out.rbegin(), out.rend()};
}

}  // namespace moolai::host
