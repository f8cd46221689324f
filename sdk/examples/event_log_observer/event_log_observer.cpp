// event_log_observer -- an example out-of-tree Moolai plugin.
//
// Appends every controller event (orchestrator registered or disconnected,
// status and independence changes, message state changes, plugin events)
// to a file as one JSON object per line ("JSON Lines"), ready for jq, a log
// shipper or an audit archive:
//
//   {"kind":"independence_changed","time":"2026-11-28T10:00:00.000Z",
//    "organization_id":"acme","orchestrator_id":"orch-001","subject_id":"",
//    "old_value":"false","new_value":"true","actor":"alice","detail":null}
//
// Config block:
//   {"path": "/var/log/moolai/events.jsonl",        required
//    "kinds": ["independence_changed", ...]}       optional filter
//
// The host checks the block against config_schema and the plugin reads it
// with host.config() (ABI 1.1 config services), so the plugin parses no
// JSON of its own for it. What it keeps is the writing side: escaping
// strings and putting each event's detail_json on one line.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "moolai/sdk.hpp"

namespace {

using moolai::sdk::Call;
using moolai::sdk::Error;
using moolai::sdk::Host;
using moolai::sdk::Status;

// ---- event kinds ----------------------------------------------------------

struct KindName {
    uint32_t kind;
    const char* name;
};
constexpr KindName kKinds[] = {
    {MOOLAI_EVENT_ORCHESTRATOR_REGISTERED, "orchestrator_registered"},
    {MOOLAI_EVENT_ORCHESTRATOR_DISCONNECTED, "orchestrator_disconnected"},
    {MOOLAI_EVENT_STATUS_CHANGED, "status_changed"},
    {MOOLAI_EVENT_INDEPENDENCE_CHANGED, "independence_changed"},
    {MOOLAI_EVENT_MESSAGE_CHANGED, "message_changed"},
    {MOOLAI_EVENT_CUSTOM, "custom"},
};

std::string kind_name(uint32_t kind) {
    for (const KindName& k : kKinds)
        if (k.kind == kind) return k.name;
    return "kind_" + std::to_string(kind);  // a kind newer than this plugin
}

// ---- JSON writing ------------------------------------------------------------

// Length of the well-formed UTF-8 sequence starting at p[0] (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or 0.
size_t utf8_length(const unsigned char* p, size_t n) {
    const unsigned char c = p[0];
    if (c < 0x80) return 1;
    size_t len = 0;
    uint32_t cp = 0, min = 0;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
        min = 0x10000;
    }
    if (len == 0 || len > n) return 0;
    for (size_t k = 1; k < len; ++k) {
        if ((p[k] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (p[k] & 0x3f);
    }
    return cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? len : 0;
}

// Appends `s` as a JSON string literal. Control characters are escaped, and
// bytes that are not well-formed UTF-8 become U+FFFD, so every line stays
// valid JSON whatever the input.
void append_json_string(std::string& out, std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    for (size_t i = 0; i < s.size();) {
        const unsigned char c = p[i];
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 0xf];
                } else if (const size_t len = utf8_length(p + i, s.size() - i)) {
                    out.append(s.data() + i, len);
                    i += len;
                    continue;
                } else {
                    out += "\\ufffd";  // then resynchronise on the next byte
                }
        }
        ++i;
    }
    out += '"';
}

// Copies one JSON value (RFC 8259) onto `out` without its insignificant
// whitespace, so an event's detail_json fits on the event's line. It checks
// as it copies and builds no tree: append() says false, and leaves `out` as
// it was, when the text is not exactly one valid value.
class CompactJson {
public:
    static bool append(std::string& out, std::string_view text) {
        CompactJson c(text, out);
        const size_t mark = out.size();
        c.space();
        if (c.value(0)) {
            c.space();
            if (c.i_ == text.size()) return true;
        }
        out.resize(mark);
        return false;
    }

private:
    static constexpr int kMaxDepth = 64;

    CompactJson(std::string_view s, std::string& out) : s_(s), out_(out) {}

    bool more() const { return i_ < s_.size(); }
    void space() {
        while (more() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
            ++i_;
    }
    bool copy(char c) {  // copies `c` when it is next
        if (!more() || s_[i_] != c) return false;
        out_ += c;
        ++i_;
        return true;
    }
    bool copy_digits() {
        const size_t from = i_;
        while (more() && s_[i_] >= '0' && s_[i_] <= '9') out_ += s_[i_++];
        return i_ > from;
    }
    bool copy_word(std::string_view w) {
        if (s_.substr(i_, w.size()) != w) return false;
        out_ += w;
        i_ += w.size();
        return true;
    }

    bool value(int depth) {
        if (depth > kMaxDepth || !more()) return false;
        switch (s_[i_]) {
            case '{': return members(depth, '}');
            case '[': return members(depth, ']');
            case '"': return string();
            case 't': return copy_word("true");
            case 'f': return copy_word("false");
            case 'n': return copy_word("null");
            default: return number();
        }
    }

    // An object ('}') or an array (']').
    bool members(int depth, char close) {
        out_ += s_[i_++];
        space();
        if (copy(close)) return true;
        do {
            space();
            if (close == '}') {
                if (!more() || s_[i_] != '"' || !string()) return false;
                space();
                if (!copy(':')) return false;
                space();
            }
            if (!value(depth + 1)) return false;
            space();
        } while (copy(','));
        return copy(close);
    }

    bool number() {
        copy('-');
        if (!copy('0') && !copy_digits()) return false;  // no leading zeros
        if (copy('.') && !copy_digits()) return false;
        if (copy('e') || copy('E')) {
            if (!copy('+')) copy('-');
            if (!copy_digits()) return false;
        }
        return true;
    }

    bool hex4(uint32_t& u) {
        u = 0;
        for (int k = 0; k < 4; ++k, ++i_) {
            if (!more()) return false;
            const char c = s_[i_];
            u <<= 4;
            if (c >= '0' && c <= '9') u |= uint32_t(c - '0');
            else if (c >= 'a' && c <= 'f') u |= uint32_t(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') u |= uint32_t(c - 'A' + 10);
            else return false;
            out_ += c;
        }
        return true;
    }

    // Copied as written (escapes stay escapes). Raw control characters, bad
    // escapes and lone surrogates make the text invalid; ill-formed UTF-8
    // becomes U+FFFD, as in append_json_string.
    bool string() {
        out_ += s_[i_++];  // '"'
        const auto* p = reinterpret_cast<const unsigned char*>(s_.data());
        while (more()) {
            const unsigned char c = p[i_];
            if (c == '"') return copy('"');
            if (c < 0x20) return false;
            if (c == '\\') {
                out_ += s_[i_++];
                if (!more()) return false;
                const char e = s_[i_];
                if (e == 'u') {
                    out_ += s_[i_++];
                    uint32_t u = 0;
                    if (!hex4(u) || (u >= 0xdc00 && u <= 0xdfff)) return false;
                    if (u >= 0xd800 && u <= 0xdbff) {  // must be followed by a low surrogate
                        uint32_t lo = 0;
                        if (!copy('\\') || !copy('u') || !hex4(lo) || lo < 0xdc00 || lo > 0xdfff)
                            return false;
                    }
                    continue;
                }
                if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) return false;
                out_ += s_[i_++];
                continue;
            }
            if (const size_t len = utf8_length(p + i_, s_.size() - i_)) {
                out_.append(s_.data() + i_, len);
                i_ += len;
            } else {
                out_ += "\\ufffd";
                ++i_;
            }
        }
        return false;  // unterminated
    }

    std::string_view s_;
    std::string& out_;
    size_t i_ = 0;
};

// ---- time ----------------------------------------------------------------------

// Unix milliseconds -> "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC), without gmtime's
// global state. Days to civil date after H. Hinnant's days_from_civil
// inverse. Years outside 0000..9999 cannot be written in RFC 3339: "".
std::string rfc3339(int64_t ms) {
    constexpr int64_t kMin = -62167219200000;  // 0000-01-01T00:00:00Z
    constexpr int64_t kMax = 253402300799999;  // 9999-12-31T23:59:59.999Z
    if (ms < kMin || ms > kMax) return {};
    int64_t days = ms / 86400000, rem = ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        --days;
    }
    const int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t d = doy - (153 * mp + 2) / 5 + 1;
    const int64_t m = mp < 10 ? mp + 3 : mp - 9;
    const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    char buf[48];  // 24 needed; room for what the compiler cannot prove
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", int(y), int(m), int(d),
                  int(rem / 3600000), int(rem / 60000 % 60), int(rem / 1000 % 60), int(rem % 1000));
    return buf;
}

// ---- the plugin ----------------------------------------------------------------

class EventLogObserver final : public moolai::sdk::Plugin, public moolai::sdk::Observer {
public:
    static constexpr const char* name = "event_log_observer";
    static constexpr const char* version = "1.1.0";
    static constexpr const char* description =
        "Appends every controller event to a file as one JSON object per line";
    // on_event comes from the host's single event thread, but the plugin
    // locks around the file anyway, so it is safe to call from anywhere.
    static constexpr uint32_t threading = MOOLAI_THREADING_CONCURRENT;
    // It reads its config with host.config(), a 1.1 host service: a 1.0
    // host refuses it at load time with a line naming both versions.
    static constexpr uint32_t abi_minor_required = 1;
    // The host checks the block against this before the constructor runs,
    // and its refusal names the field: the schema is the plugin's validation.
    static constexpr const char* config_schema = R"({
  "type": "object",
  "properties": {
    "path": {"type": "string", "minLength": 1},
    "kinds": {
      "type": "array", "minItems": 1,
      "items": {"type": "string", "enum": ["orchestrator_registered", "orchestrator_disconnected",
        "status_changed", "independence_changed", "message_changed", "custom"]}
    }
  },
  "required": ["path"],
  "additionalProperties": false
})";

    EventLogObserver(Host host, std::string_view /*config_json*/) : Plugin(host) {
        const moolai::sdk::Config config = host.config();
        path_ = std::string(config.string("/path"));
        if (path_.find('\0') != std::string::npos) bad_config("/path", "contains a NUL byte");

        // No "kinds" = every kind. The schema's enum already limits the names.
        const uint64_t n = config.length_or("/kinds", 0);
        for (uint64_t i = 0; i < n; ++i) {
            const std::string pointer = "/kinds/" + std::to_string(i);
            const std::string_view kind = config.string(pointer);
            uint32_t found = 0;
            for (const KindName& known : kKinds)
                if (kind == known.name) found = known.kind;
            if (found == 0) bad_config(pointer, "is not an event kind this plugin knows");
            wanted_.push_back(found);
        }

        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd_ < 0) {
            const std::string why = std::error_code(errno, std::generic_category()).message();
            bad_config("/path", "cannot open \"" + path_ + "\" for appending: " + why);
        }
    }

    ~EventLogObserver() override {
        if (fd_ >= 0) ::close(fd_);
    }

    Status on_event(Call& call, const moolai_event& e) override {
        if (!wanted(e.kind)) return MOOLAI_OK;

        std::string line;
        line.reserve(256 + e.detail_json.len);
        line += "{\"kind\":";
        append_json_string(line, kind_name(e.kind));
        line += ",\"time\":";
        const std::string time = rfc3339(e.time_ms);
        if (time.empty()) line += "null"; else append_json_string(line, time);
        const std::pair<const char*, moolai_str> fields[] = {
            {"organization_id", e.organization_id}, {"orchestrator_id", e.orchestrator_id},
            {"subject_id", e.subject_id},           {"old_value", e.old_value},
            {"new_value", e.new_value},             {"actor", e.actor},
        };
        for (const auto& f : fields) {
            line += ",\"";
            line += f.first;
            line += "\":";
            append_json_string(line, moolai::sdk::view(f.second));
        }
        // detail: the JSON the emitter gave, re-written compact; a string
        // holding the raw text when it is not JSON; null when empty.
        line += ",\"detail\":";
        const std::string_view detail = moolai::sdk::view(e.detail_json);
        if (detail.find_first_not_of(" \t\r\n") == std::string_view::npos) line += "null";
        else if (!CompactJson::append(line, detail)) append_json_string(line, detail);
        line += "}\n";

        std::lock_guard<std::mutex> lock(mu_);
        if (!write_all(line)) {
            const std::string why = std::error_code(errno, std::generic_category()).message();
            host().metric_add("write_errors_total", 1);
            return call.fail(MOOLAI_E_UNAVAILABLE, "cannot append to \"" + path_ + "\": " + why);
        }
        host().metric_add("lines_total", 1);
        return MOOLAI_OK;
    }

private:
    [[noreturn]] static void bad_config(const std::string& pointer, const std::string& what) {
        throw Error(MOOLAI_E_INVALID, "config " + pointer + ": " + what);
    }

    bool wanted(uint32_t kind) const {
        if (wanted_.empty()) return true;
        for (uint32_t k : wanted_)
            if (k == kind) return true;
        return false;
    }

    // One write(2) per line where possible: with O_APPEND each line lands
    // whole at the end of the file, even with other writers.
    bool write_all(const std::string& line) {
        size_t done = 0;
        while (done < line.size()) {
            const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
            if (n < 0) {
                if (errno == EINTR) continue;
                return false;
            }
            done += static_cast<size_t>(n);
        }
        return true;
    }

    std::string path_;
    std::vector<uint32_t> wanted_;  // empty = every kind
    int fd_ = -1;
    std::mutex mu_;
};

}  // namespace

MOOLAI_PLUGIN(EventLogObserver);
