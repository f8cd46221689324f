// An independence policy that ignores the heartbeats of one configured
// organization and counts the rest. Small, but it touches what a real
// plugin does: config services, logging, metrics and a capability table.
#include <moolai/sdk.hpp>

#include <string>

namespace {

class QuietOrgPolicy : public moolai::sdk::Plugin, public moolai::sdk::IndependencePolicy {
public:
    static constexpr const char* name = "quiet_org_policy";
    static constexpr const char* version = "1.0.0";
    static constexpr const char* description = "ignores the heartbeats of one organization";
    static constexpr const char* config_schema =
        R"({"type":"object","properties":{"organization":{"type":"string"}},)"
        R"("required":["organization"],"additionalProperties":false})";
    static constexpr uint32_t abi_minor_required = 1;  // reads its config through the host

    QuietOrgPolicy(moolai::sdk::Host host, std::string_view)
        : Plugin(host), quiet_(host.config().string("/organization")) {
        host.info("quiet_org_policy: ignoring organization " + quiet_);
    }

    moolai::sdk::Status on_heartbeat(moolai::sdk::Call&, const moolai_heartbeat_info& hb,
                                     uint32_t& decision) override {
        if (moolai::sdk::view(hb.organization_id) == quiet_) {
            decision = MOOLAI_HEARTBEAT_IGNORE;
            host().metric_add("quiet_org_policy.ignored", 1);
        } else {
            decision = MOOLAI_HEARTBEAT_PROCESS;
        }
        return MOOLAI_OK;
    }

private:
    std::string quiet_;
};

}  // namespace

MOOLAI_PLUGIN(QuietOrgPolicy);
