// independence_default -- the default independence policy.
//
// Heartbeats: an independent orchestrator's heartbeats are ignored (nothing
// written, acked processed:false); every other heartbeat is processed. This
// runs for every heartbeat, so it allocates nothing and takes no lock.
//
// Toggles: allowed, except for orchestrators of an organization listed in
// "locked_organizations" -- for a tenant whose independence is managed by
// contract, say. The refusal names the organization.
//
// Config: {"locked_organizations": ["org-id", ...]}  (optional, default [])
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "moolai/sdk.hpp"
#include "plugin_config/plugin_config.hpp"

namespace {

using moolai::sdk::Call;
using moolai::sdk::Error;
using moolai::sdk::Host;
using moolai::sdk::Status;
using json = nlohmann::json;

namespace plugin_config = moolai::plugin_config;
constexpr std::string_view kName = "independence_default";

class IndependenceDefault final : public moolai::sdk::Plugin,
                                  public moolai::sdk::IndependencePolicy {
public:
    static constexpr const char* name = "independence_default";
    static constexpr const char* version = "1.0.0";
    static constexpr const char* description =
        "Default independence policy: ignore heartbeats of independent orchestrators; optional "
        "per-organization toggle lock";
    static constexpr uint32_t threading = MOOLAI_THREADING_CONCURRENT;
    static constexpr const char* config_schema = R"({
  "type": "object",
  "properties": {
    "locked_organizations": {
      "type": "array",
      "items": {"type": "string", "minLength": 1, "maxLength": 255}
    }
  },
  "additionalProperties": false
})";

    IndependenceDefault(Host host, std::string_view config_json) : Plugin(host) {
        const json config = plugin_config::parse(kName, config_json, {"locked_organizations"});
        auto locked = config.find("locked_organizations");
        if (locked == config.end()) return;
        if (!locked->is_array())
            plugin_config::bad(kName, "locked_organizations", "must be an array of strings");
        for (size_t i = 0; i < locked->size(); ++i) {
            const json& org = (*locked)[i];
            if (!org.is_string() || org.get_ref<const std::string&>().empty() ||
                org.get_ref<const std::string&>().size() > 255)
                plugin_config::bad(kName, "locked_organizations[" + std::to_string(i) + "]",
                                   "must be an organization id (a string of 1 to 255 bytes)");
            locked_.insert(org.get<std::string>());
        }
    }

    // HOT PATH: a load and a compare.
    Status on_heartbeat(Call&, const moolai_heartbeat_info& heartbeat,
                        uint32_t& decision) override {
        decision =
            heartbeat.is_independent != 0 ? MOOLAI_HEARTBEAT_IGNORE : MOOLAI_HEARTBEAT_PROCESS;
        return MOOLAI_OK;
    }

    Status on_toggle(Call& call, const moolai_toggle_request& request) override {
        if (locked_.empty()) return MOOLAI_OK;
        const std::string_view org = moolai::sdk::view(request.organization_id);
        if (locked_.find(org) == locked_.end()) return MOOLAI_OK;
        std::string why = "independence mode is locked for organization \"";
        why.append(org);
        why.append("\" (independence_default config: locked_organizations)");
        return call.fail(MOOLAI_E_DENIED, why);
    }

private:
    std::set<std::string, std::less<>> locked_;  // less<> finds by string_view
};

}  // namespace

MOOLAI_PLUGIN(IndependenceDefault);
