// RFC 3339 UTC timestamps as the wire contract writes them: "2026-11-28T10:00:00Z".
#pragma once

#include <cstdint>
#include <string>

namespace moolai::host {

std::string format_rfc3339(int64_t unix_ms);
// Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[.fff]Z"; false when malformed.
bool parse_rfc3339(const std::string& text, int64_t& unix_ms);
int64_t now_unix_ms();

}  // namespace moolai::host
