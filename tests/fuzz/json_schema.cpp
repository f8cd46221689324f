// Fuzz target: the JSON Schema subset (validate_json_schema) that checks
// the config file and every plugin's config block. An input without a NUL
// byte is a document checked against the real schemas (the host's and the
// default plugins'); "schema\0document" fuzzes both sides.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/controller_config.hpp"
#include "config/json_schema.hpp"

namespace {

using nlohmann::json;

// The default bundle's config_schema strings (plugins/*), as the loader
// checks config blocks against them.
const char* const kPluginSchemas[] = {
    R"({"type":"object","properties":{"path":{"type":"string"},
        "busy_timeout_ms":{"type":"integer","minimum":0,"maximum":600000,"default":5000}},
        "additionalProperties":false})",
    R"({"type":"object","properties":{"locked_organizations":{"type":"array",
        "items":{"type":"string","minLength":1,"maxLength":255}}},"additionalProperties":false})",
    R"({"type":"object","properties":{"host":{"type":"string"},
        "port":{"type":"integer","minimum":1,"maximum":65535},"user":{"type":"string"},
        "password":{"type":"string"},"dbname":{"type":"string"},
        "pool_size":{"type":"integer","minimum":1,"maximum":64,"default":4},
        "connect_timeout_s":{"type":"integer","minimum":1,"maximum":60,"default":3}},
        "additionalProperties":false})",
    R"({"type":"object","properties":{"argon2_opslimit":{"type":"integer","minimum":2,"maximum":32},
        "argon2_memlimit_mib":{"type":"integer","minimum":19,"maximum":4096},
        "max_concurrent_hashes":{"type":"integer","minimum":1,"maximum":256},
        "token_pepper":{"type":"string","minLength":16,"maxLength":64}},
        "additionalProperties":false})",
    R"({"type":"object","properties":{"max_content_bytes":{"type":"integer","minimum":1,
        "maximum":1048576}},"additionalProperties":false})",
};

// A fuzzed schema's "pattern" goes to std::regex, whose backtracking any
// short pattern can make exponential. Schemas are the plugins' own code,
// not input, so patterns are taken out of fuzzed schemas (the real ones
// with a pattern, the host's, are checked with theirs above).
void drop_patterns(json& s) {
    if (s.is_object()) {
        s.erase("pattern");
        for (auto& [key, child] : s.items()) drop_patterns(child);
    } else if (s.is_array()) {
        for (auto& child : s) drop_patterns(child);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const size_t nul = in.find('\0');
    if (nul == std::string_view::npos) {
        const json doc = json::parse(in, nullptr, false);
        if (doc.is_discarded()) return 0;
        static const json host = json::parse(moolai::host::controller_config_schema());
        (void)moolai::host::validate_json_schema(host, doc);
        static const std::vector<json> plugins = [] {
            std::vector<json> v;
            for (const char* s : kPluginSchemas) v.push_back(json::parse(s));
            return v;
        }();
        for (const json& s : plugins) (void)moolai::host::validate_json_schema(s, doc);
        return 0;
    }
    json schema = json::parse(in.substr(0, nul), nullptr, false);
    const json doc = json::parse(in.substr(nul + 1), nullptr, false);
    if (schema.is_discarded() || doc.is_discarded()) return 0;
    drop_patterns(schema);
    (void)moolai::host::validate_json_schema(schema, doc);
    return 0;
}
