#include "common/rfc3339.hpp"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace moolai::host {

std::string format_rfc3339(int64_t unix_ms) {
    // The second a time falls in: floor, also before 1970.
    const std::time_t secs =
        static_cast<std::time_t>(unix_ms / 1000 - (unix_ms % 1000 < 0 ? 1 : 0));
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[80];
    // Four-digit years: strftime's %Y writes "506" for 506, which is not RFC 3339.
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

bool parse_rfc3339(const std::string& text, int64_t& unix_ms) {
    // sscanf's %d also takes a sign or spaces ("10:-0:00"): the fixed
    // digits are checked here first.
    static const char kShape[] = "dddd-dd-ddTdd:dd:dd";
    const size_t fixed = text.size() == 10 ? 10 : sizeof kShape - 1;
    if (text.size() < fixed) return false;
    for (size_t i = 0; i < fixed; ++i)
        if (kShape[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(text[i]))
                             : text[i] != kShape[i])
            return false;
    std::tm tm{};
    int ms = 0;
    int consumed = 0;
    if (text.size() == 10) {
        if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                        &consumed) != 3 ||
            consumed != 10)
            return false;
    } else {
        char z = 0;
        if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
                        &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
            return false;
        const char* rest = text.c_str() + consumed;
        if (*rest == '.') {
            int digits = 0;
            ++rest;
            while (*rest >= '0' && *rest <= '9') {
                if (digits < 3) ms = ms * 10 + (*rest - '0');
                ++digits;
                ++rest;
            }
            if (digits == 0) return false;
            for (; digits < 3; ++digits) ms *= 10;
        }
        z = *rest;
        if (z != 'Z' || rest[1] != '\0') return false;
    }
    static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > kDays[tm.tm_mon - 1] ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
        return false;
    const int y = tm.tm_year;
    if (tm.tm_mon == 2 && tm.tm_mday == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    unix_ms = static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
    return true;
}

int64_t now_unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace moolai::host
