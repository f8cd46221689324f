// plugin_config: reading a plugin's config block, shared by the default
// plugins. The host has already checked the block against the plugin's
// JSON Schema; these checks repeat the rules so a plugin refuses bad input
// with the same clear text under any host, naming the field.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "moolai/sdk.hpp"

namespace moolai::plugin_config {

// Throws MOOLAI_E_INVALID: `<plugin> config: "<field>" <what>`.
[[noreturn]] inline void bad(std::string_view plugin, const std::string& field,
                             const std::string& what) {
    throw sdk::Error(MOOLAI_E_INVALID, std::string(plugin) + " config: \"" + field + "\" " + what);
}

// Parses the block: blank text is {}, anything but an object is refused,
// and so is every key not in `known`.
inline nlohmann::json parse(std::string_view plugin, std::string_view text,
                            std::initializer_list<std::string_view> known) {
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
        return nlohmann::json::object();
    nlohmann::json config = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (config.is_discarded() || !config.is_object())
        throw sdk::Error(MOOLAI_E_INVALID, std::string(plugin) + " config: must be a JSON object");
    for (auto it = config.begin(); it != config.end(); ++it) {
        bool ok = false;
        for (std::string_view k : known) ok = ok || it.key() == k;
        if (!ok) bad(plugin, it.key(), "is not a known setting");
    }
    return config;
}

// The integer `field` in [min, max], or `fallback` when absent. 4.0 counts
// as an integer, as it does for JSON Schema.
inline uint64_t integer(std::string_view plugin, const nlohmann::json& config,
                        const std::string& field, uint64_t min, uint64_t max, uint64_t fallback) {
    auto it = config.find(field);
    if (it == config.end()) return fallback;
    const std::string range =
        "must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
    if (it->is_number_unsigned()) {
        const uint64_t v = it->get<uint64_t>();
        if (v < min || v > max) bad(plugin, field, range);
        return v;
    }
    if (it->is_number_float()) {
        const double v = it->get<double>();
        if (v < double(min) || v > double(max) ||
            v != static_cast<double>(static_cast<uint64_t>(v)))
            bad(plugin, field, range);
        return static_cast<uint64_t>(v);
    }
    bad(plugin, field, range);  // negative integers, strings, ...
}

}  // namespace moolai::plugin_config
