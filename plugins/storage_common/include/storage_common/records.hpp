// storage_common/records.hpp -- the record shapes of moolai_storage_v1 as
// data: one field table per entity drives validation of input JSON, the
// column lists of the SQL and the JSON written back. Plus the value helpers
// both backends need (RFC 3339 time, UTF-8, LIKE patterns).
#ifndef MOOLAI_STORAGE_COMMON_RECORDS_HPP
#define MOOLAI_STORAGE_COMMON_RECORDS_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "storage_common/backend.hpp"

namespace moolai::storage {

using json = nlohmann::json;           // parsed input
using ojson = nlohmann::ordered_json;  // output: fields in table order

// ---- values ---------------------------------------------------------------

// Unix ms -> "YYYY-MM-DDTHH:MM:SSZ" (UTC, whole seconds: the wire format).
std::string format_time(int64_t ms);
// RFC 3339 ("2026-11-28T10:00:00Z", optional fraction, Z or +hh:mm) -> Unix ms.
std::optional<int64_t> parse_time(std::string_view text);
bool valid_utf8(std::string_view s) noexcept;
// A string a text column can hold identically on both backends: valid UTF-8,
// no NUL (PostgreSQL text cannot store NUL; SQLite would).
bool storable(std::string_view s) noexcept;
// "%needle%" for LIKE ... ESCAPE '\', with %, _ and \ in `needle` escaped.
std::string like_contains(std::string_view needle);
// `s` shortened and made printable for an error message.
std::string shown(std::string_view s);
// JSON text for output; invalid UTF-8 (never written by us) is replaced
// instead of throwing.
std::string dump(const ojson& j);

// Throws sdk::Error(MOOLAI_E_INVALID, message).
[[noreturn]] void invalid(const std::string& message);
// Parses `text` as a JSON object; INVALID with the parser's reason otherwise.
json parse_object(std::string_view text, std::string_view what);

// ---- entities ---------------------------------------------------------------

enum class Kind : uint8_t { Text, Int, Real, Bool, Json, Time };

enum FieldFlag : unsigned {
    KEY = 1u << 0,          // primary key: required, non-empty, never patched
    REQUIRED = 1u << 1,     // must be present and not null on create
    AUTO = 1u << 2,         // owned by storage: ignored in input (DB default or an op sets it)
    STAMP = 1u << 3,        // created_at/updated_at-like: set to now by storage
    SECRET = 1u << 4,       // output only by the *_get of that record (password_hash)
    WRITE_ONLY = 1u << 5,   // accepted in input, never output (credential_hash)
    NONNEG = 1u << 6,       // number >= 0
    DEFAULT_NOW = 1u << 7,  // now when absent (audit time)
    SIDE = 1u << 8,         // kept in the entity's side table (one row per key), not its own
};

struct Field {
    std::string_view name;  // JSON field name == column name
    Kind kind;
    unsigned flags = 0;
    uint32_t max_chars = 255;                    // Text: limit in characters, 0 = none
    std::vector<std::string_view> allowed = {};  // Text: the only accepted values
    const struct Entity* ref = nullptr;          // Text: must be the key of a row of this entity

    bool has(unsigned f) const noexcept { return (flags & f) != 0; }
};

struct Entity {
    std::string_view table;
    std::string_view key;    // primary key column
    std::string_view what;   // "organization", for messages
    std::string_view order;  // ORDER BY of listings
    std::vector<Field> fields;
    // Cross-field rule on a whole record (after a patch is merged); throws INVALID.
    void (*check)(const json& record) = nullptr;
    // Table of the SIDE fields: its primary key is `key`, referencing this
    // entity's, ON DELETE CASCADE; a record without a side row reads NULL.
    std::string_view side_table = {};

    const Field* field(std::string_view name) const noexcept;
    bool has_updated_at() const noexcept { return field("updated_at") != nullptr; }
};

extern const Entity kOrganization;
extern const Entity kOrchestrator;
extern const Entity kMessage;
extern const Entity kUsage;
extern const Entity kUser;
extern const Entity kSession;
extern const Entity kAudit;

// The input value `v` of field `f`, checked (INVALID naming the field when not).
Value to_value(const Field& f, const json& v);

// A SELECT column list and the fields it yields, in order.
struct Projection {
    std::vector<const Field*> fields;
    std::string columns;  // "a, b, <time_out(c)>", optionally prefixed by an alias
};
Projection project(const Entity& e, const Dialect& d, bool with_secrets,
                   std::string_view alias = {});
// One row of a projection as a JSON record.
ojson to_record(const Projection& p, const Row& row, size_t first_cell = 0);

// Cells of numeric results (COUNT, SUM, Unix ms); NULL reads as 0.
int64_t cell_int(const Cell& c);
double cell_real(const Cell& c);
bool cell_bool(const Cell& c);

}  // namespace moolai::storage

#endif  // MOOLAI_STORAGE_COMMON_RECORDS_HPP
