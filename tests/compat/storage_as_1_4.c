/* storage_postgres as a 1.4 host sees a storage plugin built against the
 * ABI 1.4 headers: the real plugin (REAL_STORAGE, its path fixed at build
 * time) behind a descriptor that says 1.4 and a storage table of 1.4's
 * size. A 1.5 host must then never call heartbeats_write_leased, write its
 * heartbeat batches alone and renew its lease apart (docs/abi.md). Built
 * with the frozen 1.4 headers only; everything else is passed through. */
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

#include "moolai/plugin_api.h"

#if MOOLAI_ABI_MINOR != 4
#error "storage_as_1_4 must be built against tests/abi/frozen/1.4/include"
#endif

static moolai_plugin_descriptor g_descriptor;
static moolai_storage_v1 g_storage; /* 1.4's layout: ends before heartbeats_write_leased */
static const void* (*g_real_get_capability)(uint64_t capability);

static const void* get_capability(uint64_t capability) {
    if (capability == MOOLAI_CAP_STORAGE) return &g_storage;
    return g_real_get_capability(capability);
}

MOOLAI_PLUGIN_EXPORT const moolai_plugin_descriptor* moolai_plugin_entry(uint32_t host_abi_major,
                                                                         uint32_t host_abi_minor) {
    void* lib = dlopen(REAL_STORAGE, RTLD_NOW | RTLD_LOCAL);
    moolai_plugin_entry_fn entry;
    const moolai_plugin_descriptor* real;
    const moolai_storage_v1* table;
    if (lib == NULL) return NULL;
    {
        /* POSIX's way to a function from dlsym (ISO C has no such cast). */
        void* symbol = dlsym(lib, MOOLAI_PLUGIN_ENTRY_SYMBOL);
        if (symbol == NULL) return NULL;
        memcpy(&entry, &symbol, sizeof entry);
    }
    real = entry(host_abi_major, host_abi_minor);
    if (real == NULL || real->struct_size < sizeof g_descriptor) return NULL;
    table = (const moolai_storage_v1*)real->get_capability(MOOLAI_CAP_STORAGE);
    if (table == NULL || table->struct_size < sizeof g_storage) return NULL;

    memcpy(&g_storage, table, sizeof g_storage);
    g_storage.struct_size = (uint32_t)sizeof g_storage;
    memcpy(&g_descriptor, real, sizeof g_descriptor);
    g_descriptor.struct_size = (uint32_t)sizeof g_descriptor;
    g_descriptor.abi_minor_built = MOOLAI_ABI_MINOR;
    if (g_descriptor.abi_minor_required > MOOLAI_ABI_MINOR)
        g_descriptor.abi_minor_required = MOOLAI_ABI_MINOR;
    g_real_get_capability = real->get_capability;
    g_descriptor.get_capability = get_capability;
    return &g_descriptor;
}
