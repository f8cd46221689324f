/*
 * moolai/plugin_api.h -- function tables of the Moolai Controller plugin ABI.
 *
 * Version history (MOOLAI_ABI_MAJOR.MOOLAI_ABI_MINOR; docs/abi.md says what
 * a minor and a major may change):
 *   1.0  The first stable ABI: the descriptor, the auth, independence,
 *        messaging, observer and storage tables, and host services for
 *        logging, errors, output, frames, events, metrics and clocks.
 *   1.1  Host services that read the plugin's validated config block by
 *        JSON Pointer: moolai_host_api.config_type, config_string,
 *        config_int, config_number, config_bool, config_length, config_key
 *        and the MOOLAI_JSON_* type codes. MOOLAI_HAS_FIELD and the frozen
 *        MOOLAI_*_SIZE_1_0 constants. No 1.0 table or struct changed.
 *   1.2  moolai_storage_v1.usage_insert_batch (optional): a round of usage
 *        reports in one transaction. No 1.1 table or struct changed.
 *   1.3  A tamper-evident audit log: audit records carry prev_hash and
 *        hash (a SHA-256 chain), moolai_storage_v1.audit_verify (optional)
 *        checks it. moolai_query.sort and .descending: listings ordered by
 *        storage (org/orch/msg/user/audit_list echo "sort" and "order"
 *        when applied). user_update ends the user's sessions on a new
 *        password, role or organization ("keep_session",
 *        "sessions_ended"). No 1.2 table or struct changed.
 *   1.4  Several controller hosts on one store: moolai_storage_v1.notify
 *        and listen (a notification channel between hosts, delivered
 *        through moolai_host_api.deliver_notification), host_lease (which
 *        hosts are alive, and the one leader), connections_write and
 *        connections_list (which host holds which orchestrator). All
 *        optional. No 1.3 table or struct changed.
 *
 * Read moolai/plugin_types.h first: it states the layout, versioning,
 * string and ownership rules that every declaration below follows.
 *
 * Names say who implements a function:
 *   moolai_host_api.*          implemented by the host, called by plugins;
 *   moolai_plugin_descriptor.* implemented by the plugin, called by the host;
 *   moolai_<capability>_v1.*   implemented by the plugin, called by the host.
 *
 * Every plugin function receives a moolai_call* and reports failure by
 * returning a status other than MOOLAI_OK, optionally with set_error(). A
 * plugin must not let a C++ exception, longjmp or signal leave any function
 * of these tables: the host cannot catch them and the process would end.
 *
 * A capability table marked "required" must have all its "required"
 * entries non-NULL, or the host refuses the plugin at load time, naming the
 * missing function. "optional" entries may be NULL. A table's entries are
 * repeated by the SDK, the host's loader and its clients, and checked
 * against this header (docs/abi.md, "Adding an entry to a capability
 * table").
 *
 * Every function says THREADS (where it may be called from) and OWNERSHIP
 * (who owns each pointer and for how long). "Any host thread" means the
 * host may call from any of its threads (REST workers, WebSocket threads,
 * the delivery, event and batch threads), several at once only into a
 * CONCURRENT plugin: a SERIALIZED plugin never sees two calls overlap.
 * Outputs go through write_output and are copied by the host.
 */
#ifndef MOOLAI_PLUGIN_API_H
#define MOOLAI_PLUGIN_API_H

#include "moolai/plugin_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Host services, handed to the plugin in create().
 * OWNERSHIP: host-owned, valid from create() until the process exits.
 * ====================================================================== */

typedef struct moolai_host_api {
    uint32_t struct_size; /* sizeof(moolai_host_api) of the host */
    uint32_t abi_major;   /* MOOLAI_ABI_MAJOR of the host */
    uint32_t abi_minor;   /* MOOLAI_ABI_MINOR of the host */
    uint32_t reserved;

    /* ---- 1.0 ---- */

    /* Writes one line to the controller log, tagged with the plugin name.
     * THREADS: any thread, any time. OWNERSHIP: message is copied. */
    void (*log)(moolai_host* host, int32_t level, moolai_str message);

    /* Attaches a human-readable reason to the failing call; the last one
     * wins. THREADS: only inside the call that received `call`.
     * OWNERSHIP: message is copied. */
    void (*set_error)(moolai_call* call, moolai_str message);

    /* Appends bytes to the call's result (a JSON document unless the
     * function says otherwise). Returns MOOLAI_E_INVALID when `call` takes
     * no output. THREADS: only inside the call that received `call`.
     * OWNERSHIP: bytes are copied. */
    moolai_status (*write_output)(moolai_call* call, moolai_str bytes);

    /* Queues one text frame (UTF-8 JSON) for the orchestrator's live
     * connection. Since 1.4, with several hosts on one store, a connection
     * held by another host gets it through that host. MOOLAI_E_NOT_FOUND
     * when no host holds a connection of it.
     * Never blocks on the network. THREADS: any thread.
     * OWNERSHIP: both strings are copied. */
    moolai_status (*send_frame)(moolai_host* host, moolai_str orchestrator_id, moolai_str frame);

    /* Publishes an event to the observers and the dashboard stream.
     * Delivery is asynchronous, on the host's event thread.
     * THREADS: any thread. OWNERSHIP: the event and its strings are copied. */
    moolai_status (*emit_event)(moolai_host* host, const moolai_event* event);

    /* Adds `delta` to the counter moolai_plugin_<plugin>_<name>, made on
     * first use. `name` must match [a-z_][a-z0-9_]*.
     * THREADS: any thread. OWNERSHIP: name is copied. */
    void (*metric_add)(moolai_host* host, moolai_str name, double delta);

    /* Sets the gauge moolai_plugin_<plugin>_<name>, made on first use.
     * THREADS: any thread. OWNERSHIP: name is copied. */
    void (*metric_set)(moolai_host* host, moolai_str name, double value);

    /* Wall-clock time, Unix milliseconds. Tests may move it.
     * THREADS: any thread. OWNERSHIP: no pointers. */
    int64_t (*now_ms)(moolai_host* host);

    /* A monotonic clock in milliseconds, for timeouts.
     * THREADS: any thread. OWNERSHIP: no pointers. */
    int64_t (*monotonic_ms)(moolai_host* host);

    /* ---- 1.1: the plugin's config block, by JSON Pointer ----
     * The config block the host validated against config_schema and passed
     * to create(), read without a JSON library of the plugin's own.
     * `pointer` is an RFC 6901 JSON Pointer: "" is the whole block,
     * "/retry/max_attempts" a nested value, "/urls/0" an array element,
     * "~1" and "~0" stand for "/" and "~" inside a name.
     * Each function returns MOOLAI_OK and writes *out; MOOLAI_E_NOT_FOUND
     * when nothing is at `pointer`; MOOLAI_E_INVALID when `pointer` is not
     * a JSON Pointer or the value there has another type (*out is then left
     * as it was). A plugin that requires only 1.0 checks
     * MOOLAI_HAS_FIELD(api, moolai_host_api, config_type) first.
     * THREADS: any thread, from create() on.
     * OWNERSHIP: pointer is borrowed for the call; strings written to *out
     * point into host-owned memory that stays valid and unchanged until the
     * process exits (a plugin's config never changes while it is loaded). */

    /* Writes the value's MOOLAI_JSON_* type code. */
    moolai_status (*config_type)(moolai_host* host, moolai_str pointer, uint32_t* out);

    /* Writes a string value (UTF-8, not NUL-terminated). */
    moolai_status (*config_string)(moolai_host* host, moolai_str pointer, moolai_str* out);

    /* Writes a MOOLAI_JSON_INTEGER value. */
    moolai_status (*config_int)(moolai_host* host, moolai_str pointer, int64_t* out);

    /* Writes any number (MOOLAI_JSON_INTEGER or MOOLAI_JSON_NUMBER). */
    moolai_status (*config_number)(moolai_host* host, moolai_str pointer, double* out);

    /* Writes a boolean as 0 or 1. */
    moolai_status (*config_bool)(moolai_host* host, moolai_str pointer, uint32_t* out);

    /* Writes the number of elements of an array or members of an object. */
    moolai_status (*config_length)(moolai_host* host, moolai_str pointer, uint64_t* out);

    /* Writes the name of member `index` (0-based) of an object; members
     * are in byte order of their names. MOOLAI_E_NOT_FOUND when `index`
     * is not below config_length. */
    moolai_status (*config_key)(moolai_host* host, moolai_str pointer, uint64_t index,
                                moolai_str* out);

    /* ---- 1.4: the notification channel between hosts ---- */

    /* Hands the host one notification that arrived on `channel`, which
     * the host asked for with moolai_storage_v1.listen. An empty payload
     * means notifications on the channel may have been lost (the
     * plugin's listening connection broke and is back): the host reads
     * what it keeps in memory from storage again. The host copies and
     * queues; it never blocks and never calls back into the plugin from
     * here. MOOLAI_E_NOT_FOUND when the host listens on no such channel.
     * A plugin that requires only 1.3 checks
     * MOOLAI_HAS_FIELD(api, moolai_host_api, deliver_notification) first.
     * THREADS: any thread (the plugin's listener thread).
     * OWNERSHIP: both strings are copied. */
    moolai_status (*deliver_notification)(moolai_host* host, moolai_str channel,
                                          moolai_str payload);

    /* ---- 1.5+: APPEND ONLY below this line ---- */
} moolai_host_api;

/* ======================================================================
 * auth -- credentials. Exactly one loaded plugin provides it.
 * Users and sessions live in storage; this table decides how secrets are
 * hashed and checked, so a plugin can replace the algorithms.
 * THREADS: as the plugin's threading mode says.
 * ====================================================================== */

typedef struct moolai_auth_v1 {
    uint32_t struct_size; /* sizeof(moolai_auth_v1) of the plugin */
    uint32_t reserved;

    /* ---- 1.0 ---- */

    /* Required. Hashes a human password for storage (slow, salted).
     * Output: the encoded hash as text.
     * THREADS: any host thread (REST workers; the main thread at start-up).
     * OWNERSHIP: password is borrowed for the call. */
    moolai_status (*hash_password)(moolai_instance* self, moolai_call* call, moolai_str password);

    /* Required. MOOLAI_OK when `password` matches `encoded_hash`,
     * MOOLAI_E_DENIED when not, MOOLAI_E_INVALID when the hash is not one
     * this plugin understands. Output: nothing, or a new encoded hash when
     * the stored one should be upgraded.
     * THREADS: any host thread (REST workers, at login).
     * OWNERSHIP: both arguments are borrowed for the call. */
    moolai_status (*verify_password)(moolai_instance* self, moolai_call* call,
                                     moolai_str encoded_hash, moolai_str password);

    /* Required. Makes a new random bearer token (sessions, orchestrator
     * credentials). Output: {"token":"...","token_hash":"..."}; only the
     * hash is ever stored.
     * THREADS: any host thread (REST workers). OWNERSHIP: no arguments. */
    moolai_status (*new_token)(moolai_instance* self, moolai_call* call);

    /* Required. Output: the stored form of a token, deterministic and fast
     * (tokens are long and random, so no slow hash is needed). Compare
     * outputs in constant time.
     * THREADS: any host thread (REST workers, WebSocket threads at register
     * and at stream subscription). OWNERSHIP: token is borrowed for the call. */
    moolai_status (*hash_token)(moolai_instance* self, moolai_call* call, moolai_str token);

    /* ---- 1.5+: APPEND ONLY below this line ---- */
} moolai_auth_v1;

/* ======================================================================
 * independence -- decides what independence means. Exactly one loaded
 * plugin provides it.
 * ====================================================================== */

typedef struct moolai_independence_v1 {
    uint32_t struct_size;
    uint32_t reserved;

    /* ---- 1.0 ---- */

    /* Required. HOT PATH: called for every heartbeat, from a WebSocket
     * thread; must not block, allocate heavily or do I/O. Writes one of
     * MOOLAI_HEARTBEAT_* to *decision.
     * THREADS: any WebSocket thread, several at once for a CONCURRENT plugin.
     * OWNERSHIP: heartbeat and its strings are borrowed for the call;
     * decision is host-owned, valid for the call. */
    moolai_status (*on_heartbeat)(moolai_instance* self, moolai_call* call,
                                  const moolai_heartbeat_info* heartbeat, uint32_t* decision);

    /* Optional. Asked before a toggle is stored. MOOLAI_OK allows it,
     * MOOLAI_E_DENIED refuses it (set_error says why; the API answers 403
     * with that text). NULL = every toggle is allowed.
     * THREADS: any host thread (REST workers).
     * OWNERSHIP: request and its strings are borrowed for the call. */
    moolai_status (*on_toggle)(moolai_instance* self, moolai_call* call,
                               const moolai_toggle_request* request);

    /* ---- 1.5+: APPEND ONLY below this line ---- */
} moolai_independence_v1;

/* ======================================================================
 * messaging -- recommendations and monitoring messages. Exactly one
 * loaded plugin provides it.
 * ====================================================================== */

typedef struct moolai_messaging_v1 {
    uint32_t struct_size;
    uint32_t reserved;

    /* ---- 1.0 ---- */

    /* Required. Checks and completes a new message before it is stored.
     * Input: {"orchestrator_id","message_type","content","message_metadata"?,
     * "source"} from REST or WebSocket. Output: the message to store (the
     * same fields; may add to message_metadata). MOOLAI_E_INVALID with a
     * reason rejects it.
     * THREADS: any host thread (REST workers; WebSocket threads for
     * messages an orchestrator sends). OWNERSHIP: message_json is borrowed
     * for the call. */
    moolai_status (*accept)(moolai_instance* self, moolai_call* call, moolai_str message_json);

    /* Required. Decides whether a stored message goes to its orchestrator
     * now. Writes one of MOOLAI_ROUTE_* to *decision.
     * THREADS: any host thread (REST workers when a message is made or
     * reviewed; the delivery thread when an orchestrator registers).
     * OWNERSHIP: request and its strings are borrowed for the call;
     * decision is host-owned, valid for the call. */
    moolai_status (*route)(moolai_instance* self, moolai_call* call,
                           const moolai_route_request* request, uint32_t* decision);

    /* Required. Output: the frame sent to the orchestrator for a message
     * that route() forwarded. It must be a JSON object carrying "type" and
     * "message_id".
     * THREADS: the thread that called route() for the same message, right
     * after it. OWNERSHIP: message_json is borrowed for the call. */
    moolai_status (*render)(moolai_instance* self, moolai_call* call, moolai_str message_json);

    /* ---- 1.5+: APPEND ONLY below this line ---- */
} moolai_messaging_v1;

/* ======================================================================
 * observer -- receives events. Any number of plugins may provide it.
 * ====================================================================== */

typedef struct moolai_observer_v1 {
    uint32_t struct_size;
    uint32_t reserved;

    /* ---- 1.0 ---- */

    /* Required. Called on the host's event thread, in publication order,
     * never on the heartbeat path; a slow observer delays only other
     * observers. The return value is logged, never acted upon.
     * THREADS: the host's one event thread, never two events at once.
     * OWNERSHIP: the event and its strings are borrowed for the call. */
    moolai_status (*on_event)(moolai_instance* self, moolai_call* call, const moolai_event* event);

    /* ---- 1.5+: APPEND ONLY below this line ---- */
} moolai_observer_v1;

/* ======================================================================
 * storage -- the controller's records. Exactly one loaded plugin provides
 * it. Every function is required.
 *
 * Records cross as JSON objects whose field names are the wire contract's
 * (orchestrator_id, organization_id, name, status, last_seen, ...).
 * Timestamps in records are RFC 3339 UTC text, "2026-11-28T10:00:00Z".
 * Listings output {"items":[...],"total":N} where total ignores offset and
 * limit. Since 1.3 org_list, orch_list, msg_list, user_list and
 * audit_list order by query->sort when the query carries it (each names
 * the fields it orders by; another is MOOLAI_E_INVALID) and then add
 * "sort":"<field>","order":"asc"|"desc" to their output; a listing
 * without them is in its default order (a plugin built before 1.3).
 * usage_aggregate ignores sort. A missing record is MOOLAI_E_NOT_FOUND; a duplicate key or a
 * failed compare-and-set is MOOLAI_E_CONFLICT; a malformed JSON input is
 * MOOLAI_E_INVALID; a database that cannot be reached is
 * MOOLAI_E_UNAVAILABLE.
 *
 * THREADS: the host calls from several threads at once when the plugin is
 * CONCURRENT; never two calls at once when SERIALIZED.
 * OWNERSHIP: every pointer argument is borrowed for the call.
 * ====================================================================== */

typedef struct moolai_storage_v1 {
    uint32_t struct_size;
    uint32_t reserved;

    /* ---- 1.0 ----
     * Unless a function says otherwise: THREADS: any host thread.
     * OWNERSHIP: every moolai_str and moolai_query argument, with the
     * strings it points to, is borrowed for the call; outputs are copied. */

    /* Creates or upgrades the schema by numbered migrations recorded in
     * the database. Output: {"schema_version":N,"applied":[numbers applied
     * now]}. THREADS: the main thread, once, after start() and before any
     * other storage call. OWNERSHIP: no arguments. */
    moolai_status (*migrate)(moolai_instance* self, moolai_call* call);

    /* MOOLAI_OK when the database answers, else MOOLAI_E_UNAVAILABLE.
     * Cheap: health checks call it. THREADS: any host thread (REST
     * workers). OWNERSHIP: no arguments. */
    moolai_status (*ping)(moolai_instance* self, moolai_call* call);

    /* ---- Organizations: {organization_id, name, location, metadata,
     * settings, is_active, created_at, updated_at}. ---- */

    /* Stores a new organization; MOOLAI_E_CONFLICT when the id exists.
     * Output: the stored record. THREADS: any host thread (REST workers,
     * WebSocket threads at register). OWNERSHIP: record_json borrowed. */
    moolai_status (*org_create)(moolai_instance* self, moolai_call* call, moolai_str record_json);
    /* Merges patch_json into the record. Output: the updated record.
     * THREADS: any host thread. OWNERSHIP: both strings borrowed. */
    moolai_status (*org_update)(moolai_instance* self, moolai_call* call, moolai_str organization_id,
                                moolai_str patch_json);
    /* Output: the record. THREADS: any host thread. OWNERSHIP: borrowed. */
    moolai_status (*org_get)(moolai_instance* self, moolai_call* call, moolai_str organization_id);
    /* Lists filter on `search`; sort (1.3): organization_id (default),
     * name, location, created_at, updated_at. THREADS: any host thread
     * (REST workers). OWNERSHIP: query and its strings borrowed. */
    moolai_status (*org_list)(moolai_instance* self, moolai_call* call, const moolai_query* query);
    /* Deletes the organization with its orchestrators and their messages.
     * THREADS: any host thread (REST workers). OWNERSHIP: borrowed. */
    moolai_status (*org_delete)(moolai_instance* self, moolai_call* call, moolai_str organization_id);

    /* ---- Orchestrators: {orchestrator_id, organization_id,
     * organization_name, name, location, status, last_seen, health_status,
     * is_independent, metadata, created_at, updated_at}. The credential
     * hash is never part of a record. ---- */

    /* Stores a new orchestrator (with "credential_hash" when given);
     * MOOLAI_E_CONFLICT when the id exists. Output: the stored record.
     * THREADS: any host thread (REST workers, WebSocket threads at
     * register). OWNERSHIP: record_json borrowed. */
    moolai_status (*orch_create)(moolai_instance* self, moolai_call* call, moolai_str record_json);
    /* Merges patch_json (name, location, metadata, health_status, ...).
     * Output: the updated record. THREADS: any host thread (REST workers,
     * WebSocket threads for metadata updates). OWNERSHIP: borrowed. */
    moolai_status (*orch_update)(moolai_instance* self, moolai_call* call, moolai_str orchestrator_id,
                                 moolai_str patch_json);
    /* Output: the record. THREADS: any host thread. OWNERSHIP: borrowed. */
    moolai_status (*orch_get)(moolai_instance* self, moolai_call* call, moolai_str orchestrator_id);
    /* Lists filter on organization_id, status ("independent" meaning
     * is_independent) and search (id or name); sort (1.3):
     * orchestrator_id (default), name, organization_id,
     * organization_name, location, status (as listed: "independent"
     * when flagged), last_seen, created_at. THREADS: any host thread
     * (REST workers). OWNERSHIP: query and its strings borrowed. */
    moolai_status (*orch_list)(moolai_instance* self, moolai_call* call, const moolai_query* query);
    /* Deletes the orchestrator with its messages. THREADS: any host
     * thread (REST workers). OWNERSHIP: borrowed. */
    moolai_status (*orch_delete)(moolai_instance* self, moolai_call* call, moolai_str orchestrator_id);
    /* Streams every orchestrator to `fn` (start-up load of the fleet);
     * stops at the first status fn returns other than MOOLAI_OK and
     * returns it. THREADS: the main thread at start-up; fn runs on the
     * same thread, inside this call. OWNERSHIP: each row and its strings
     * are plugin-owned and valid only during its fn call; cookie is the
     * host's, passed back untouched. */
    moolai_status (*orch_scan)(moolai_instance* self, moolai_call* call, moolai_orchestrator_row_fn fn,
                               void* cookie);
    /* Sets is_independent (0 or 1). Output: {"old":bool,"new":bool}.
     * THREADS: any host thread (REST workers). OWNERSHIP: borrowed. */
    moolai_status (*orch_set_independence)(moolai_instance* self, moolai_call* call,
                                           moolai_str orchestrator_id, uint32_t is_independent);
    /* Replaces the stored credential hash (empty = none). THREADS: any
     * host thread (REST workers). OWNERSHIP: both strings borrowed. */
    moolai_status (*orch_set_credential)(moolai_instance* self, moolai_call* call,
                                         moolai_str orchestrator_id, moolai_str credential_hash);
    /* HOT-ADJACENT: one transaction for the whole batch; unknown ids are
     * skipped. `row_size` is the caller's sizeof(moolai_heartbeat_row), at
     * least MOOLAI_HEARTBEAT_ROW_SIZE_1_0: read row i at
     * (const char*)rows + i * row_size. THREADS: the host's heartbeat batch
     * thread. OWNERSHIP: rows and their strings borrowed for the call. */
    moolai_status (*heartbeats_write)(moolai_instance* self, moolai_call* call,
                                      const moolai_heartbeat_row* rows, uint64_t count,
                                      uint64_t row_size);

    /* ---- Messages: {id, orchestrator_id, message_type, content,
     * message_metadata, status, delivery_state, delivery_attempts,
     * delivered_at, acknowledged_at, created_at, updated_at, expires_at
     * (optional on create; absent = never), ended_at}; the last two were
     * added to the JSON record, not to any layout (docs/abi.md, changelog).
     * delivery_state is one of
     * none, queued, sent, acknowledged, expired, cancelled; the last three
     * end delivery. ---- */

    /* Fills id (when absent), status "pending", delivery_state "none" and
     * the times. Output: the stored record. THREADS: any host thread (REST
     * workers, WebSocket threads). OWNERSHIP: record_json borrowed. */
    moolai_status (*msg_create)(moolai_instance* self, moolai_call* call, moolai_str record_json);
    /* Output: the record. THREADS: any host thread. OWNERSHIP: borrowed. */
    moolai_status (*msg_get)(moolai_instance* self, moolai_call* call, moolai_str message_id);
    /* Lists filter on orchestrator_id, organization_id, status, kind
     * (message_type) and search (content). Besides a review status, status
     * may be "undelivered" (accepted, delivery not ended, not past
     * expires_at) or "overdue" (not dismissed, delivery not ended,
     * expires_at reached). Newest first by default; sort (1.3): id,
     * created_at, orchestrator_id, message_type, status, delivery_state.
     * THREADS: any host thread (REST workers, the
     * delivery thread). OWNERSHIP: query and strings borrowed. */
    moolai_status (*msg_list)(moolai_instance* self, moolai_call* call, const moolai_query* query);
    /* Compare-and-set of the review status: MOOLAI_E_CONFLICT when the
     * stored status is not `expected`. Output: the updated record.
     * THREADS: any host thread (REST workers). OWNERSHIP: borrowed. */
    moolai_status (*msg_set_status)(moolai_instance* self, moolai_call* call, moolai_str message_id,
                                    moolai_str expected, moolai_str status);
    /* Updates delivery fields (delivery_state, delivery_attempts,
     * delivered_at, acknowledged_at, ended_at) from patch_json; once
     * delivery has ended, another delivery_state is MOOLAI_E_CONFLICT.
     * Output: the record.
     * THREADS: any host thread (the delivery thread, WebSocket threads
     * for acks, REST workers). OWNERSHIP: both strings borrowed. */
    moolai_status (*msg_update_delivery)(moolai_instance* self, moolai_call* call,
                                         moolai_str message_id, moolai_str patch_json);

    /* ---- Usage: {orchestrator_id, organization_id, period, model,
     * requests, input_tokens, output_tokens, cost_usd}. ---- */

    /* Stores one usage report. THREADS: any host thread (WebSocket
     * threads, REST workers). OWNERSHIP: record_json borrowed. */
    moolai_status (*usage_insert)(moolai_instance* self, moolai_call* call, moolai_str record_json);
    /* Groups by query->kind: "organization" | "orchestrator" | "model" |
     * "day" | "hour" (since 1.2; key "YYYY-MM-DDTHH:00:00Z", UTC; a plugin
     * that answers MOOLAI_E_INVALID for it gets no hourly costs), over
     * [from_ms, to_ms) of period, filtered by organization_id
     * and orchestrator_id. Output: {"items":[{"key","requests",
     * "input_tokens","output_tokens","cost_usd"}],"total":{same sums
     * without key}}. THREADS: any host thread (REST workers).
     * OWNERSHIP: query and its strings borrowed. */
    moolai_status (*usage_aggregate)(moolai_instance* self, moolai_call* call,
                                     const moolai_query* query);

    /* ---- Users: {username, password_hash, role, organization_id,
     * created_at, updated_at}. ---- */

    /* MOOLAI_E_CONFLICT when the username exists. THREADS: any host thread
     * (REST workers; the main thread for the first superadmin).
     * OWNERSHIP: record_json borrowed. */
    moolai_status (*user_create)(moolai_instance* self, moolai_call* call, moolai_str record_json);
    /* Output: the record, password_hash included (for login). THREADS: any
     * host thread (REST workers). OWNERSHIP: borrowed. */
    moolai_status (*user_get)(moolai_instance* self, moolai_call* call, moolai_str username);
    /* Merges patch_json. Output: the updated record. Since 1.3 a patch
     * that sets password_hash, or changes role or organization_id, also
     * deletes the user's sessions in the same transaction, except the one
     * whose token hash the patch gives as "keep_session", or all of them
     * with "keep_sessions": true (the same password hashed anew at login);
     * both are instructions, not record fields, which older plugins
     * ignore. The output adds
     * "sessions_ended": N. Without that field the host knows the sessions
     * were left open (a plugin built before 1.3). THREADS: any host
     * thread (REST workers). OWNERSHIP: both strings borrowed. */
    moolai_status (*user_update)(moolai_instance* self, moolai_call* call, moolai_str username,
                                 moolai_str patch_json);
    /* Lists filter on organization_id, status (role) and search, and never
     * include password_hash; sort (1.3): username (default), role,
     * organization_id, created_at. THREADS: any host thread (REST workers).
     * OWNERSHIP: query and its strings borrowed. */
    moolai_status (*user_list)(moolai_instance* self, moolai_call* call, const moolai_query* query);
    /* Deletes the user with its sessions. THREADS: any host thread (REST
     * workers). OWNERSHIP: borrowed. */
    moolai_status (*user_delete)(moolai_instance* self, moolai_call* call, moolai_str username);

    /* ---- Sessions: {token_hash, username, created_at, expires_at}. ---- */

    /* THREADS: any host thread (REST workers, at login).
     * OWNERSHIP: record_json borrowed. */
    moolai_status (*session_create)(moolai_instance* self, moolai_call* call,
                                    moolai_str record_json);
    /* Outputs the session joined with its user's role and organization_id;
     * MOOLAI_E_NOT_FOUND once expired. THREADS: any host thread (REST
     * workers, WebSocket threads for the event stream). OWNERSHIP: borrowed. */
    moolai_status (*session_get)(moolai_instance* self, moolai_call* call, moolai_str token_hash);
    /* THREADS: any host thread (REST workers, at logout).
     * OWNERSHIP: borrowed. */
    moolai_status (*session_delete)(moolai_instance* self, moolai_call* call, moolai_str token_hash);
    /* Removes sessions that expired before now_ms. Output: {"removed":N}.
     * THREADS: the host's periodic maintenance thread. OWNERSHIP: none. */
    moolai_status (*session_purge)(moolai_instance* self, moolai_call* call, int64_t now_ms);

    /* ---- Audit log, append-only: {id, time, actor, action,
     * organization_id, orchestrator_id, old_value, new_value, detail}. ---- */

    /* THREADS: any host thread (REST workers). OWNERSHIP: borrowed. */
    moolai_status (*audit_append)(moolai_instance* self, moolai_call* call, moolai_str record_json);
    /* Lists newest first, filtered on organization_id, orchestrator_id,
     * kind (action), search (actor) and [from_ms, to_ms); sort (1.3): id,
     * time, actor, action, organization_id, orchestrator_id. THREADS: any
     * host thread (REST workers). OWNERSHIP: query and strings borrowed. */
    moolai_status (*audit_list)(moolai_instance* self, moolai_call* call, const moolai_query* query);

    /* ---- 1.2 ---- */

    /* Optional. Stores several usage reports in one transaction, all or
     * none: records_json is a JSON array of usage records, each as
     * usage_insert takes it. MOOLAI_E_INVALID (set_error names the index
     * of the first bad record) and MOOLAI_E_UNAVAILABLE store nothing.
     * Output: {"inserted":N}. NULL, or MOOLAI_E_UNSUPPORTED: the host
     * calls usage_insert once per record instead.
     * THREADS: the host's storage writer thread. OWNERSHIP: records_json
     * borrowed for the call. */
    moolai_status (*usage_insert_batch)(moolai_instance* self, moolai_call* call,
                                        moolai_str records_json);

    /* ---- 1.3 ---- */

    /* Optional. Walks the whole audit log oldest first in one read
     * transaction and checks its hash chain (since 1.3 every appended
     * record carries "prev_hash" and "hash": lowercase hex SHA-256 of
     * prev_hash, a newline and the record's canonical JSON; docs/abi.md,
     * "The audit chain"). Output: {"ok":bool,"rows":N,"chained":N,
     * "unchained_before":N,"head":{"id":N,"hash":"..."} or null,
     * "first_broken":{"id":N,"reason":"..."} or null}; rows written
     * before the plugin chained (no hash) are counted in unchained_before
     * and are not evidence of tampering. NULL, or MOOLAI_E_UNSUPPORTED:
     * the plugin keeps no chain. THREADS: any host thread (REST workers,
     * the main thread for the admin command). OWNERSHIP: none. */
    moolai_status (*audit_verify)(moolai_instance* self, moolai_call* call);

    /* ---- 1.4: several controller hosts on one store ----
     * All optional; a plugin without them (NULL, or MOOLAI_E_UNSUPPORTED)
     * serves one host alone. A host id is [A-Za-z0-9._:-]{1,64}. */

    /* Optional. Publishes `payload` (UTF-8, at most 1 MiB) on `channel`
     * ([a-z_]{1,40}) to every host that listens on it through the same
     * store, the sender included, after the call returns; in order per
     * sender; at most once (a host whose listening connection broke gets
     * an empty payload instead, see deliver_notification). A payload too
     * large for the store's own channel goes through a table the
     * notification points at; the receiving plugin reads it back and
     * delivers the whole payload. THREADS: any host thread (the host's
     * cluster outbox thread). OWNERSHIP: both strings borrowed. */
    moolai_status (*notify)(moolai_instance* self, moolai_call* call, moolai_str channel,
                            moolai_str payload);
    /* Optional. From now until stop(), what arrives on `channel` is handed
     * to moolai_host_api.deliver_notification, on a thread of the
     * plugin's. THREADS: main thread, at start-up, after start().
     * OWNERSHIP: channel borrowed. */
    moolai_status (*listen)(moolai_instance* self, moolai_call* call, moolai_str channel);
    /* Optional. Renews host `host_id`'s lease until now + lease_ms (the
     * row is made on first use, info_json kept with it) and, in the same
     * transaction, takes or keeps the one leader lease when it is free,
     * expired or already this host's. lease_ms 0 = the host leaves: its
     * lease, its leadership and its connections (below) end now.
     * Output: {"leader":"<host id>" or null,"hosts":[{"host_id",
     * "lease_until" (Unix ms),"info"}]}, hosts with a live lease only.
     * THREADS: the main thread (start-up, shutdown), the host's cluster
     * lease thread. OWNERSHIP: borrowed. */
    moolai_status (*host_lease)(moolai_instance* self, moolai_call* call, moolai_str host_id,
                                int64_t lease_ms, moolai_str info_json);
    /* Optional. Records, in one transaction, which orchestrators this host
     * now holds and which it let go: changes_json is {"claim":[ids],
     * "release":[ids],"release_all":bool}; a claim replaces any other
     * host's row for the orchestrator, a release removes only this host's,
     * release_all (first) removes every row of this host. Output:
     * {"claimed":N,"released":N}. THREADS: the main thread (start-up:
     * release_all), the host's cluster lease/ledger thread.
     * OWNERSHIP: both strings borrowed. */
    moolai_status (*connections_write)(moolai_instance* self, moolai_call* call,
                                       moolai_str host_id, moolai_str changes_json);
    /* Optional. Output: {"items":[{"orchestrator_id","host_id","since"
     * (Unix ms)}]}: the rows of hosts whose lease is live.
     * THREADS: the main thread at start-up; the host's cluster inbox
     * thread (lost notifications) and lease thread (a host gone).
     * OWNERSHIP: none. */
    moolai_status (*connections_list)(moolai_instance* self, moolai_call* call);

    /* ---- 1.5+: APPEND ONLY below this line ---- */
} moolai_storage_v1;

/* ======================================================================
 * The plugin descriptor.
 * OWNERSHIP: plugin-owned static storage, valid while the library is
 * loaded (the host never unloads a plugin in production).
 * ====================================================================== */

typedef struct moolai_plugin_descriptor {
    uint32_t struct_size;        /* sizeof(moolai_plugin_descriptor) of the plugin */
    uint32_t abi_major;          /* MOOLAI_ABI_MAJOR the plugin was built with */
    uint32_t abi_minor_built;    /* MOOLAI_ABI_MINOR the plugin was built with */
    uint32_t abi_minor_required; /* the oldest host minor it works with (<= built) */
    const char* name;            /* NUL-terminated, [a-z0-9_]+, unique per host */
    const char* version;         /* NUL-terminated, the plugin's own version */
    const char* description;     /* NUL-terminated, one line */
    const char* config_schema;   /* NUL-terminated JSON Schema of the config block, or NULL */
    uint64_t capabilities;       /* MOOLAI_CAP_* bits */
    uint32_t threading;          /* MOOLAI_THREADING_* */
    uint32_t reserved;

    /* ---- 1.0 ---- */

    /* Required. Makes an instance from the plugin's config block (a JSON
     * object, already checked against config_schema). On failure returns
     * a status with set_error() and leaves *out NULL. THREADS: main thread,
     * once. OWNERSHIP: api and host are host-owned and outlive the
     * instance; config_json is borrowed for the call. */
    moolai_status (*create)(const moolai_host_api* api, moolai_host* host, moolai_str config_json,
                            moolai_call* call, moolai_instance** out);

    /* Optional. Starts background work (threads, connections). Called once
     * after every plugin was created. THREADS: main thread.
     * OWNERSHIP: self is the plugin's; call is valid for this call only. */
    moolai_status (*start)(moolai_instance* self, moolai_call* call);

    /* Optional. Stops background work and joins every thread the plugin
     * started; no call into this plugin follows except destroy(). THREADS:
     * main thread, once, at shutdown. OWNERSHIP: self stays the plugin's. */
    void (*stop)(moolai_instance* self);

    /* Required. Frees the instance. THREADS: main thread, once, last.
     * OWNERSHIP: self is freed by the plugin; the host never uses it again. */
    void (*destroy)(moolai_instance* self);

    /* Required. Returns the table of one capability bit the plugin
     * declared (moolai_auth_v1* for MOOLAI_CAP_AUTH, ...), NULL otherwise.
     * The table is plugin-owned static storage and starts with its
     * struct_size. THREADS: main thread, at load time.
     * OWNERSHIP: the table is plugin-owned and must stay valid and
     * unchanged while the library is loaded. */
    const void* (*get_capability)(uint64_t capability);

    /* ---- 1.5+: APPEND ONLY below this line ---- */
} moolai_plugin_descriptor;

/* The 1.0 size of every table on 64-bit targets: the least struct_size
 * either side accepts. Frozen: never changed. A table may be longer (built
 * against a newer minor); entries past 1.0 are read only after
 * MOOLAI_HAS_FIELD.                                                        */
#define MOOLAI_HOST_API_SIZE_1_0 88u
#define MOOLAI_AUTH_V1_SIZE_1_0 40u
#define MOOLAI_INDEPENDENCE_V1_SIZE_1_0 24u
#define MOOLAI_MESSAGING_V1_SIZE_1_0 32u
#define MOOLAI_OBSERVER_V1_SIZE_1_0 16u
#define MOOLAI_STORAGE_V1_SIZE_1_0 280u
#define MOOLAI_PLUGIN_DESCRIPTOR_SIZE_1_0 104u

/* ======================================================================
 * The one exported symbol.
 *
 * Called once, on the main thread, right after the library is loaded,
 * with the host's ABI version. Returns the plugin's descriptor, or NULL to
 * refuse this host (the host then refuses the plugin and says so).
 * ====================================================================== */

#define MOOLAI_PLUGIN_ENTRY_SYMBOL "moolai_plugin_entry"

typedef const moolai_plugin_descriptor* (*moolai_plugin_entry_fn)(uint32_t host_abi_major,
                                                                 uint32_t host_abi_minor);

#if defined(__GNUC__) || defined(__clang__)
#define MOOLAI_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define MOOLAI_PLUGIN_EXPORT
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MOOLAI_PLUGIN_API_H */
