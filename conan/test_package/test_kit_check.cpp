// Loads the plugin .so with the test kit's fake host and checks what it
// does. Exit status 0 only when every check holds.
#include <moolai/sdk/testing.hpp>

#include <cstdio>
#include <exception>
#include <string>

extern "C" unsigned c_headers_abi_major(void);

namespace {

int passed = 0;
int failures = 0;

void check(bool ok, const char* what) {
    std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
    ++(ok ? passed : failures);
}

}  // namespace

int main() try {
    namespace t = moolai::sdk::testing;
    check(c_headers_abi_major() == MOOLAI_ABI_MAJOR, "the C headers compile as C99");

    t::FakeHost host(R"({"organization":"org-quiet"})");
    t::Plugin plugin = t::Plugin::load(PLUGIN_PATH, host);
    check(std::string(plugin.descriptor().name) == "quiet_org_policy", "descriptor names the plugin");
    check(host.logged("ignoring organization org-quiet"), "the plugin read its config and logged");

    uint32_t decision = 99;
    t::Result r = plugin.on_heartbeat(t::Heartbeat{"orch-1", "org-busy"}.view(), decision);
    check(r.ok() && decision == MOOLAI_HEARTBEAT_PROCESS, "another organization is processed");
    r = plugin.on_heartbeat(t::Heartbeat{"orch-2", "org-quiet"}.view(), decision);
    check(r.ok() && decision == MOOLAI_HEARTBEAT_IGNORE, "the quiet organization is ignored");
    check(host.counter("quiet_org_policy.ignored") == 1, "the ignored heartbeat is counted");

    // A config without the required key is refused at load, with a reason.
    t::FakeHost bad_host("{}");
    bool refused = false;
    try {
        t::Plugin::load(PLUGIN_PATH, bad_host);
    } catch (const std::exception& e) {
        refused = std::string(e.what()).find("/organization") != std::string::npos;
        std::printf("refusal: %s\n", e.what());
    }
    check(refused, "a config without /organization is refused, naming the pointer");

    std::printf("test_kit_check: %d passed, %d failed\n", passed, failures);
    return failures == 0 ? 0 : 1;
} catch (const std::exception& e) {
    std::printf("FAILED: %s\n", e.what());
    return 1;
}
