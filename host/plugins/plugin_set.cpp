#include "plugins/plugin_set.hpp"

namespace moolai::host {

std::string capability_names(uint64_t caps) {
    static const std::pair<uint64_t, const char*> names[] = {
        {MOOLAI_CAP_AUTH, "auth"},           {MOOLAI_CAP_INDEPENDENCE, "independence"},
        {MOOLAI_CAP_MESSAGING, "messaging"}, {MOOLAI_CAP_STORAGE, "storage"},
        {MOOLAI_CAP_OBSERVER, "observer"}};
    std::string out;
    for (const auto& [bit, name] : names) {
        if (caps & bit) out += (out.empty() ? "" : ",") + std::string(name);
    }
    return out;
}

namespace {

// Exactly-one roles: remember who took it, refuse a second taker.
template <class Client>
void take_role(std::optional<Client>& slot, std::string& owner, const char* role,
               const LoadedPlugin& p) {
    if (slot)
        throw PluginRefused("refusing plugin " + p.path() + ": it provides " + role +
                            ", which plugin " + owner + " already provides; fix: load only one " +
                            role + " plugin");
    slot.emplace(p);
    owner = p.name();
}

}  // namespace

PluginSet::PluginSet(PluginLoader& loader, const std::vector<PluginEntry>& entries) {
    std::string storage_owner, auth_owner, independence_owner, messaging_owner;
    for (const PluginEntry& e : entries) {
        auto p = loader.load(e.path, e.config);
        for (const auto& other : plugins_) {
            if (other->name() == p->name())
                throw PluginRefused("refusing plugin " + p->path() + ": the name \"" + p->name() +
                                    "\" is already taken by " + other->path() +
                                    "; fix: load each plugin once");
        }
        const uint64_t caps = p->capabilities();
        if (caps & MOOLAI_CAP_STORAGE) take_role(storage_, storage_owner, "storage", *p);
        if (caps & MOOLAI_CAP_AUTH) take_role(auth_, auth_owner, "auth", *p);
        if (caps & MOOLAI_CAP_INDEPENDENCE)
            take_role(independence_, independence_owner, "independence", *p);
        if (caps & MOOLAI_CAP_MESSAGING) take_role(messaging_, messaging_owner, "messaging", *p);
        if (caps & MOOLAI_CAP_OBSERVER) observers_.emplace_back(*p);
        plugins_.push_back(std::move(p));
    }
    const char* missing = !storage_        ? "storage"
                          : !auth_         ? "auth"
                          : !independence_ ? "independence"
                          : !messaging_    ? "messaging"
                                           : nullptr;
    if (missing != nullptr)
        throw PluginRefused(std::string("no loaded plugin provides ") + missing +
                            "; fix: add one to \"plugins\" in the config file (the default "
                            "bundle has storage_sqlite, auth_local, independence_default, "
                            "messaging_default)");
}

PluginSet::~PluginSet() {
    stop();
    // Destroy in reverse order of creation.
    while (!plugins_.empty()) plugins_.pop_back();
}

void PluginSet::start() {
    for (const auto& p : plugins_) {
        CallResult r = p->start();
        if (!r.ok())
            throw PluginRefused("plugin " + p->name() + " (" + p->path() + ") failed to start: " +
                                status_name(r.status) + (r.error.empty() ? "" : ": " + r.error));
    }
}

void PluginSet::stop() noexcept {
    if (stopped_) return;
    stopped_ = true;
    for (auto it = plugins_.rbegin(); it != plugins_.rend(); ++it) (*it)->stop();
}

}  // namespace moolai::host
