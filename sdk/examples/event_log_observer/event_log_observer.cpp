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
// It depends on nothing but the Moolai plugin SDK and the C++17 standard
// library, so it carries its own small JSON reader (for the config and the
// events' detail_json) and writer.
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

// Appends `s` as a JSON string literal. Control characters are escaped, and
// bytes that are not well-formed UTF-8 become U+FFFD, so every line stays
// valid JSON whatever the input.
void append_json_string(std::string& out, std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        if (c < 0x80) {
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
                    } else {
                        out += static_cast<char>(c);
                    }
            }
            ++i;
            continue;
        }
        // A multi-byte sequence: check length, continuation bytes, overlong
        // forms, surrogates and the U+10FFFF ceiling (RFC 3629).
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
        bool ok = len != 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; ++k) {
            ok = (p[i + k] & 0xc0) == 0x80;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        ok = ok && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
        if (ok) {
            out.append(s.data() + i, len);
            i += len;
        } else {
            out += "\\ufffd";
            ++i;  // resynchronise on the next byte
        }
    }
    out += '"';
}

// ---- JSON reading ------------------------------------------------------------

// A parsed JSON value. Numbers keep their source text; objects keep their
// members in order.
struct Value {
    enum Type { Null, Bool, Number, String, Array, Object } type = Null;
    bool boolean = false;
    std::string text;  // String: the decoded string; Number: the literal
    std::vector<Value> items;
    std::vector<std::pair<std::string, Value>> members;

    const Value* find(std::string_view key) const {
        for (const auto& m : members)
            if (m.first == key) return &m.second;
        return nullptr;
    }
};

// Strict RFC 8259 parser: one value, nothing after it but whitespace,
// nesting at most kMaxDepth deep.
class Parser {
public:
    explicit Parser(std::string_view s) : s_(s) {}

    bool parse(Value& out) {
        skip_ws();
        if (!value(out, 0)) return false;
        skip_ws();
        return pos_ == s_.size();
    }

private:
    static constexpr int kMaxDepth = 64;

    void skip_ws() {
        while (pos_ < s_.size() &&
               (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
            ++pos_;
    }
    bool eat(char c) {
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    bool literal(std::string_view word) {
        if (s_.substr(pos_, word.size()) != word) return false;
        pos_ += word.size();
        return true;
    }

    bool value(Value& v, int depth) {
        if (depth > kMaxDepth || pos_ >= s_.size()) return false;
        switch (s_[pos_]) {
            case '{': return object(v, depth);
            case '[': return array(v, depth);
            case '"': v.type = Value::String; return string(v.text);
            case 't': v.type = Value::Bool; v.boolean = true; return literal("true");
            case 'f': v.type = Value::Bool; return literal("false");
            case 'n': v.type = Value::Null; return literal("null");
            default: v.type = Value::Number; return number(v.text);
        }
    }

    bool object(Value& v, int depth) {
        v.type = Value::Object;
        ++pos_;  // '{'
        skip_ws();
        if (eat('}')) return true;
        do {
            skip_ws();
            std::string key;
            if (pos_ >= s_.size() || s_[pos_] != '"' || !string(key)) return false;
            skip_ws();
            if (!eat(':')) return false;
            skip_ws();
            Value member;
            if (!value(member, depth + 1)) return false;
            v.members.emplace_back(std::move(key), std::move(member));
            skip_ws();
        } while (eat(','));
        return eat('}');
    }

    bool array(Value& v, int depth) {
        v.type = Value::Array;
        ++pos_;  // '['
        skip_ws();
        if (eat(']')) return true;
        do {
            skip_ws();
            Value item;
            if (!value(item, depth + 1)) return false;
            v.items.push_back(std::move(item));
            skip_ws();
        } while (eat(','));
        return eat(']');
    }

    bool number(std::string& out) {
        const size_t start = pos_;
        auto digits = [this] {
            const size_t from = pos_;
            while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
            return pos_ > from;
        };
        eat('-');
        if (eat('0')) {
            // no leading zeros
        } else if (!digits()) {
            return false;
        }
        if (eat('.') && !digits()) return false;
        if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
            ++pos_;
            if (!eat('+')) eat('-');
            if (!digits()) return false;
        }
        out.assign(s_.substr(start, pos_ - start));
        return true;
    }

    bool hex4(uint32_t& u) {
        if (pos_ + 4 > s_.size()) return false;
        u = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = s_[pos_++];
            u <<= 4;
            if (c >= '0' && c <= '9') u |= uint32_t(c - '0');
            else if (c >= 'a' && c <= 'f') u |= uint32_t(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') u |= uint32_t(c - 'A' + 10);
            else return false;
        }
        return true;
    }

    static void put_utf8(std::string& out, uint32_t cp) {
        if (cp < 0x80) {
            out += char(cp);
        } else if (cp < 0x800) {
            out += char(0xc0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out += char(0xe0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3f));
            out += char(0x80 | (cp & 0x3f));
        } else {
            out += char(0xf0 | (cp >> 18));
            out += char(0x80 | ((cp >> 12) & 0x3f));
            out += char(0x80 | ((cp >> 6) & 0x3f));
            out += char(0x80 | (cp & 0x3f));
        }
    }

    // Decodes a string literal; raw control characters, bad escapes and
    // lone surrogates are errors. (Raw bytes >= 0x80 are copied; the writer
    // replaces ill-formed UTF-8 when it re-encodes.)
    bool string(std::string& out) {
        ++pos_;  // '"'
        out.clear();
        while (pos_ < s_.size()) {
            const char c = s_[pos_++];
            if (c == '"') return true;
            if (static_cast<unsigned char>(c) < 0x20) return false;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= s_.size()) return false;
            switch (s_[pos_++]) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    uint32_t u = 0;
                    if (!hex4(u)) return false;
                    if (u >= 0xdc00 && u <= 0xdfff) return false;  // lone low surrogate
                    if (u >= 0xd800 && u <= 0xdbff) {
                        uint32_t lo = 0;
                        if (!literal("\\u") || !hex4(lo) || lo < 0xdc00 || lo > 0xdfff)
                            return false;
                        u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                    }
                    put_utf8(out, u);
                    break;
                }
                default: return false;
            }
        }
        return false;  // unterminated
    }

    std::string_view s_;
    size_t pos_ = 0;
};

// Writes `v` as compact JSON (one line, whatever the input's layout).
void append_json(std::string& out, const Value& v) {
    switch (v.type) {
        case Value::Null: out += "null"; break;
        case Value::Bool: out += v.boolean ? "true" : "false"; break;
        case Value::Number: out += v.text; break;
        case Value::String: append_json_string(out, v.text); break;
        case Value::Array:
            out += '[';
            for (size_t i = 0; i < v.items.size(); ++i) {
                if (i) out += ',';
                append_json(out, v.items[i]);
            }
            out += ']';
            break;
        case Value::Object:
            out += '{';
            for (size_t i = 0; i < v.members.size(); ++i) {
                if (i) out += ',';
                append_json_string(out, v.members[i].first);
                out += ':';
                append_json(out, v.members[i].second);
            }
            out += '}';
            break;
    }
}

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

[[noreturn]] void bad_config(const std::string& field, const std::string& what) {
    throw Error(MOOLAI_E_INVALID, "event_log_observer config: \"" + field + "\" " + what);
}

class EventLogObserver final : public moolai::sdk::Plugin, public moolai::sdk::Observer {
public:
    static constexpr const char* name = "event_log_observer";
    static constexpr const char* version = "1.0.0";
    static constexpr const char* description =
        "Appends every controller event to a file as one JSON object per line";
    // on_event comes from the host's single event thread, but the plugin
    // locks around the file anyway, so it is safe to call from anywhere.
    static constexpr uint32_t threading = MOOLAI_THREADING_CONCURRENT;
    static constexpr const char* config_schema = R"({
  "type": "object",
  "properties": {
    "path": {"type": "string", "minLength": 1},
    "kinds": {
      "type": "array",
      "items": {"type": "string", "enum": ["orchestrator_registered", "orchestrator_disconnected",
        "status_changed", "independence_changed", "message_changed", "custom"]}
    }
  },
  "required": ["path"],
  "additionalProperties": false
})";

    EventLogObserver(Host host, std::string_view config_json) : Plugin(host) {
        Value config;
        if (!Parser(config_json).parse(config) || config.type != Value::Object)
            throw Error(MOOLAI_E_INVALID, "event_log_observer config: must be a JSON object");
        for (const auto& m : config.members)
            if (m.first != "path" && m.first != "kinds") bad_config(m.first, "is not a known setting");

        const Value* path = config.find("path");
        if (path == nullptr) bad_config("path", "is required (the file to append events to)");
        if (path->type != Value::String || path->text.empty() ||
            path->text.find('\0') != std::string::npos)
            bad_config("path", "must be a non-empty file path");
        path_ = path->text;

        if (const Value* kinds = config.find("kinds")) {
            if (kinds->type != Value::Array) bad_config("kinds", "must be an array of event kinds");
            if (kinds->items.empty())
                bad_config("kinds", "must not be empty (leave it out to log every kind)");
            for (size_t i = 0; i < kinds->items.size(); ++i) {
                const Value& k = kinds->items[i];
                uint32_t found = 0;
                for (const KindName& known : kKinds)
                    if (k.type == Value::String && k.text == known.name) found = known.kind;
                if (found == 0)
                    bad_config("kinds[" + std::to_string(i) + "]",
                               "is not an event kind (orchestrator_registered, "
                               "orchestrator_disconnected, status_changed, independence_changed, "
                               "message_changed, custom)");
                wanted_.push_back(found);
            }
        }

        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd_ < 0) {
            const std::string why = std::error_code(errno, std::generic_category()).message();
            bad_config("path", "cannot open \"" + path_ + "\" for appending: " + why);
        }
    }

    ~EventLogObserver() override {
        if (fd_ >= 0) ::close(fd_);
    }

    Status on_event(Call& call, const moolai_event& e) override {
        if (e.struct_size < MOOLAI_EVENT_SIZE_1_0)
            return call.fail(MOOLAI_E_INVALID, "event struct_size too small");
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
        Value parsed;
        if (detail.find_first_not_of(" \t\r\n") == std::string_view::npos) {
            line += "null";
        } else if (Parser(detail).parse(parsed)) {
            append_json(line, parsed);
        } else {
            append_json_string(line, detail);
        }
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
