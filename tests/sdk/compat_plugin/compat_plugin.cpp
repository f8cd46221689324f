// The cross-toolchain proof: this one source is built twice, by g++ with
// libstdc++ (in-tree) and by clang++ with libc++ (out of tree, against the
// installed SDK), and both builds must pass the same tests inside the g++
// host. It leans on the C++ runtime on purpose: strings, containers,
// exceptions thrown and caught inside the plugin, and exceptions that the
// SDK has to stop at the wall.
#include <map>
#include <moolai/sdk.hpp>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

std::vector<std::string> split(std::string_view text) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : text) {
        if (c == ',') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else if (c != ' ' && c != '"' && c != '[' && c != ']') {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

}  // namespace

class CompatPlugin : public moolai::sdk::Plugin,
                     public moolai::sdk::IndependencePolicy,
                     public moolai::sdk::Observer {
public:
    static constexpr const char* name = "compat_plugin";
    static constexpr const char* version = "1.0.0";
    static constexpr const char* description = "cross-toolchain ABI probe";
    static constexpr uint32_t threading = MOOLAI_THREADING_CONCURRENT;
    static constexpr const char* config_schema =
        R"({"type":"object","properties":{"quiet_prefixes":{"type":"string"}},
            "additionalProperties":false})";

    CompatPlugin(moolai::sdk::Host host, std::string_view config) : Plugin(host) {
        const auto key = config.find("quiet_prefixes");
        if (key != std::string_view::npos) {
            const auto start = config.find('"', config.find(':', key)) + 1;
            quiet_ = split(config.substr(start, config.find('"', start) - start));
        }
    }

    moolai::sdk::Status on_heartbeat(moolai::sdk::Call&, const moolai_heartbeat_info& hb,
                                     uint32_t& decision) override {
        const std::string id(moolai::sdk::view(hb.orchestrator_id));
        decision = hb.is_independent ? MOOLAI_HEARTBEAT_IGNORE : MOOLAI_HEARTBEAT_PROCESS;
        for (const std::string& p : quiet_) {
            if (id.compare(0, p.size(), p) == 0) decision = MOOLAI_HEARTBEAT_IGNORE;
        }
        return MOOLAI_OK;
    }

    moolai::sdk::Status on_toggle(moolai::sdk::Call& call, const moolai_toggle_request& r) override {
        const std::string org(moolai::sdk::view(r.organization_id));
        try {
            if (org == "org-throws-inside") throw std::invalid_argument("caught inside");
        } catch (const std::invalid_argument& e) {
            return call.fail(MOOLAI_E_DENIED, std::string("plugin caught: ") + e.what());
        }
        if (org == "org-throws-out") throw std::runtime_error("thrown out of " + org);
        if (org == "org-error") throw moolai::sdk::Error(MOOLAI_E_CONFLICT, "sdk error for " + org);
        return MOOLAI_OK;
    }

    moolai::sdk::Status on_event(moolai::sdk::Call& call, const moolai_event& e) override {
        std::lock_guard<std::mutex> lock(mutex_);
        ++counts_[std::string(moolai::sdk::view(e.orchestrator_id))];
        std::string out;
        for (const auto& [id, n] : counts_) out += id + "=" + std::to_string(n) + ";";
        // Bytes with an embedded NUL cross intact.
        out += std::string("\0end", 4);
        return call.output(out);
    }

private:
    std::vector<std::string> quiet_;
    std::mutex mutex_;
    std::map<std::string, int> counts_;
};

MOOLAI_PLUGIN(CompatPlugin);
