// Record tables, input validation and JSON mapping shared by both backends.
#include "storage_common/records.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

namespace moolai::storage {

// ---- errors -------------------------------------------------------------------

namespace {
moolai_status status_of(Fault f) {
    switch (f) {
        case Fault::Duplicate:
            return MOOLAI_E_CONFLICT;
        case Fault::MissingRef:
            return MOOLAI_E_NOT_FOUND;
        case Fault::Invalid:
            return MOOLAI_E_INVALID;
        case Fault::Unavailable:
            return MOOLAI_E_UNAVAILABLE;
        case Fault::Internal:
            break;
    }
    return MOOLAI_E_INTERNAL;
}
}  // namespace

DbError::DbError(Fault fault, std::string message)
    : sdk::Error(status_of(fault), std::move(message)), fault_(fault) {}

std::vector<std::vector<std::optional<std::string>>> Tx::rows(const std::string& sql,
                                                              const std::vector<Value>& params) {
    std::vector<std::vector<std::optional<std::string>>> out;
    exec(sql, params, [&](const Row& row) {
        auto& copy = out.emplace_back();
        for (const Cell& c : row) copy.push_back(c ? std::optional<std::string>(*c) : std::nullopt);
    });
    return out;
}

void invalid(const std::string& message) {
    throw sdk::Error(MOOLAI_E_INVALID, message);
}

json parse_object(std::string_view text, std::string_view what) {
    json j;
    try {
        j = json::parse(text.begin(), text.end());
    } catch (const json::parse_error& e) {
        invalid(std::string(what) + " is not valid JSON: " + e.what());
    }
    if (!j.is_object()) invalid(std::string(what) + " must be a JSON object");
    return j;
}

// ---- time ---------------------------------------------------------------------
// Civil-date arithmetic (H. Hinnant's algorithms): no time zone database, no
// locale, identical on every platform.

namespace {
int64_t floor_div(int64_t a, int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = floor_div(y, 400);
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool leap(int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(int64_t y, unsigned m) {
    static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at `pos`.
bool digits(std::string_view s, size_t pos, size_t n, unsigned& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + static_cast<unsigned>(s[i] - '0');
    }
    return true;
}
}  // namespace

std::string format_time(int64_t ms) {
    const int64_t secs = floor_div(ms, 1000);
    int64_t z = floor_div(secs, 86400) + 719468;
    const auto sod = static_cast<unsigned>(secs - floor_div(secs, 86400) * 86400);
    const int64_t era = floor_div(z, 146097);
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    const int64_t y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02uZ", static_cast<long long>(y), m,
                  d, sod / 3600, sod / 60 % 60, sod % 60);
    return buf;
}

std::optional<int64_t> parse_time(std::string_view s) {
    unsigned y, mo, d, h, mi, se;
    if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) ||
        s[7] != '-' || !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' ||
        !digits(s, 17, 2, se))
        return std::nullopt;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
        se > 59)
        return std::nullopt;
    size_t pos = 19;
    int64_t frac_ms = 0;
    if (s[pos] == '.') {
        size_t n = 0;
        for (++pos; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos, ++n)
            if (n < 3) frac_ms = frac_ms * 10 + (s[pos] - '0');
        if (n == 0) return std::nullopt;
        for (size_t k = n; k < 3; ++k) frac_ms *= 10;
    }
    int64_t offset_min = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        unsigned oh, om;
        if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offset_min = (s[pos] == '-' ? -1 : 1) * static_cast<int64_t>(oh * 60 + om);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;
    const int64_t secs =
        days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset_min * 60;
    return secs * 1000 + frac_ms;
}

// ---- text ---------------------------------------------------------------------

bool valid_utf8(std::string_view s) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        const unsigned c = *p;
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            ++p;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else
            return false;
        if (static_cast<size_t>(end - p) <= n) return false;
        for (size_t i = 1; i <= n; ++i) {
            if ((p[i] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return false;
        p += n + 1;
    }
    return true;
}

bool storable(std::string_view s) noexcept {
    return s.find('\0') == std::string_view::npos && valid_utf8(s);
}

namespace {
size_t utf8_chars(std::string_view s) {
    size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}
}  // namespace

std::string like_contains(std::string_view needle) {
    std::string p = "%";
    for (char c : needle) {
        if (c == '%' || c == '_' || c == '\\') p += '\\';
        p += c;
    }
    return p + "%";
}

std::string shown(std::string_view s) {
    if (!storable(s)) return "(unprintable id)";
    std::string out = "'";
    size_t chars = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && ++chars > 80) {
            out += "...";
            break;
        }
        out += s[i];
    }
    return out + "'";
}

std::string dump(const ojson& j) {
    return j.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

// ---- entities -------------------------------------------------------------------

const Field* Entity::field(std::string_view name) const noexcept {
    for (const Field& f : fields)
        if (f.name == name) return &f;
    return nullptr;
}

namespace {
const Field kCreatedAt{"created_at", Kind::Time, AUTO | STAMP};
const Field kUpdatedAt{"updated_at", Kind::Time, AUTO | STAMP};

// An org_admin administers one organization, so it must name one.
void check_user(const json& user) {
    const auto role = user.find("role");
    const auto org = user.find("organization_id");
    if (role != user.end() && *role == "org_admin" &&
        (org == user.end() || !org->is_string() || org->get_ref<const std::string&>().empty()))
        invalid("field 'organization_id' is required when role is 'org_admin'");
}
}  // namespace

const Entity kOrganization{"organizations",
                           "organization_id",
                           "organization",
                           "organization_id",
                           {
                               {"organization_id", Kind::Text, KEY},
                               {"name", Kind::Text, REQUIRED},
                               {"location", Kind::Text},
                               {"metadata", Kind::Json},
                               {"features", Kind::Json},
                               {"settings", Kind::Json},
                               {"status", Kind::Text, 0, 50, {"active", "inactive"}},
                               {"is_active", Kind::Bool},
                               {"is_independent", Kind::Bool},
                               {"last_seen", Kind::Time},
                               kCreatedAt,
                               kUpdatedAt,
                           }};

const Entity kOrchestrator{"orchestrator_instances",
                           "orchestrator_id",
                           "orchestrator",
                           "orchestrator_id",
                           {
                               {"orchestrator_id", Kind::Text, KEY},
                               {"organization_id", Kind::Text, 0, 255, {}, &kOrganization},
                               {"organization_name", Kind::Text},
                               {"name", Kind::Text},
                               {"location", Kind::Text},
                               {"status", Kind::Text, 0, 50, {"active", "inactive"}},
                               {"last_seen", Kind::Time, SIDE},
                               {"health_status", Kind::Text, 0, 50},
                               {"is_independent", Kind::Bool},
                               {"metadata", Kind::Json},
                               {"features", Kind::Json},
                               {"session_config", Kind::Json},
                               {"privacy_mode", Kind::Bool},
                               {"monitoring_enabled", Kind::Bool},
                               {"internal_url", Kind::Text, 0, 500},
                               {"database_url", Kind::Text, 0, 500},
                               {"redis_url", Kind::Text, 0, 500},
                               {"container_id", Kind::Text},
                               {"image_name", Kind::Text},
                               {"environment_variables", Kind::Json},
                               {"phoenix_endpoint", Kind::Text, 0, 500},
                               {"admin_email", Kind::Text},
                               {"support_email", Kind::Text},
                               {"website", Kind::Text},
                               {"last_activity", Kind::Time},
                               {"credential_hash", Kind::Text, WRITE_ONLY, 1024},
                               kCreatedAt,
                               kUpdatedAt,
                           },
                           nullptr,
                           "orchestrator_liveness"};

const Entity kMessage{
    "orchestrator_messages",
    "id",
    "message",
    "created_at DESC, id",
    {
        {"id", Kind::Text, KEY},
        {"orchestrator_id", Kind::Text, REQUIRED, 255, {}, &kOrchestrator},
        {"message_type", Kind::Text, REQUIRED, 50},
        {"content", Kind::Text, REQUIRED, 0},
        {"message_metadata", Kind::Json},
        {"status", Kind::Text, AUTO, 50, {"pending", "accepted", "dismissed"}},
        {"delivery_state", Kind::Text, AUTO, 50,
         {"none", "queued", "sent", "acknowledged", "expired", "cancelled"}},
        {"delivery_attempts", Kind::Int, AUTO | NONNEG},
        {"delivered_at", Kind::Time, AUTO},
        {"acknowledged_at", Kind::Time, AUTO},
        {"expires_at", Kind::Time},      // set at creation; absent = never expires
        {"ended_at", Kind::Time, AUTO},  // when it turned expired or cancelled
        kCreatedAt,
        kUpdatedAt,
    }};

const Entity kUsage{"usage_reports",
                    "id",
                    "usage report",
                    "id",
                    {
                        {"id", Kind::Int, KEY | AUTO},
                        {"orchestrator_id", Kind::Text, REQUIRED},
                        {"organization_id", Kind::Text},
                        {"period", Kind::Time, REQUIRED},
                        {"model", Kind::Text, REQUIRED},
                        {"requests", Kind::Int, NONNEG},
                        {"input_tokens", Kind::Int, NONNEG},
                        {"output_tokens", Kind::Int, NONNEG},
                        {"cost_usd", Kind::Real, NONNEG},
                        {"received_at", Kind::Time, AUTO | STAMP},
                    }};

const Entity kUser{"users",
                   "username",
                   "user",
                   "username",
                   {
                       {"username", Kind::Text, KEY},
                       {"password_hash", Kind::Text, REQUIRED | SECRET, 1024},
                       {"role", Kind::Text, REQUIRED, 50, {"superadmin", "org_admin"}},
                       {"organization_id", Kind::Text, 0, 255, {}, &kOrganization},
                       kCreatedAt,
                       kUpdatedAt,
                   },
                   &check_user};

const Entity kSession{"sessions",
                      "token_hash",
                      "session",
                      "token_hash",
                      {
                          {"token_hash", Kind::Text, KEY, 1024},
                          {"username", Kind::Text, REQUIRED, 255, {}, &kUser},
                          kCreatedAt,
                          {"expires_at", Kind::Time, REQUIRED},
                      }};

const Entity kAudit{"audit_log",
                    "id",
                    "audit entry",
                    "id DESC",
                    {
                        {"id", Kind::Int, KEY | AUTO},
                        {"time", Kind::Time, DEFAULT_NOW},
                        {"actor", Kind::Text, REQUIRED},
                        {"action", Kind::Text, REQUIRED},
                        {"organization_id", Kind::Text},
                        {"orchestrator_id", Kind::Text},
                        {"old_value", Kind::Text, 0, 0},
                        {"new_value", Kind::Text, 0, 0},
                        {"detail", Kind::Json},
                        // The hash chain (audit_chain.hpp); set by audit_append.
                        {"prev_hash", Kind::Text, AUTO, 0},
                        {"hash", Kind::Text, AUTO, 0},
                    }};

// ---- input values -----------------------------------------------------------------

namespace {
constexpr size_t kMaxJsonDepth = 64;

// JSON columns must hold what both databases store alike: no NUL in any key
// or string (PostgreSQL jsonb rejects \u0000), bounded nesting (the JSON
// writers recurse).
void check_json_column(const std::string& name, const json& root) {
    std::vector<std::pair<const json*, size_t>> todo{{&root, 1}};
    while (!todo.empty()) {
        const auto [j, depth] = todo.back();
        todo.pop_back();
        if (depth > kMaxJsonDepth)
            invalid("field '" + name + "' nests deeper than " + std::to_string(kMaxJsonDepth) +
                    " levels");
        if (j->is_string() && j->get_ref<const std::string&>().find('\0') != std::string::npos)
            invalid("field '" + name + "' contains a NUL character");
        if (j->is_object()) {
            for (const auto& [k, v] : j->items()) {
                if (k.find('\0') != std::string::npos)
                    invalid("field '" + name + "' contains a NUL character");
                todo.emplace_back(&v, depth + 1);
            }
        } else if (j->is_array()) {
            for (const json& v : *j) todo.emplace_back(&v, depth + 1);
        }
    }
}
}  // namespace

Value to_value(const Field& f, const json& v) {
    const std::string name(f.name);
    auto must_be = [&](const char* what) { invalid("field '" + name + "' must be " + what); };
    if (v.is_null()) {
        const bool nullable = (f.kind == Kind::Text && f.allowed.empty()) || f.kind == Kind::Time;
        if (!nullable || f.has(KEY | REQUIRED)) invalid("field '" + name + "' must not be null");
        return nullptr;
    }
    switch (f.kind) {
        case Kind::Text: {
            if (!v.is_string()) must_be("a string");
            const auto& s = v.get_ref<const std::string&>();
            if (!storable(s)) invalid("field '" + name + "' contains a NUL character");
            if (f.has(KEY) && s.empty()) invalid("field '" + name + "' must not be empty");
            if (f.max_chars != 0 && utf8_chars(s) > f.max_chars)
                invalid("field '" + name + "' is longer than " + std::to_string(f.max_chars) +
                        " characters");
            if (!f.allowed.empty()) {
                bool ok = false;
                std::string list;
                for (auto a : f.allowed) {
                    ok = ok || s == a;
                    list += (list.empty() ? "" : ", ") + std::string(a);
                }
                if (!ok) invalid("field '" + name + "' must be one of: " + list);
            }
            return s;
        }
        case Kind::Int: {
            if (!v.is_number_integer()) must_be("an integer");
            if (v.is_number_unsigned() &&
                v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
                invalid("field '" + name + "' is out of range");
            const auto i = v.get<int64_t>();
            if (f.has(NONNEG) && i < 0) invalid("field '" + name + "' must be >= 0");
            return i;
        }
        case Kind::Real: {
            if (!v.is_number()) must_be("a number");
            const auto d = v.get<double>();
            if (!std::isfinite(d)) invalid("field '" + name + "' must be finite");
            if (f.has(NONNEG) && d < 0) invalid("field '" + name + "' must be >= 0");
            return d;
        }
        case Kind::Bool:
            if (!v.is_boolean()) must_be("a boolean");
            return v.get<bool>();
        case Kind::Json:
            if (!v.is_object()) must_be("a JSON object");
            check_json_column(name, v);
            return v.dump();
        case Kind::Time: {
            std::optional<int64_t> ms;
            if (v.is_string()) ms = parse_time(v.get_ref<const std::string&>());
            if (!ms) must_be("an RFC 3339 time such as \"2026-11-28T10:00:00Z\"");
            return *ms;
        }
    }
    invalid("field '" + name + "' has an unknown type");
}

// ---- output -----------------------------------------------------------------------

Projection project(const Entity& e, const Dialect& d, bool with_secrets, std::string_view alias) {
    Projection p;
    for (const Field& f : e.fields) {
        if (f.has(WRITE_ONLY) || (f.has(SECRET) && !with_secrets)) continue;
        std::string col =
            alias.empty() ? std::string(f.name) : std::string(alias) + "." + std::string(f.name);
        if (!p.columns.empty()) p.columns += ", ";
        if (f.has(SIDE)) {  // a scalar subquery: one row of the side table or NULL
            const std::string side(e.side_table);
            const std::string self = alias.empty() ? std::string(e.table) : std::string(alias);
            col = "(SELECT " + side + "." + std::string(f.name) + " FROM " + side + " WHERE " +
                  side + "." + std::string(e.key) + " = " + self + "." + std::string(e.key) + ")";
        }
        p.columns += f.kind == Kind::Time ? d.time_out(col) : col;
        p.fields.push_back(&f);
    }
    return p;
}

int64_t cell_int(const Cell& c) {
    if (!c) return 0;
    int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(c->data(), c->data() + c->size(), v);
    if (ec == std::errc() && ptr == c->data() + c->size()) return v;
    return std::llround(cell_real(c));  // "300.000000" from a NUMERIC sum
}

double cell_real(const Cell& c) {
    return c ? std::strtod(std::string(*c).c_str(), nullptr) : 0.0;
}

bool cell_bool(const Cell& c) {
    return c && (*c == "1" || *c == "t" || *c == "true");
}

ojson to_record(const Projection& p, const Row& row, size_t first_cell) {
    ojson rec = ojson::object();
    for (size_t i = 0; i < p.fields.size(); ++i) {
        const Field& f = *p.fields[i];
        const Cell& c = row.at(first_cell + i);
        ojson& out = rec[std::string(f.name)];
        if (!c) continue;  // null
        switch (f.kind) {
            case Kind::Text:
                out = std::string(*c);
                break;
            case Kind::Int:
                out = cell_int(c);
                break;
            case Kind::Real:
                out = cell_real(c);
                break;
            case Kind::Bool:
                out = cell_bool(c);
                break;
            case Kind::Time:
                out = format_time(cell_int(c));
                break;
            case Kind::Json:
                out = ojson::parse(c->begin(), c->end(), nullptr, false);
                if (out.is_discarded()) out = std::string(*c);  // not written by us; show as is
                break;
        }
    }
    return rec;
}

}  // namespace moolai::storage
