// Log: the controller's one log. Lines go to stderr -- text for terminals,
// or one JSON object a line for log collectors (MOOLAI_LOG_FORMAT=json) --
// and into a ring buffer that GET /api/v1/internal/logs serves. Thread-safe;
// cheap when a level is filtered out.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace moolai::host {

enum class LogLevel : int { debug = 0, info = 1, warn = 2, error = 3 };
enum class LogFormat { text, json };

// Structured context of a line: ("orchestrator_id", "o-1"), ("organization_id", ...).
using LogFields = std::vector<std::pair<std::string, std::string>>;

std::string_view level_name(LogLevel level) noexcept;
// Parses "debug" | "info" | "warn" | "error"; false when unknown.
bool parse_level(std::string_view text, LogLevel& out) noexcept;
// Parses "text" | "json"; false when unknown.
bool parse_format(std::string_view text, LogFormat& out) noexcept;

struct LogLine {
    int64_t time_ms;
    LogLevel level;
    std::string source;  // "host" or a plugin name
    std::string text;
    LogFields fields;
};

class Log {
public:
    explicit Log(size_t ring_capacity = 2000);

    void set_level(LogLevel level) noexcept { min_level_ = level; }
    // Before any line is written from a second thread.
    void set_format(LogFormat format) noexcept { format_ = format; }
    bool enabled(LogLevel level) const noexcept { return level >= min_level_; }
    // Secrets registered here are replaced by "[redacted]" in every line.
    void add_secret(std::string secret);

    void write(LogLevel level, std::string_view source, std::string_view text,
               LogFields fields = {});
    void debug(std::string_view t) { write(LogLevel::debug, "host", t); }
    void info(std::string_view t) { write(LogLevel::info, "host", t); }
    void warn(std::string_view t) { write(LogLevel::warn, "host", t); }
    void error(std::string_view t) { write(LogLevel::error, "host", t); }
    void info(std::string_view t, LogFields f) { write(LogLevel::info, "host", t, std::move(f)); }
    void warn(std::string_view t, LogFields f) { write(LogLevel::warn, "host", t, std::move(f)); }

    // Newest last, at most `limit` lines at or above `level`.
    std::vector<LogLine> recent(size_t limit, LogLevel level = LogLevel::debug) const;

private:
    LogLevel min_level_ = LogLevel::info;
    LogFormat format_ = LogFormat::text;
    size_t capacity_;
    mutable std::mutex mutex_;
    std::deque<LogLine> ring_;
    std::vector<std::string> secrets_;
};

}  // namespace moolai::host
