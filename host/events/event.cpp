#include "events/event.hpp"

#include "common/abi_str.hpp"

#include <chrono>
#include <cstddef>

namespace moolai::host {
namespace {}  // namespace

Event Event::copy_of(const moolai_event& e, std::string source) {
    Event out;
    out.kind = e.kind;
    out.time_ms = e.time_ms;
    out.source = std::move(source);
    out.organization_id = abi_string(e.organization_id);
    out.orchestrator_id = abi_string(e.orchestrator_id);
    out.subject_id = abi_string(e.subject_id);
    out.old_value = abi_string(e.old_value);
    out.new_value = abi_string(e.new_value);
    out.actor = abi_string(e.actor);
    out.detail_json = abi_string(e.detail_json);
    return out;
}

Event Event::about(uint32_t kind, std::string organization_id, std::string orchestrator_id,
                   std::string old_value, std::string new_value, std::string actor) {
    Event e;
    e.kind = kind;
    e.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    e.source = "host";
    e.organization_id = std::move(organization_id);
    e.orchestrator_id = std::move(orchestrator_id);
    e.old_value = std::move(old_value);
    e.new_value = std::move(new_value);
    e.actor = std::move(actor);
    return e;
}

moolai_event Event::view() const noexcept {
    moolai_event e{};
    e.struct_size = sizeof(moolai_event);
    e.kind = kind;
    e.time_ms = time_ms;
    e.organization_id = abi_str(organization_id);
    e.orchestrator_id = abi_str(orchestrator_id);
    e.subject_id = abi_str(subject_id);
    e.old_value = abi_str(old_value);
    e.new_value = abi_str(new_value);
    e.actor = abi_str(actor);
    e.detail_json = abi_str(detail_json);
    return e;
}

const char* event_kind_name(uint32_t kind) noexcept {
    switch (kind) {
        case MOOLAI_EVENT_ORCHESTRATOR_REGISTERED:
            return "orchestrator_registered";
        case MOOLAI_EVENT_ORCHESTRATOR_DISCONNECTED:
            return "orchestrator_disconnected";
        case MOOLAI_EVENT_STATUS_CHANGED:
            return "status_changed";
        case MOOLAI_EVENT_INDEPENDENCE_CHANGED:
            return "independence_changed";
        case MOOLAI_EVENT_MESSAGE_CHANGED:
            return "message_changed";
        case MOOLAI_EVENT_CUSTOM:
            return "custom";
        default:
            return "unknown";
    }
}

}  // namespace moolai::host
