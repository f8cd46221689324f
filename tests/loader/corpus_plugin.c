/* One plain-C plugin, compiled once per -DVARIANT_* into the negative
 * corpus of the loader tests (and once, unmodified, as the proof that a
 * plugin written in C99 alone loads). Each variant breaks one rule. */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <sched.h>
#include <string.h>
#include <time.h>

#include "moolai/plugin_api.h"

static const moolai_host_api* g_api;

/* Event kind 9999 is the loader tests' overlap probe: it reports how many
 * calls were inside this function at once, which must be 1 for a
 * SERIALIZED plugin however many host threads call it. Until an overlap has
 * been seen, a call stays inside for up to 5 ms, yielding, so that on a busy
 * machine, where the scheduler may run the callers one after another, a
 * concurrent plugin still shows that it can be entered twice. */
static int in_flight;
static int max_in_flight;

static long elapsed_us(const struct timespec* since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000000L + (now.tv_nsec - since->tv_nsec) / 1000L;
}

static moolai_status obs_on_event(moolai_instance* self, moolai_call* call,
                                  const moolai_event* event) {
    (void)self;
    if (event->kind == 9999u) {
        int now = __atomic_add_fetch(&in_flight, 1, __ATOMIC_SEQ_CST);
        int seen = __atomic_load_n(&max_in_flight, __ATOMIC_SEQ_CST);
        while (now > seen &&
               !__atomic_compare_exchange_n(&max_in_flight, &seen, now, 0, __ATOMIC_SEQ_CST,
                                            __ATOMIC_SEQ_CST)) {
        }
        {
            struct timespec entered;
            clock_gettime(CLOCK_MONOTONIC, &entered);
            while (__atomic_load_n(&max_in_flight, __ATOMIC_SEQ_CST) < 2 &&
                   elapsed_us(&entered) < 5000)
                sched_yield();
        }
        __atomic_sub_fetch(&in_flight, 1, __ATOMIC_SEQ_CST);
        {
            char digit = (char)('0' + __atomic_load_n(&max_in_flight, __ATOMIC_SEQ_CST) % 10);
            moolai_str out = {&digit, 1};
            return g_api->write_output(call, out);
        }
    }
    return MOOLAI_OK;
}

static moolai_status auth_hash(moolai_instance* self, moolai_call* call, moolai_str s) {
    (void)self; (void)call; (void)s;
    return MOOLAI_OK;
}
static moolai_status auth_verify(moolai_instance* self, moolai_call* call, moolai_str h,
                                 moolai_str s) {
    (void)self; (void)call; (void)h; (void)s;
    return MOOLAI_OK;
}
static moolai_status auth_new(moolai_instance* self, moolai_call* call) {
    (void)self; (void)call;
    return MOOLAI_OK;
}

static const moolai_observer_v1 observer_table = {sizeof(moolai_observer_v1), 0, obs_on_event};

static const moolai_auth_v1 auth_table = {
    sizeof(moolai_auth_v1), 0, auth_hash, auth_verify, auth_new,
#if defined(VARIANT_MISSING_FUNCTION)
    NULL /* hash_token left out */
#else
    auth_hash
#endif
};

static int instance_token;

static moolai_status create(const moolai_host_api* api, moolai_host* host, moolai_str config,
                            moolai_call* call, moolai_instance** out) {
    (void)host; (void)config;
    if (api->struct_size < MOOLAI_HOST_API_SIZE_1_0) {
        static const char msg[] = "host API table too short";
        moolai_str m = {msg, sizeof msg - 1};
        api->set_error(call, m);
        return MOOLAI_E_UNSUPPORTED;
    }
    g_api = api;
    *out = (moolai_instance*)&instance_token;
    return MOOLAI_OK;
}

static void destroy(moolai_instance* self) { (void)self; }

static const void* get_capability(uint64_t capability) {
    if (capability == MOOLAI_CAP_OBSERVER) return &observer_table;
    /* The half-capability variant declares auth but hands out no table. */
#if !defined(VARIANT_HALF_CAPABILITY)
    if (capability == MOOLAI_CAP_AUTH) return &auth_table;
#else
    (void)auth_table;
#endif
    return NULL;
}

#if defined(VARIANT_MISSING_FUNCTION) || defined(VARIANT_HALF_CAPABILITY)
#define CAPS (MOOLAI_CAP_OBSERVER | MOOLAI_CAP_AUTH)
#else
#define CAPS MOOLAI_CAP_OBSERVER
#endif

#if defined(VARIANT_WRONG_MAJOR)
#define MAJOR 2u
#else
#define MAJOR MOOLAI_ABI_MAJOR
#endif

#if defined(VARIANT_NEWER_MINOR)
#define MINOR_BUILT 7u
#define MINOR_REQUIRED 7u
#else
#define MINOR_BUILT MOOLAI_ABI_MINOR
#define MINOR_REQUIRED 0u
#endif

#if defined(VARIANT_SCHEMA)
#define SCHEMA \
    "{\"type\":\"object\",\"required\":[\"level\"],\"properties\":{\"level\":{\"type\":\"integer\",\"minimum\":1}}}"
#else
#define SCHEMA NULL
#endif

#if defined(VARIANT_CONCURRENT)
#define THREADING MOOLAI_THREADING_CONCURRENT
#else
#define THREADING MOOLAI_THREADING_SERIALIZED
#endif

#if defined(VARIANT_SHORT_STRUCT)
#define DESCRIPTOR_SIZE 40u
#else
#define DESCRIPTOR_SIZE ((uint32_t)sizeof(moolai_plugin_descriptor))
#endif

static const moolai_plugin_descriptor descriptor = {
    DESCRIPTOR_SIZE, MAJOR, MINOR_BUILT, MINOR_REQUIRED, "corpus_" CORPUS_NAME, "1.0.0",
    "negative-corpus plugin", SCHEMA, CAPS, THREADING, 0,
    create, NULL, NULL, destroy, get_capability};


#if !defined(VARIANT_NO_ENTRY)
MOOLAI_PLUGIN_EXPORT const moolai_plugin_descriptor* moolai_plugin_entry(uint32_t major,
                                                                        uint32_t minor) {
    (void)major; (void)minor;
#if defined(VARIANT_NULL_ENTRY)
    (void)descriptor;
    return NULL;
#else
    return &descriptor;
#endif
}
#else
MOOLAI_PLUGIN_EXPORT int not_the_entry_point(void) { return descriptor.struct_size != 0; }
#endif
