// The only translation unit that includes Boost.DLL.
#include "plugins/plugin_loader.hpp"

#include "common/abi_str.hpp"

#include <boost/dll/shared_library.hpp>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <vector>

#include "config/json_schema.hpp"
#include "plugins/host_services.hpp"

namespace moolai::host {
namespace {

// Libraries stay mapped until exit: code of a plugin may still run on a
// thread it forgot to join, and glibc often cannot unload C++ libraries
// anyway (STB_GNU_UNIQUE). PostgreSQL and SQLite made the same choice.
void retain_forever(boost::dll::shared_library&& lib) {
    static std::mutex mutex;
    static auto* retained = new std::vector<boost::dll::shared_library>();
    std::lock_guard<std::mutex> lock(mutex);
    retained->push_back(std::move(lib));
}

const std::string kHostAbi =
    std::to_string(MOOLAI_ABI_MAJOR) + "." + std::to_string(MOOLAI_ABI_MINOR);

struct Refusal {
    std::string path;
    std::string plugin_abi = "unknown";

    [[noreturn]] void operator()(const std::string& problem, const std::string& fix) const {
        throw PluginRefused("refusing plugin " + path + ": " + problem + "; plugin ABI " +
                            plugin_abi + ", host ABI " + kHostAbi + "; fix: " + fix);
    }
};

struct RequiredFn {
    const char* name;
    size_t offset;
};

// Checks one capability table: present, covering ABI 1.0 (a longer table of
// a newer minor is fine: this host never reads past what it knows), and the
// required 1.0 functions set.
void check_table(const Refusal& refuse, const char* capability, const void* table,
                 uint32_t min_size, std::initializer_list<RequiredFn> required) {
    const std::string cap = capability;
    if (table == nullptr)
        refuse("it declares capability " + cap + " but get_capability() returned NULL for it",
               "return the " + cap + " table, or drop the capability bit");
    uint32_t size = 0;
    std::memcpy(&size, table, sizeof size);
    if (size < min_size)
        refuse("its " + cap + " table has struct_size " + std::to_string(size) +
                   ", shorter than the " + std::to_string(min_size) + " bytes of ABI 1.0",
               "build it with the SDK's MOOLAI_PLUGIN macro, or set struct_size to "
               "sizeof the table as the plugin_api headers declare it");
    for (const RequiredFn& fn : required) {
        void (*ptr)() = nullptr;
        std::memcpy(&ptr, static_cast<const char*>(table) + fn.offset, sizeof ptr);
        if (ptr == nullptr)
            refuse("capability " + cap + " lacks the required function " + fn.name,
                   "implement " + std::string(fn.name) + " (the SDK's base class declares it)");
    }
}

#define MOOLAI_REQ(type, field)       \
    RequiredFn {                      \
#field, offsetof(type, field) \
    }

void check_capabilities(const Refusal& refuse, const moolai_plugin_descriptor* d,
                        const moolai_auth_v1*& auth, const moolai_independence_v1*& independence,
                        const moolai_messaging_v1*& messaging, const moolai_storage_v1*& storage,
                        const moolai_observer_v1*& observer) {
    const uint64_t caps = d->capabilities;
    if (caps == 0) refuse("it declares no capability", "derive from at least one SDK capability");
    if ((caps & ~MOOLAI_CAP_KNOWN_1_0) != 0)
        refuse(
            "it declares capability bits this host does not know (0x" +
                [&] {
                    char b[32];
                    std::snprintf(b, sizeof b, "%llx",
                                  static_cast<unsigned long long>(caps & ~MOOLAI_CAP_KNOWN_1_0));
                    return std::string(b);
                }() +
                ")",
            "upgrade the host, or raise abi_minor_required so older hosts refuse it early");
    if (caps & MOOLAI_CAP_AUTH) {
        const void* t = d->get_capability(MOOLAI_CAP_AUTH);
        check_table(
            refuse, "auth", t, MOOLAI_AUTH_V1_SIZE_1_0,
            {MOOLAI_REQ(moolai_auth_v1, hash_password), MOOLAI_REQ(moolai_auth_v1, verify_password),
             MOOLAI_REQ(moolai_auth_v1, new_token), MOOLAI_REQ(moolai_auth_v1, hash_token)});
        auth = static_cast<const moolai_auth_v1*>(t);
    }
    if (caps & MOOLAI_CAP_INDEPENDENCE) {
        const void* t = d->get_capability(MOOLAI_CAP_INDEPENDENCE);
        check_table(refuse, "independence", t, MOOLAI_INDEPENDENCE_V1_SIZE_1_0,
                    {MOOLAI_REQ(moolai_independence_v1, on_heartbeat)});
        independence = static_cast<const moolai_independence_v1*>(t);
    }
    if (caps & MOOLAI_CAP_MESSAGING) {
        const void* t = d->get_capability(MOOLAI_CAP_MESSAGING);
        check_table(
            refuse, "messaging", t, MOOLAI_MESSAGING_V1_SIZE_1_0,
            {MOOLAI_REQ(moolai_messaging_v1, accept), MOOLAI_REQ(moolai_messaging_v1, route),
             MOOLAI_REQ(moolai_messaging_v1, render)});
        messaging = static_cast<const moolai_messaging_v1*>(t);
    }
    if (caps & MOOLAI_CAP_OBSERVER) {
        const void* t = d->get_capability(MOOLAI_CAP_OBSERVER);
        check_table(refuse, "observer", t, MOOLAI_OBSERVER_V1_SIZE_1_0,
                    {MOOLAI_REQ(moolai_observer_v1, on_event)});
        observer = static_cast<const moolai_observer_v1*>(t);
    }
    if (caps & MOOLAI_CAP_STORAGE) {
        using S = moolai_storage_v1;
        const void* t = d->get_capability(MOOLAI_CAP_STORAGE);
        check_table(refuse, "storage", t, MOOLAI_STORAGE_V1_SIZE_1_0,
                    {MOOLAI_REQ(S, migrate),
                     MOOLAI_REQ(S, ping),
                     MOOLAI_REQ(S, org_create),
                     MOOLAI_REQ(S, org_update),
                     MOOLAI_REQ(S, org_get),
                     MOOLAI_REQ(S, org_list),
                     MOOLAI_REQ(S, org_delete),
                     MOOLAI_REQ(S, orch_create),
                     MOOLAI_REQ(S, orch_update),
                     MOOLAI_REQ(S, orch_get),
                     MOOLAI_REQ(S, orch_list),
                     MOOLAI_REQ(S, orch_delete),
                     MOOLAI_REQ(S, orch_scan),
                     MOOLAI_REQ(S, orch_set_independence),
                     MOOLAI_REQ(S, orch_set_credential),
                     MOOLAI_REQ(S, heartbeats_write),
                     MOOLAI_REQ(S, msg_create),
                     MOOLAI_REQ(S, msg_get),
                     MOOLAI_REQ(S, msg_list),
                     MOOLAI_REQ(S, msg_set_status),
                     MOOLAI_REQ(S, msg_update_delivery),
                     MOOLAI_REQ(S, usage_insert),
                     MOOLAI_REQ(S, usage_aggregate),
                     MOOLAI_REQ(S, user_create),
                     MOOLAI_REQ(S, user_get),
                     MOOLAI_REQ(S, user_update),
                     MOOLAI_REQ(S, user_list),
                     MOOLAI_REQ(S, user_delete),
                     MOOLAI_REQ(S, session_create),
                     MOOLAI_REQ(S, session_get),
                     MOOLAI_REQ(S, session_delete),
                     MOOLAI_REQ(S, session_purge),
                     MOOLAI_REQ(S, audit_append),
                     MOOLAI_REQ(S, audit_list)});
        storage = static_cast<const S*>(t);
    }
}

bool valid_plugin_name(const char* name) {
    if (name == nullptr) return false;
    const size_t n = std::strlen(name);
    if (n == 0 || n > 64) return false;
    for (size_t i = 0; i < n; ++i) {
        const char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

// "1.2 (requires 1.0)": the plugin's ABI in refusals.
std::string abi_text(const moolai_plugin_descriptor* d) {
    return std::to_string(d->abi_major) + "." + std::to_string(d->abi_minor_built) + " (requires " +
           std::to_string(d->abi_major) + "." + std::to_string(d->abi_minor_required) + ")";
}

}  // namespace

DescriptorTables check_plugin_descriptor(const std::string& path,
                                         const moolai_plugin_descriptor* d) {
    Refusal refuse{path};
    if (d == nullptr)
        refuse("moolai_plugin_entry() returned NULL (the plugin declined this host)",
               "see the plugin's documentation for the host versions it supports");
    // The four version fields are readable in every major: they lead the struct.
    if (d->struct_size < 4 * sizeof(uint32_t))
        refuse("its descriptor has struct_size " + std::to_string(d->struct_size) +
                   ", too short to carry a version",
               "build it with the SDK's MOOLAI_PLUGIN macro");
    refuse.plugin_abi = abi_text(d);
    if (d->abi_major != MOOLAI_ABI_MAJOR)
        refuse("its ABI major version " + std::to_string(d->abi_major) +
                   " differs from the host's " + std::to_string(MOOLAI_ABI_MAJOR),
               "rebuild the plugin against the " + std::to_string(MOOLAI_ABI_MAJOR) +
                   ".x SDK, or run a host of major " + std::to_string(d->abi_major));
    if (d->abi_minor_required > MOOLAI_ABI_MINOR)
        refuse("it requires ABI minor " + std::to_string(d->abi_minor_required) +
                   ", newer than the host's " + std::to_string(MOOLAI_ABI_MINOR),
               "upgrade the host, or rebuild the plugin with abi_minor_required <= " +
                   std::to_string(MOOLAI_ABI_MINOR));
    if (d->abi_minor_required > d->abi_minor_built)
        refuse("it requires ABI minor " + std::to_string(d->abi_minor_required) +
                   " but was built with minor " + std::to_string(d->abi_minor_built),
               "set abi_minor_required no higher than the SDK it is built with");
    // Any minor's descriptor covers 1.0; this host reads only 1.0 fields.
    if (d->struct_size < MOOLAI_PLUGIN_DESCRIPTOR_SIZE_1_0)
        refuse("its descriptor has struct_size " + std::to_string(d->struct_size) +
                   ", shorter than the " + std::to_string(MOOLAI_PLUGIN_DESCRIPTOR_SIZE_1_0) +
                   " bytes of ABI 1.0",
               "rebuild it with the SDK's MOOLAI_PLUGIN macro");
    if (!valid_plugin_name(d->name))
        refuse("its name is missing or not [a-z0-9_]{1,64}", "give the plugin a valid name");
    if (d->version == nullptr || d->description == nullptr)
        refuse("its descriptor lacks a version or a description", "fill both in");
    if (d->threading != MOOLAI_THREADING_SERIALIZED && d->threading != MOOLAI_THREADING_CONCURRENT)
        refuse("its threading mode " + std::to_string(d->threading) + " is unknown",
               "declare MOOLAI_THREADING_SERIALIZED or MOOLAI_THREADING_CONCURRENT");
    if (d->create == nullptr || d->destroy == nullptr || d->get_capability == nullptr)
        refuse(std::string("its descriptor lacks the required function ") +
                   (d->create == nullptr    ? "create"
                    : d->destroy == nullptr ? "destroy"
                                            : "get_capability"),
               "build it with the SDK's MOOLAI_PLUGIN macro, which fills them in");

    DescriptorTables t;
    check_capabilities(refuse, d, t.auth, t.independence, t.messaging, t.storage, t.observer);
    return t;
}

std::unique_ptr<LoadedPlugin> PluginLoader::load(const std::string& path,
                                                 const nlohmann::json& config) {
    Refusal refuse{path};
    namespace dll = boost::dll;

    dll::shared_library lib;
    try {
        lib.load(path, dll::load_mode::rtld_now | dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        // Boost appends an errno text ("Bad file descriptor") that means nothing here.
        std::string why = e.what();
        if (auto cut = why.find("): "); cut != std::string::npos) why = why.substr(0, cut + 1);
        refuse("the shared object cannot be loaded: " + why,
               "check the path and that every library it needs is installed (ldd)");
    }
    if (!lib.has(MOOLAI_PLUGIN_ENTRY_SYMBOL))
        refuse("it does not export moolai_plugin_entry()",
               "export it with MOOLAI_PLUGIN(YourClass) from the SDK");
    auto entry =
        lib.get<const moolai_plugin_descriptor*(uint32_t, uint32_t)>(MOOLAI_PLUGIN_ENTRY_SYMBOL);
    const moolai_plugin_descriptor* d = entry(MOOLAI_ABI_MAJOR, MOOLAI_ABI_MINOR);
    retain_forever(std::move(lib));

    const DescriptorTables tables = check_plugin_descriptor(path, d);
    refuse.plugin_abi = abi_text(d);

    std::unique_ptr<LoadedPlugin> p(new LoadedPlugin());
    p->name_ = d->name;
    p->path_ = path;
    p->descriptor_ = d;
    p->serialized_ = d->threading == MOOLAI_THREADING_SERIALIZED;
    p->auth_ = tables.auth;
    p->independence_ = tables.independence;
    p->messaging_ = tables.messaging;
    p->storage_ = tables.storage;
    p->observer_ = tables.observer;

    const nlohmann::json cfg = config.is_null() ? nlohmann::json::object() : config;
    if (!cfg.is_object())
        refuse("its config block is " + std::string(cfg.type_name()) + ", not a JSON object",
               "make the plugin's \"config\" a JSON object");
    if (d->config_schema != nullptr) {
        nlohmann::json schema;
        try {
            schema = nlohmann::json::parse(d->config_schema);
        } catch (const std::exception& e) {
            refuse(std::string("its config_schema is not valid JSON: ") + e.what(),
                   "fix the schema the plugin declares");
        }
        if (auto problem = validate_json_schema(schema, cfg))
            refuse("its config block was rejected by the plugin's schema: " + *problem,
                   "correct the \"config\" of plugin " + p->name_ + " in the host's config file");
    }

    p->host_context_ = std::make_unique<moolai_host>(
        moolai_host{p->name_, &services_, std::make_shared<const nlohmann::json>(cfg)});
    const std::string cfg_text = cfg.dump();
    CallResult r;
    moolai_call call{nullptr, &r.error};
    moolai_instance* instance = nullptr;
    r.status =
        d->create(host_api_table(), p->host_context_.get(), abi_str(cfg_text), &call, &instance);
    if (r.status != MOOLAI_OK && instance != nullptr) d->destroy(instance);
    if (r.status == MOOLAI_OK && instance == nullptr) r.status = MOOLAI_E_INTERNAL;
    if (r.status != MOOLAI_OK)
        refuse(std::string("create() failed with ") + status_name(r.status) +
                   (r.error.empty() ? std::string() : ": " + r.error),
               "correct the plugin's config or environment as the message says");
    p->instance_ = instance;
    return p;
}

}  // namespace moolai::host
