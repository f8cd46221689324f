/*
 * moolai/plugin_types.h -- value types of the Moolai Controller plugin ABI.
 *
 * This header and moolai/plugin_api.h are the whole contract between the
 * controller host and a plugin shared object. They are C99, include only the
 * C standard library, and are read by C and C++ compilers alike.
 *
 * Layout rules (checked by tests/abi/layout_lock.c, compiled as C and C++,
 * by gcc and clang, with -Wpadded -Werror):
 *   - fixed-width integers only; no enums, no bitfields, no bool, no long;
 *   - no implicit padding: every hole is a named `reserved` field;
 *   - every struct that may grow starts with `uint32_t struct_size` and only
 *     ever grows at its end (append-only, with a version comment);
 *   - a field is never renamed, retyped, moved or removed within a major.
 *
 * Versioning: MOOLAI_ABI_MAJOR changes only when an existing field or rule
 * changes; MOOLAI_ABI_MINOR grows by one for every release that appends
 * fields, functions or constants. A host loads a plugin when the majors are
 * equal and the plugin's *required* minor is not newer than the host's
 * minor. The version history is at the top of moolai/plugin_api.h.
 *
 * Reading a struct the other side built: its struct_size says how much of
 * it exists. Every side accepts a struct whose struct_size covers the 1.0
 * part (MOOLAI_<NAME>_SIZE_1_0 below, frozen forever) and reads a field
 * appended later only when MOOLAI_HAS_FIELD says it is inside struct_size.
 * A struct longer than this header's (built against a newer minor) is
 * fine: the fields this side does not know are never read.
 *
 * Strings: every moolai_str is UTF-8, pointer + length, NOT NUL-terminated,
 * and may contain NUL bytes. ptr may be NULL when len is 0.
 *
 * Ownership: data passed host -> plugin is borrowed for the duration of the
 * call. Data returned plugin -> host goes through host functions that copy
 * (moolai_host_api.write_output, .set_error). Nothing allocated on one side
 * is ever freed on the other.
 */
#ifndef MOOLAI_PLUGIN_TYPES_H
#define MOOLAI_PLUGIN_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if UINTPTR_MAX != 0xFFFFFFFFFFFFFFFFu
#error "the Moolai plugin ABI 1.x is defined for 64-bit targets only"
#endif

/* ---- Version of this header ------------------------------------------- */

#define MOOLAI_ABI_MAJOR 1
#define MOOLAI_ABI_MINOR 5

/* ---- Reading a struct of another minor ----------------------------------
 * MOOLAI_HAS_FIELD(ptr, type, field): 1 when the struct at `ptr` (which
 * starts with uint32_t struct_size) is long enough to hold `field`, i.e.
 * offsetof + sizeof <= struct_size. Use it before every read of a field,
 * or call through a function pointer, appended after 1.0:
 *
 *     if (MOOLAI_HAS_FIELD(api, moolai_host_api, config_string)) ...
 *
 * NULL pointers have no fields.                                            */
#define MOOLAI_HAS_FIELD(ptr, type, field)                                    \
    ((ptr) != NULL && (uint64_t)offsetof(type, field) + sizeof(((type*)0)->field) <= \
                          (uint64_t)(ptr)->struct_size)

/* The 1.0 size of every growable value struct on 64-bit targets: the least
 * struct_size (or row stride) any side accepts. Frozen: never changed.    */
#define MOOLAI_EVENT_SIZE_1_0 128u
#define MOOLAI_HEARTBEAT_INFO_SIZE_1_0 64u
#define MOOLAI_HEARTBEAT_ROW_SIZE_1_0 32u
#define MOOLAI_ORCHESTRATOR_ROW_SIZE_1_0 88u
#define MOOLAI_QUERY_SIZE_1_0 120u
#define MOOLAI_TOGGLE_REQUEST_SIZE_1_0 64u
#define MOOLAI_ROUTE_REQUEST_SIZE_1_0 32u

/* ---- Status codes (moolai_status) --------------------------------------
 * Every fallible function returns one of these; a message for a human may
 * be attached with moolai_host_api.set_error during the same call.
 * Codes are append-only. The host maps them onto HTTP statuses.           */

typedef int32_t moolai_status;

#define MOOLAI_OK 0
#define MOOLAI_E_INVALID 1     /* the input is malformed; the caller must fix it   (HTTP 400) */
#define MOOLAI_E_NOT_FOUND 2   /* the named record does not exist                  (HTTP 404) */
#define MOOLAI_E_CONFLICT 3    /* exists already, or its state forbids the change  (HTTP 409) */
#define MOOLAI_E_DENIED 4      /* credentials wrong or action not allowed          (HTTP 403) */
#define MOOLAI_E_UNAVAILABLE 5 /* a backend is down; the call may be retried       (HTTP 503) */
#define MOOLAI_E_UNSUPPORTED 6 /* this plugin does not implement the operation     (HTTP 501) */
#define MOOLAI_E_INTERNAL 7    /* a bug or an exception inside the plugin          (HTTP 500) */

/* ---- Borrowed UTF-8 bytes ---------------------------------------------- */

typedef struct moolai_str {
    const char* ptr; /* may be NULL when len == 0 */
    uint64_t len;    /* bytes, not characters */
} moolai_str;

/* ---- Opaque handles ----------------------------------------------------
 * moolai_host:     the host's side of one loaded plugin. Host-owned, valid
 *                  from create() until the process exits.
 * moolai_call:     one call in progress; outputs and errors attach to it.
 *                  Host-owned, valid only until the function it was passed
 *                  to returns. Never store it, never use it from another
 *                  thread.
 * moolai_instance: the plugin's state, made by create(). Plugin-owned; the
 *                  host only passes it back.                                */

typedef struct moolai_host moolai_host;
typedef struct moolai_call moolai_call;
typedef struct moolai_instance moolai_instance;

/* ---- Log levels (moolai_host_api.log) ---------------------------------- */

#define MOOLAI_LOG_DEBUG 0
#define MOOLAI_LOG_INFO 1
#define MOOLAI_LOG_WARN 2
#define MOOLAI_LOG_ERROR 3

/* ---- Capability bits (moolai_plugin_descriptor.capabilities) ----------- */

#define MOOLAI_CAP_AUTH ((uint64_t)1 << 0)        /* moolai_auth_v1 */
#define MOOLAI_CAP_INDEPENDENCE ((uint64_t)1 << 1) /* moolai_independence_v1 */
#define MOOLAI_CAP_MESSAGING ((uint64_t)1 << 2)   /* moolai_messaging_v1 */
#define MOOLAI_CAP_STORAGE ((uint64_t)1 << 3)     /* moolai_storage_v1 */
#define MOOLAI_CAP_OBSERVER ((uint64_t)1 << 4)    /* moolai_observer_v1 */
/* Bits the host of this header knows; a plugin naming others is refused. */
#define MOOLAI_CAP_KNOWN_1_0 ((uint64_t)0x1F)

/* ---- Threading modes (moolai_plugin_descriptor.threading) --------------
 * SERIALIZED: the host never runs two calls into this plugin at once (it
 *             takes one lock per plugin around every call).
 * CONCURRENT: any function may run on any host thread, concurrently with
 *             any other, with distinct moolai_call handles. The plugin
 *             does its own locking.
 * Lifecycle functions (create, start, stop, destroy) never overlap with
 * any other call into the same plugin in either mode.                      */

#define MOOLAI_THREADING_SERIALIZED 0u
#define MOOLAI_THREADING_CONCURRENT 1u

/* ---- Orchestrator status (stored values) ------------------------------- */

#define MOOLAI_ORCH_INACTIVE 0u
#define MOOLAI_ORCH_ACTIVE 1u
/* Never stored: what listings show when is_independent is set. */
#define MOOLAI_ORCH_INDEPENDENT 2u

/* ---- Events (moolai_observer_v1.on_event, moolai_host_api.emit_event) --
 * `kind` says which fields carry meaning; unused strings are empty.       */

#define MOOLAI_EVENT_ORCHESTRATOR_REGISTERED 1u   /* orchestrator_id, organization_id */
#define MOOLAI_EVENT_ORCHESTRATOR_DISCONNECTED 2u /* orchestrator_id, organization_id */
#define MOOLAI_EVENT_STATUS_CHANGED 3u            /* old_value, new_value: "active"... */
#define MOOLAI_EVENT_INDEPENDENCE_CHANGED 4u      /* old_value, new_value: "true"/"false"; actor */
#define MOOLAI_EVENT_MESSAGE_CHANGED 5u           /* subject_id = message id; old/new state */
#define MOOLAI_EVENT_CUSTOM 1000u                 /* emitted by plugins; detail_json is theirs */

typedef struct moolai_event {
    uint32_t struct_size; /* sizeof(moolai_event) of the side that built it */
    uint32_t kind;        /* MOOLAI_EVENT_* */
    int64_t time_ms;      /* wall clock, Unix milliseconds */
    moolai_str organization_id;
    moolai_str orchestrator_id;
    moolai_str subject_id;  /* e.g. a message id */
    moolai_str old_value;
    moolai_str new_value;
    moolai_str actor;       /* username or "system" */
    moolai_str detail_json; /* a JSON object, or empty */
    /* 1.5+: append only */
} moolai_event;

/* ---- Heartbeat hot path (plain structs, no JSON) ----------------------- */

/* What the host knows about one processed or ignored heartbeat. */
typedef struct moolai_heartbeat_info {
    uint32_t struct_size;
    uint32_t status;         /* MOOLAI_ORCH_ACTIVE / _INACTIVE before this heartbeat */
    moolai_str orchestrator_id;
    moolai_str organization_id;
    int64_t now_ms;          /* wall clock, Unix milliseconds */
    int64_t last_seen_ms;    /* last processed heartbeat; 0 = never */
    uint32_t is_independent; /* 0 or 1, as stored */
    uint32_t reserved;
    /* 1.5+: append only */
} moolai_heartbeat_info;

/* Decisions of moolai_independence_v1.on_heartbeat. */
#define MOOLAI_HEARTBEAT_PROCESS 0u /* write last_seen/status, ack processed:true */
#define MOOLAI_HEARTBEAT_IGNORE 1u  /* write nothing, ack processed:false */

/* One row of a batched last_seen/status write. Arrays of rows are passed
 * with their row size, so a newer side can append fields.                  */
typedef struct moolai_heartbeat_row {
    moolai_str orchestrator_id;
    int64_t last_seen_ms; /* wall clock, Unix milliseconds */
    uint32_t status;      /* MOOLAI_ORCH_ACTIVE / _INACTIVE */
    uint32_t reserved;
    /* 1.5+: append only (rows are read with the stride the caller passes) */
} moolai_heartbeat_row;

/* One orchestrator as loaded at start-up (moolai_storage_v1.orch_scan). */
typedef struct moolai_orchestrator_row {
    uint32_t struct_size;
    uint32_t status; /* MOOLAI_ORCH_ACTIVE / _INACTIVE, as stored */
    moolai_str orchestrator_id;
    moolai_str organization_id;
    moolai_str name;
    moolai_str credential_hash; /* empty when none was issued */
    int64_t last_seen_ms;       /* 0 = never */
    uint32_t is_independent;    /* 0 or 1 */
    uint32_t reserved;
    /* 1.5+: append only */
} moolai_orchestrator_row;

/* Called once per row; return MOOLAI_OK to go on, anything else to stop the
 * scan (the scan then returns that status). The row is borrowed for the
 * call only. Runs on the thread that called orch_scan.                     */
typedef moolai_status (*moolai_orchestrator_row_fn)(void* cookie,
                                                    const moolai_orchestrator_row* row);

/* ---- Listing queries ----------------------------------------------------
 * One shape for every listing. Empty strings and zero times mean "no
 * filter". Which filters apply is written on each list function.          */

typedef struct moolai_query {
    uint32_t struct_size;
    uint32_t reserved;
    uint64_t offset; /* rows to skip */
    uint64_t limit;  /* rows to return; 0 = the storage's default (50); at most 1000 */
    moolai_str organization_id;
    moolai_str orchestrator_id;
    moolai_str status; /* e.g. "active", "inactive", "independent", "pending" */
    moolai_str search; /* case-insensitive substring of id or name */
    moolai_str kind;   /* message_type, audit action, or usage group_by */
    int64_t from_ms;   /* inclusive; 0 = unbounded */
    int64_t to_ms;     /* exclusive; 0 = unbounded */
    /* ---- 1.3 ---- read only when MOOLAI_HAS_FIELD(query, moolai_query, sort)
     * says the host sent them; a shorter query lists in the default order. */
    moolai_str sort;     /* a field of the listed record to order by; empty =
                          * the listing's default order. Ties are broken by
                          * the record's key, ascending, so pages neither
                          * overlap nor skip. A field the listing cannot
                          * order by is MOOLAI_E_INVALID. A plugin that
                          * applied `sort` says so in its output ("sort",
                          * "order"; moolai_storage_v1); without them the
                          * host knows the rows are in the default order. */
    uint32_t descending; /* 1 = descending, 0 = ascending; only with sort */
    uint32_t reserved_1_3; /* 0 */
    /* 1.5+: append only */
} moolai_query;

/* ---- Independence toggles and message routing -------------------------- */

typedef struct moolai_toggle_request {
    uint32_t struct_size;
    uint32_t is_independent_now; /* 0 or 1 */
    moolai_str orchestrator_id;
    moolai_str organization_id;
    moolai_str actor;            /* the user asking */
    uint32_t is_independent_requested; /* 0 or 1 */
    uint32_t reserved;
    /* 1.5+: append only */
} moolai_toggle_request;

typedef struct moolai_route_request {
    uint32_t struct_size;
    uint32_t is_independent; /* of the target orchestrator */
    moolai_str message_json; /* the stored message record */
    uint32_t is_connected;   /* 1 when the orchestrator holds a live connection */
    uint32_t reserved;
    /* 1.5+: append only */
} moolai_route_request;

/* Decisions of moolai_messaging_v1.route. */
#define MOOLAI_ROUTE_FORWARD 0u /* send it now */
#define MOOLAI_ROUTE_HOLD 1u    /* keep it queued; ask again on the next occasion */
#define MOOLAI_ROUTE_SKIP 2u    /* never forward this message */

/* ---- Config value types (moolai_host_api.config_type, 1.1) ------------- */

#define MOOLAI_JSON_NULL 0u
#define MOOLAI_JSON_BOOL 1u
#define MOOLAI_JSON_INTEGER 2u /* a number written without fraction or exponent that fits int64_t */
#define MOOLAI_JSON_NUMBER 3u  /* any other number (fraction, exponent, or beyond int64_t) */
#define MOOLAI_JSON_STRING 4u
#define MOOLAI_JSON_ARRAY 5u
#define MOOLAI_JSON_OBJECT 6u

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MOOLAI_PLUGIN_TYPES_H */
