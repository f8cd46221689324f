#include "plugins/loaded_plugin.hpp"

namespace moolai::host {

LoadedPlugin::~LoadedPlugin() {
    stop();
    destroy();
}

std::string LoadedPlugin::abi_version() const {
    return std::to_string(descriptor_->abi_major) + "." +
           std::to_string(descriptor_->abi_minor_built);
}

CallResult LoadedPlugin::start() {
    started_ = true;
    if (descriptor_->start == nullptr) return {};
    return call([this](moolai_instance* self, moolai_call* c) {
        return descriptor_->start(self, c);
    });
}

void LoadedPlugin::stop() noexcept {
    if (stopped_ || instance_ == nullptr) return;
    stopped_ = true;
    if (started_ && descriptor_->stop != nullptr) {
        std::lock_guard<std::mutex> lock(mutex_);
        descriptor_->stop(instance_);
    }
}

void LoadedPlugin::destroy() noexcept {
    if (instance_ == nullptr) return;
    std::lock_guard<std::mutex> lock(mutex_);
    descriptor_->destroy(instance_);
    instance_ = nullptr;
}

}  // namespace moolai::host
