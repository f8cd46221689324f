#include "support/abi_test_host.hpp"

namespace moolai::plugin_test {

std::unique_ptr<Instance> Instance::create(const Library& lib, std::string_view config_json,
                                           Result* result) {
    std::unique_ptr<Instance> inst(new Instance());
    // Raw: the plugin tests also hand over text no host would send.
    inst->host_ = std::make_unique<kit::FakeHost>(kit::RawConfig{std::string(config_json)});
    // Plugins stamp records with now_ms(): the machine's clock unless a test freezes it.
    inst->host_->use_real_clock(true);
    try {
        inst->plugin_ = std::make_unique<kit::Plugin>(lib.kit_library(), *inst->host_);
    } catch (const kit::LoadError& e) {
        if (result != nullptr) *result = Result{e.status(), "", e.plugin_error()};
        return nullptr;
    }
    if (result != nullptr) *result = Result{};
    return inst;
}

}  // namespace moolai::plugin_test
