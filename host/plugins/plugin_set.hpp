// PluginSet: the plugins of one controller, loaded in config order, with
// the roles the controller needs: exactly one storage, auth, independence
// policy and messaging provider, and any number of observers.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/controller_config.hpp"
#include "plugins/capability_clients.hpp"
#include "plugins/plugin_loader.hpp"

namespace moolai::host {

class PluginSet {
public:
    // Loads every entry; throws PluginRefused (one line) on the first
    // refusal or when a role is missing or taken twice.
    PluginSet(PluginLoader& loader, const std::vector<PluginEntry>& entries);
    ~PluginSet();  // stops (reverse order) and destroys; libraries stay mapped

    // Starts every plugin in load order; throws PluginRefused on failure.
    void start();
    void stop() noexcept;

    const std::vector<std::unique_ptr<LoadedPlugin>>& plugins() const noexcept { return plugins_; }
    const StorageClient& storage() const { return *storage_; }
    // See StorageClient::set_observer: before concurrent use only.
    void set_storage_observer(std::function<void(const CallResult&)> observer) {
        storage_->set_observer(std::move(observer));
    }
    const AuthClient& auth() const { return *auth_; }
    const IndependenceClient& independence() const { return *independence_; }
    const MessagingClient& messaging() const { return *messaging_; }
    const std::vector<ObserverClient>& observers() const noexcept { return observers_; }

private:
    std::vector<std::unique_ptr<LoadedPlugin>> plugins_;
    std::optional<StorageClient> storage_;
    std::optional<AuthClient> auth_;
    std::optional<IndependenceClient> independence_;
    std::optional<MessagingClient> messaging_;
    std::vector<ObserverClient> observers_;
    bool stopped_ = false;
};

std::string capability_names(uint64_t caps);

}  // namespace moolai::host
