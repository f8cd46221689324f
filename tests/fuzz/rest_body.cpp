// Fuzz target: a REST request body as the routes read it. parse_body
// (host/rest/rest_support) is the one parser every JSON route but login
// goes through: a JSON object, or a 400 with a JSON error body. Of what the
// routes then read, the host parses one kind of field itself: RFC 3339
// times (a message's "expires_at", via parse_rfc3339), checked here to
// accept only the documented shapes and to round-trip through
// format_rfc3339. The body is finally written back as the ephemeral frame
// route forwards it.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "common/rfc3339.hpp"
#include "rest/rest_support.hpp"

namespace {

using nlohmann::json;

[[noreturn]] void fail(const char* what, const std::string& input) {
    std::fprintf(stderr, "rest_body: %s: %s\n", what, input.c_str());
    std::abort();
}

// "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[.f+]Z", digits where digits go.
bool documented_shape(const std::string& t) {
    const auto digits = [&](size_t from, size_t n) {
        for (size_t i = from; i < from + n; ++i)
            if (i >= t.size() || !std::isdigit(static_cast<unsigned char>(t[i]))) return false;
        return true;
    };
    if (!digits(0, 4) || t.size() < 10 || t[4] != '-' || !digits(5, 2) || t[7] != '-' ||
        !digits(8, 2))
        return false;
    if (t.size() == 10) return true;
    if (t.size() < 20 || t[10] != 'T' || !digits(11, 2) || t[13] != ':' || !digits(14, 2) ||
        t[16] != ':' || !digits(17, 2))
        return false;
    size_t i = 19;
    if (t[i] == '.') {
        ++i;
        if (!digits(i, 1)) return false;
        while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
    }
    return i + 1 == t.size() && t[i] == 'Z';
}

void check_time(const std::string& text) {
    int64_t ms = 0;
    if (!moolai::host::parse_rfc3339(text, ms)) return;
    if (!documented_shape(text)) fail("parse_rfc3339 accepted an undocumented shape", text);
    int64_t again = 0;
    const std::string formatted = moolai::host::format_rfc3339(ms);
    if (!moolai::host::parse_rfc3339(formatted, again) || again != ms - ((ms % 1000) + 1000) % 1000)
        fail("format_rfc3339 does not round-trip", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    moolai::host::HttpRequest req;
    req.method = "POST";
    req.body.assign(reinterpret_cast<const char*>(data), size);
    json body;
    moolai::host::HttpResponse bad;
    if (!moolai::host::RestApi::parse_body(req, body, bad)) {
        if (bad.status != 400 || json::parse(bad.body, nullptr, false).is_discarded())
            fail("a refused body got no JSON 400", req.body);
        return 0;
    }
    if (!body.is_object()) fail("parse_body passed a non-object", req.body);
    for (const auto& [key, value] : body.items())
        if (value.is_string()) check_time(value.get<std::string>());
    // POST .../send: the body, with the orchestrator named, becomes a frame.
    body["orchestrator_id"] = "orch-fuzz";
    (void)body.dump();
    return 0;
}
