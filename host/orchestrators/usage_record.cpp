#include "orchestrators/usage_record.hpp"

#include <cmath>
#include <cstdint>
#include <limits>

#include "fleet/fleet_state.hpp"

namespace moolai::host {
using nlohmann::json;

namespace {

// The rules of the storage plugins' usage_reports table
// (plugins/storage_common/src/records.cpp, kUsage), with their messages.
std::optional<std::string> problem_of(const json& rec) {
    for (const char* name : {"period", "model"}) {
        const auto it = rec.find(name);
        if (it == rec.end()) return "missing required field '" + std::string(name) + "'";
        if (it->is_null()) return "field '" + std::string(name) + "' must not be null";
        if (!it->is_string())
            return std::string("field '") + name + "' must be " +
                   (name == std::string("period")
                        ? "an RFC 3339 time such as \"2026-11-28T10:00:00Z\""
                        : "a string");
        if (it->get_ref<const std::string&>().find('\0') != std::string::npos)
            return "field '" + std::string(name) + "' contains a NUL character";
    }
    for (const char* name : {"requests", "input_tokens", "output_tokens"}) {
        const auto it = rec.find(name);
        if (it == rec.end()) continue;
        const std::string field = std::string("field '") + name + "'";
        if (it->is_null()) return field + " must not be null";
        if (!it->is_number_integer()) return field + " must be an integer";
        if (it->is_number_unsigned() &&
            it->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
            return field + " is out of range";
        if (it->get<int64_t>() < 0) return field + " must be >= 0";
    }
    if (const auto it = rec.find("cost_usd"); it != rec.end()) {
        if (it->is_null()) return std::string("field 'cost_usd' must not be null");
        if (!it->is_number()) return std::string("field 'cost_usd' must be a number");
        const double d = it->get<double>();
        if (!std::isfinite(d)) return std::string("field 'cost_usd' must be finite");
        if (d < 0) return std::string("field 'cost_usd' must be >= 0");
    }
    return std::nullopt;
}

}  // namespace

UsageRecord usage_record(const json& frame, const Orchestrator& from) {
    UsageRecord out{json::object(), std::nullopt};
    for (const char* field :
         {"period", "model", "requests", "input_tokens", "output_tokens", "cost_usd"}) {
        const auto it = frame.find(field);
        if (it != frame.end()) out.record[field] = *it;
    }
    out.problem = problem_of(out.record);
    out.record["orchestrator_id"] = from.id;
    out.record["organization_id"] = from.organization_id;
    return out;
}

}  // namespace moolai::host
