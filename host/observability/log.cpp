#include "observability/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

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

bool parse_format(std::string_view text, LogFormat& out) noexcept {
    if (text == "text") out = LogFormat::text;
    else if (text == "json") out = LogFormat::json;
    else return false;
    return true;
}

namespace {

constexpr std::string_view kRedacted = "[redacted]";

// One pass, left to right: at each step the earliest (then longest) secret
// is replaced and the search goes on after it, never inside what was
// written -- a secret that is part of "[redacted]" (a one-letter token, say)
// would otherwise be found again for ever, and a second secret would cut
// into the first one's marker. Each secret's next occurrence is looked up
// again only once passed, so a long line costs O(secrets x length).
void redact(std::string& text, const std::vector<std::string>& secrets) {
    if (secrets.empty()) return;
    std::vector<size_t> next(secrets.size());
    for (size_t k = 0; k < secrets.size(); ++k) next[k] = text.find(secrets[k]);
    std::string out;
    size_t done = 0;  // text[0, done) is in `out` already
    for (;;) {
        size_t best = std::string::npos, best_len = 0;
        for (size_t k = 0; k < secrets.size(); ++k) {
            if (next[k] != std::string::npos && next[k] < done) next[k] = text.find(secrets[k], done);
            if (next[k] == std::string::npos) continue;
            if (next[k] < best || (next[k] == best && secrets[k].size() > best_len)) {
                best = next[k];
                best_len = secrets[k].size();
            }
        }
        if (best == std::string::npos) break;
        out.append(text, done, best - done);
        out += kRedacted;
        done = best + best_len;
    }
    if (done == 0 && out.empty()) return;  // nothing found
    out.append(text, done, std::string::npos);
    text = std::move(out);
}

}  // namespace

Log::Log(size_t ring_capacity) : capacity_(ring_capacity) {}

void Log::add_secret(std::string secret) {
    if (secret.empty()) return;
    std::lock_guard<std::mutex> lock(mutex_);
    secrets_.push_back(std::move(secret));
}

void Log::write(LogLevel level, std::string_view source, std::string_view text,
                LogFields fields) {
    if (!enabled(level)) return;
    const auto now = std::chrono::system_clock::now();
    const int64_t ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    LogLine line{ms, level, std::string(source), std::string(text), std::move(fields)};
    // One line per record: a newline inside would let input forge log lines.
    auto one_line = [](std::string& t) {
        for (char& c : t) {
            if (c == '\n' || c == '\r') c = ' ';
        }
    };
    one_line(line.text);
    for (auto& [k, v] : line.fields) one_line(v);

    std::lock_guard<std::mutex> lock(mutex_);
    redact(line.text, secrets_);
    for (auto& [k, v] : line.fields) redact(v, secrets_);
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[40];
    const size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(ms % 1000));
    if (format_ == LogFormat::json) {
        nlohmann::json j = {{"time", stamp},
                            {"level", level_name(level)},
                            {"component", line.source},
                            {"message", line.text}};
        for (const auto& [k, v] : line.fields) j.emplace(k, v);  // never overrides the above
        // replace: text from clients or plugins may not be valid UTF-8.
        const std::string out =
            j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        std::fwrite(out.data(), 1, out.size(), stderr);
    } else {
        std::string extra;
        for (const auto& [k, v] : line.fields) extra += " " + k + "=" + v;
        std::fprintf(stderr, "%s %-5s [%s] %s%s\n", stamp, level_name(level).data(),
                     line.source.c_str(), line.text.c_str(), extra.c_str());
    }
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
