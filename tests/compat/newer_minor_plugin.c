/* A plugin from the future: built as if against ABI 1.6 headers, which
 * append fields to the descriptor, to the observer table and to
 * moolai_event. It declares abi_minor_built 1.6 and abi_minor_required 1.1
 * (it reads its config through the 1.1 config services), so a 1.5 host
 * must load it, read its tables only up to what 1.5 knows, and never call
 * the appended functions (they abort the process if called). */
#include <stdlib.h>
#include <string.h>

#include "moolai/plugin_api.h"

/* What a 1.6 header would declare: the 1.5 structs with appended fields. */
typedef struct {
    moolai_plugin_descriptor v1_1;
    moolai_status (*health)(moolai_instance* self, moolai_call* call); /* 1.6 */
} descriptor_1_6;

typedef struct {
    moolai_observer_v1 v1_1;
    moolai_status (*on_batch)(moolai_instance* self, moolai_call* call, const moolai_event* events,
                              uint64_t count); /* 1.6 */
} observer_1_6;

typedef struct {
    moolai_event v1_1;
    moolai_str trace_id; /* 1.6 */
} event_1_6;

static const moolai_host_api* g_api;
static moolai_host* g_host;
static moolai_str g_greeting; /* host-owned config string, valid while loaded */
static int instance_token;

static moolai_status future_health(moolai_instance* self, moolai_call* call) {
    (void)self; (void)call;
    abort(); /* a 1.1 host does not know this entry and must never call it */
}
static moolai_status future_on_batch(moolai_instance* self, moolai_call* call,
                                     const moolai_event* events, uint64_t count) {
    (void)self; (void)call; (void)events; (void)count;
    abort();
}

static moolai_str lit(const char* s) {
    moolai_str m;
    m.ptr = s;
    m.len = strlen(s);
    return m;
}

/* Output: "<greeting>|<kind>|<status of emitting a 1.6-sized event>". */
static moolai_status on_event(moolai_instance* self, moolai_call* call, const moolai_event* e) {
    event_1_6 mine;
    char kind[16];
    char emitted[4];
    moolai_status s;
    (void)self;
    if (e->kind == MOOLAI_EVENT_CUSTOM) return MOOLAI_OK; /* our own echo */
    memset(&mine, 0, sizeof mine);
    mine.v1_1.struct_size = (uint32_t)sizeof mine;
    mine.v1_1.kind = MOOLAI_EVENT_CUSTOM;
    mine.v1_1.detail_json = lit("{\"from\":\"the future\"}");
    mine.trace_id = lit("trace-12");
    s = g_api->emit_event(g_host, &mine.v1_1);
    kind[0] = (char)('0' + (char)(e->kind % 10u));
    kind[1] = '\0';
    emitted[0] = (char)('0' + (char)s);
    emitted[1] = '\0';
    g_api->write_output(call, g_greeting);
    g_api->write_output(call, lit("|"));
    g_api->write_output(call, lit(kind));
    g_api->write_output(call, lit("|"));
    return g_api->write_output(call, lit(emitted));
}

static const observer_1_6 observer = {
    {(uint32_t)sizeof(observer_1_6), 0, on_event}, future_on_batch};

static moolai_status create(const moolai_host_api* api, moolai_host* host, moolai_str config,
                            moolai_call* call, moolai_instance** out) {
    moolai_status s;
    (void)config;
    /* abi_minor_required is 1, so the host has the config services; check
     * anyway, as a plugin requiring 1.0 would have to. */
    if (!MOOLAI_HAS_FIELD(api, moolai_host_api, config_string)) {
        api->set_error(call, lit("this host has no config services (ABI 1.0)"));
        return MOOLAI_E_UNSUPPORTED;
    }
    s = api->config_string(host, lit("/greeting"), &g_greeting);
    if (s != MOOLAI_OK) {
        api->set_error(call, lit("config /greeting: a string is required"));
        return MOOLAI_E_INVALID;
    }
    g_api = api;
    g_host = host;
    *out = (moolai_instance*)&instance_token;
    return MOOLAI_OK;
}

static void destroy(moolai_instance* self) { (void)self; }

static const void* get_capability(uint64_t capability) {
    return capability == MOOLAI_CAP_OBSERVER ? &observer : NULL;
}

static const descriptor_1_6 descriptor = {
    {(uint32_t)sizeof(descriptor_1_6), MOOLAI_ABI_MAJOR, MOOLAI_ABI_MINOR + 1u, 1u,
     "newer_minor", "1.6.0", "built as if against ABI 1.6",
     "{\"type\":\"object\",\"required\":[\"greeting\"],"
     "\"properties\":{\"greeting\":{\"type\":\"string\"}}}",
     MOOLAI_CAP_OBSERVER, MOOLAI_THREADING_SERIALIZED, 0, create, NULL, NULL, destroy,
     get_capability},
    future_health};

MOOLAI_PLUGIN_EXPORT const moolai_plugin_descriptor* moolai_plugin_entry(uint32_t major,
                                                                        uint32_t minor) {
    (void)major; (void)minor;
    return &descriptor.v1_1;
}
