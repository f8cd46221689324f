// A plugin offering all five capabilities with every entry of every table
// set, each writing its own name as its output. MOOLAI_TABLES_PROBE_NULL
// ("<table>.<entry>") in the environment at load time leaves that one entry
// NULL. Written against the C ABI and the list generated from plugin_api.h,
// not the SDK, so that the host's side is tested alone.
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>

#include "capability_tables.inc"
#include "moolai/plugin_api.h"

namespace {

const moolai_host_api* g_api = nullptr;

template <const char* Name, class F>
struct Echo;
template <const char* Name, class... A>
struct Echo<Name, moolai_status (*)(moolai_instance*, moolai_call*, A...)> {
    static moolai_status fn(moolai_instance*, moolai_call* call, A...) {
        return g_api->write_output(call, moolai_str{Name, std::strlen(Name)});
    }
};

#define MOOLAI_NAME(table, name, index, required) constexpr char name_##table##_##name[] = #name;
#define MOOLAI_NAMES(table) MOOLAI_TABLE_ENTRIES_##table(MOOLAI_NAME)
MOOLAI_TABLES(MOOLAI_NAMES)
#undef MOOLAI_NAMES
#undef MOOLAI_NAME

struct Tables {
    moolai_auth_v1 auth{};
    moolai_independence_v1 independence{};
    moolai_messaging_v1 messaging{};
    moolai_observer_v1 observer{};
    moolai_storage_v1 storage{};
};

// One set per load, kept: a plugin loaded earlier still points at its own.
std::deque<Tables> g_loads;

void fill(Tables& t, const std::string& left_null) {
#define MOOLAI_SIZE(table) t.table.struct_size = sizeof(t.table);
    MOOLAI_TABLES(MOOLAI_SIZE)
#undef MOOLAI_SIZE
#define MOOLAI_SET(table, name, index, required) \
    t.table.name = left_null == #table "." #name \
                       ? nullptr                 \
                       : &Echo<name_##table##_##name, decltype(t.table.name)>::fn;
#define MOOLAI_SET_TABLE(table) MOOLAI_TABLE_ENTRIES_##table(MOOLAI_SET)
    MOOLAI_TABLES(MOOLAI_SET_TABLE)
#undef MOOLAI_SET_TABLE
#undef MOOLAI_SET
}

moolai_status create(const moolai_host_api* api, moolai_host*, moolai_str, moolai_call*,
                     moolai_instance** out) {
    static int instance;
    g_api = api;
    *out = reinterpret_cast<moolai_instance*>(&instance);
    return MOOLAI_OK;
}

void destroy(moolai_instance*) {}

const void* get_capability(uint64_t capability) {
    const Tables& t = g_loads.back();
    switch (capability) {
        case MOOLAI_CAP_AUTH:
            return &t.auth;
        case MOOLAI_CAP_INDEPENDENCE:
            return &t.independence;
        case MOOLAI_CAP_MESSAGING:
            return &t.messaging;
        case MOOLAI_CAP_OBSERVER:
            return &t.observer;
        case MOOLAI_CAP_STORAGE:
            return &t.storage;
        default:
            return nullptr;
    }
}

}  // namespace

extern "C" MOOLAI_PLUGIN_EXPORT const moolai_plugin_descriptor* moolai_plugin_entry(uint32_t,
                                                                                    uint32_t) {
    const char* left_null = std::getenv("MOOLAI_TABLES_PROBE_NULL");
    g_loads.emplace_back();
    fill(g_loads.back(), left_null != nullptr ? left_null : "");
    static const moolai_plugin_descriptor descriptor = [] {
        moolai_plugin_descriptor d{};
        d.struct_size = sizeof(d);
        d.abi_major = MOOLAI_ABI_MAJOR;
        d.abi_minor_built = MOOLAI_ABI_MINOR;
        d.abi_minor_required = 0;
        d.name = "tables_probe";
        d.version = "1.0.0";
        d.description = "every entry of every capability table, each answering its own name";
        d.capabilities = MOOLAI_CAP_AUTH | MOOLAI_CAP_INDEPENDENCE | MOOLAI_CAP_MESSAGING |
                         MOOLAI_CAP_OBSERVER | MOOLAI_CAP_STORAGE;
        d.threading = MOOLAI_THREADING_SERIALIZED;
        d.create = &create;
        d.destroy = &destroy;
        d.get_capability = &get_capability;
        return d;
    }();
    return &descriptor;
}
