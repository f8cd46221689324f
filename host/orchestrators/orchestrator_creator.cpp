#include "orchestrators/orchestrator_creator.hpp"

#include <nlohmann/json.hpp>

#include "fleet/fleet_state.hpp"
#include "plugins/capability_clients.hpp"

namespace moolai::host {
using nlohmann::json;

void OrchestratorCreator::start() {
    queue_.start(1, [this](Request& r) { create(r); });
}

void OrchestratorCreator::stop() {
    queue_.stop(Queue::AtStop::hand_back);
}

bool OrchestratorCreator::push(Request&& request) {
    return queue_.push(std::move(request)) != Queue::Pushed::refused;
}

void OrchestratorCreator::create(Request& r) {
    CallResult made;
    std::shared_ptr<Orchestrator> o = fleet_.find(r.orchestrator_id);
    if (!o) {  // not created by a register queued before this one
        storage_.org_create(
            json{{"organization_id", r.organization_id}, {"name", r.organization_id}}.dump());
        made = storage_.orch_create(json{
            {"orchestrator_id", r.orchestrator_id},
            {"organization_id", r.organization_id},
            {"name", r.orchestrator_id}}.dump());
        if (made.ok() || made.status == MOOLAI_E_CONFLICT) {
            made = CallResult{};
            o = fleet_.add(r.orchestrator_id, r.organization_id, "");
        }
    }
    try {
        r.done(o, made);
    } catch (const std::exception&) {
        // Done posts to a connection; nothing here to recover.
    }
}

}  // namespace moolai::host
