// JsonSchema: checks a plugin's config block against the JSON Schema the
// plugin declares, before the plugin ever sees it. Debian 12 packages no
// C++ JSON Schema validator, so this is a documented subset of draft-07:
// type, enum, const, properties, required, additionalProperties, items,
// minimum, maximum, minLength, maxLength, minItems, maxItems, pattern.
// Unknown keywords are ignored, as the draft says.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace moolai::host {

// nullopt when `doc` conforms; else the first problem, e.g.
// "at /pool_size: 0 is less than the minimum 1".
std::optional<std::string> validate_json_schema(const nlohmann::json& schema,
                                                const nlohmann::json& doc);

}  // namespace moolai::host
