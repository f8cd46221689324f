// The record a usage_report frame becomes, checked on the io thread before
// it is queued: a report that cannot be stored gets `invalid_field` at once,
// in frame order, instead of later from the storage thread. Storage still
// has the final word (it alone parses `period`).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace moolai::host {

struct Orchestrator;

// The record to store, or the problem in storage's words ("missing required
// field 'model'", "field 'requests' must be >= 0").
struct UsageRecord {
    nlohmann::json record;
    std::optional<std::string> problem;
};

UsageRecord usage_record(const nlohmann::json& frame, const Orchestrator& from);

}  // namespace moolai::host
