// Event: an owned copy of a moolai_event, safe to queue across threads.
#pragma once

#include <cstdint>
#include <string>

#include "moolai/plugin_types.h"

namespace moolai::host {

struct Event {
    uint32_t kind = 0;
    int64_t time_ms = 0;
    std::string source;  // "host" or the emitting plugin's name
    std::string organization_id;
    std::string orchestrator_id;
    std::string subject_id;
    std::string old_value;
    std::string new_value;
    std::string actor;
    std::string detail_json;

    static Event copy_of(const moolai_event& e, std::string source);
    // A host event about one orchestrator, stamped now.
    static Event about(uint32_t kind, std::string organization_id, std::string orchestrator_id,
                       std::string old_value, std::string new_value, std::string actor);
    // A borrowed view; valid while this Event lives and is not modified.
    moolai_event view() const noexcept;
};

const char* event_kind_name(uint32_t kind) noexcept;

}  // namespace moolai::host
