// moolai/sdk/export.hpp -- MOOLAI_PLUGIN(T): builds the descriptor and the
// capability tables of plugin class T and exports the one entry point.
//
// Every function the host can call is a noexcept trampoline whose whole
// body, construction included, sits inside try/catch: no exception ever
// reaches the host. Structs the host passes are accepted when they cover
// ABI 1.0 (MOOLAI_*_SIZE_1_0), whatever minor the host is.
#ifndef MOOLAI_SDK_EXPORT_HPP
#define MOOLAI_SDK_EXPORT_HPP

#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <string_view>
#include <type_traits>

#include "moolai/sdk/capabilities.hpp"
#include "moolai/sdk/core.hpp"

namespace moolai::sdk::detail {

// ---- compile-time description of T -------------------------------------

template <class T, class = void>
struct has_config_schema : std::false_type {};
template <class T>
struct has_config_schema<T, std::void_t<decltype(T::config_schema)>> : std::true_type {};

template <class T, class = void>
struct has_threading : std::false_type {};
template <class T>
struct has_threading<T, std::void_t<decltype(T::threading)>> : std::true_type {};

template <class T, class = void>
struct has_minor_required : std::false_type {};
template <class T>
struct has_minor_required<T, std::void_t<decltype(T::abi_minor_required)>> : std::true_type {};

template <class T, class = void>
struct has_metadata : std::false_type {};
template <class T>
struct has_metadata<T,
                    std::void_t<decltype(T::name), decltype(T::version), decltype(T::description)>>
    : std::true_type {};

template <class T>
constexpr uint64_t capabilities_of() {
    uint64_t caps = 0;
    if constexpr (std::is_base_of_v<Auth, T>) caps |= MOOLAI_CAP_AUTH;
    if constexpr (std::is_base_of_v<IndependencePolicy, T>) caps |= MOOLAI_CAP_INDEPENDENCE;
    if constexpr (std::is_base_of_v<Messaging, T>) caps |= MOOLAI_CAP_MESSAGING;
    if constexpr (std::is_base_of_v<Storage, T>) caps |= MOOLAI_CAP_STORAGE;
    if constexpr (std::is_base_of_v<Observer, T>) caps |= MOOLAI_CAP_OBSERVER;
    return caps;
}

template <class T>
constexpr void check_plugin_class() {
    static_assert(std::is_base_of_v<Plugin, T>,
                  "MOOLAI_PLUGIN(T): T must derive publicly from moolai::sdk::Plugin");
    static_assert(has_metadata<T>::value,
                  "MOOLAI_PLUGIN(T): T needs `static constexpr const char* name`, `version` and "
                  "`description` members");
    static_assert(std::is_constructible_v<T, Host, std::string_view>,
                  "MOOLAI_PLUGIN(T): T needs a constructor T(moolai::sdk::Host host, "
                  "std::string_view config_json)");
    static_assert(capabilities_of<T>() != 0,
                  "MOOLAI_PLUGIN(T): T must derive from at least one capability: sdk::Auth, "
                  "sdk::IndependencePolicy, sdk::Messaging, sdk::Storage or sdk::Observer");
    static_assert(!std::is_abstract_v<T>,
                  "MOOLAI_PLUGIN(T): T is abstract: implement every pure virtual method of the "
                  "capabilities it derives from (the compiler lists them below)");
    if constexpr (has_threading<T>::value) {
        static_assert(T::threading == MOOLAI_THREADING_SERIALIZED ||
                          T::threading == MOOLAI_THREADING_CONCURRENT,
                      "MOOLAI_PLUGIN(T): T::threading must be MOOLAI_THREADING_SERIALIZED or "
                      "MOOLAI_THREADING_CONCURRENT");
    }
    if constexpr (has_minor_required<T>::value) {
        static_assert(T::abi_minor_required <= MOOLAI_ABI_MINOR,
                      "MOOLAI_PLUGIN(T): T::abi_minor_required is newer than the plugin_api "
                      "headers this plugin is built with");
    }
}

// ---- the instance behind moolai_instance* -------------------------------

template <class T>
struct Instance {
    const moolai_host_api* api;
    std::unique_ptr<T> object;
};

template <class T>
Instance<T>& self(moolai_instance* p) noexcept {
    return *reinterpret_cast<Instance<T>*>(p);
}

// Runs `body` and turns every exception into a status plus error text.
template <class Body>
Status guarded(const moolai_host_api* api, moolai_call* call, Body&& body) noexcept {
    try {
        return body();
    } catch (const Error& e) {
        api->set_error(call, str(e.what()));
        return e.status();
    } catch (const std::bad_alloc&) {
        api->set_error(call, str("out of memory"));
        return MOOLAI_E_INTERNAL;
    } catch (const std::exception& e) {
        api->set_error(call, str(e.what()));
        return MOOLAI_E_INTERNAL;
    } catch (...) {
        api->set_error(call, str("unknown exception"));
        return MOOLAI_E_INTERNAL;
    }
}

// Calls method `m` of capability C on the instance with a Call wrapper.
template <class T, class C, class M, class... A>
Status invoke(moolai_instance* p, moolai_call* call, M C::*m, A&&... args) noexcept {
    Instance<T>& inst = self<T>(p);
    return guarded(inst.api, call, [&]() -> Status {
        Call c(inst.api, call);
        C& capability = *inst.object;
        return (capability.*m)(c, std::forward<A>(args)...);
    });
}

// ---- lifecycle trampolines ---------------------------------------------

template <class T>
struct Lifecycle {
    static Status create(const moolai_host_api* api, moolai_host* host, moolai_str config,
                         moolai_call* call, moolai_instance** out) noexcept {
        if (out == nullptr) return MOOLAI_E_INVALID;
        *out = nullptr;
        // Every 1.x host's table covers 1.0; without that nothing can be reported.
        if (api == nullptr || api->struct_size < MOOLAI_HOST_API_SIZE_1_0) return MOOLAI_E_INVALID;
        return guarded(api, call, [&]() -> Status {
            auto inst = std::make_unique<Instance<T>>();
            inst->api = api;
            inst->object = std::make_unique<T>(Host(api, host), view(config));
            *out = reinterpret_cast<moolai_instance*>(inst.release());
            return MOOLAI_OK;
        });
    }
    static Status start(moolai_instance* p, moolai_call* call) noexcept {
        Instance<T>& inst = self<T>(p);
        return guarded(inst.api, call, [&]() -> Status {
            Call c(inst.api, call);
            return inst.object->start(c);
        });
    }
    static void stop(moolai_instance* p) noexcept {
        try {
            self<T>(p).object->stop();
        } catch (...) {
            // stop() is noexcept in sdk::Plugin; nothing to report to.
        }
    }
    static void destroy(moolai_instance* p) noexcept {
        try {
            delete &self<T>(p);
        } catch (...) {
            // A throwing destructor would terminate; swallow it at the wall.
        }
    }
};

// ---- capability tables ---------------------------------------------------
//
// make_<table>_table<T>() is constexpr so that a test can see at compile
// time that it fills every entry of its table (tests/abi/tables/);
// <table>_table<T>() hands the host that constant.

template <class T>
constexpr moolai_auth_v1 make_auth_table() noexcept {
    moolai_auth_v1 t{};
    t.struct_size = sizeof(t);
    t.hash_password = [](moolai_instance* p, moolai_call* c, moolai_str pw) noexcept {
        return invoke<T>(p, c, &Auth::hash_password, view(pw));
    };
    t.verify_password = [](moolai_instance* p, moolai_call* c, moolai_str h,
                           moolai_str pw) noexcept {
        return invoke<T>(p, c, &Auth::verify_password, view(h), view(pw));
    };
    t.new_token = [](moolai_instance* p, moolai_call* c) noexcept {
        return invoke<T>(p, c, &Auth::new_token);
    };
    t.hash_token = [](moolai_instance* p, moolai_call* c, moolai_str tok) noexcept {
        return invoke<T>(p, c, &Auth::hash_token, view(tok));
    };
    return t;
}

template <class T>
constexpr moolai_independence_v1 make_independence_table() noexcept {
    moolai_independence_v1 t{};
    t.struct_size = sizeof(t);
    t.on_heartbeat = [](moolai_instance* p, moolai_call* c, const moolai_heartbeat_info* hb,
                        uint32_t* decision) noexcept {
        if (hb == nullptr || decision == nullptr ||
            hb->struct_size < MOOLAI_HEARTBEAT_INFO_SIZE_1_0)
            return MOOLAI_E_INVALID;
        return invoke<T>(p, c, &IndependencePolicy::on_heartbeat, *hb, *decision);
    };
    t.on_toggle = [](moolai_instance* p, moolai_call* c, const moolai_toggle_request* r) noexcept {
        if (r == nullptr || r->struct_size < MOOLAI_TOGGLE_REQUEST_SIZE_1_0)
            return MOOLAI_E_INVALID;
        return invoke<T>(p, c, &IndependencePolicy::on_toggle, *r);
    };
    return t;
}

template <class T>
constexpr moolai_messaging_v1 make_messaging_table() noexcept {
    moolai_messaging_v1 t{};
    t.struct_size = sizeof(t);
    t.accept = [](moolai_instance* p, moolai_call* c, moolai_str m) noexcept {
        return invoke<T>(p, c, &Messaging::accept, view(m));
    };
    t.route = [](moolai_instance* p, moolai_call* c, const moolai_route_request* r,
                 uint32_t* decision) noexcept {
        if (r == nullptr || decision == nullptr || r->struct_size < MOOLAI_ROUTE_REQUEST_SIZE_1_0)
            return MOOLAI_E_INVALID;
        return invoke<T>(p, c, &Messaging::route, *r, *decision);
    };
    t.render = [](moolai_instance* p, moolai_call* c, moolai_str m) noexcept {
        return invoke<T>(p, c, &Messaging::render, view(m));
    };
    return t;
}

template <class T>
constexpr moolai_observer_v1 make_observer_table() noexcept {
    moolai_observer_v1 t{};
    t.struct_size = sizeof(t);
    t.on_event = [](moolai_instance* p, moolai_call* c, const moolai_event* e) noexcept {
        if (e == nullptr || e->struct_size < MOOLAI_EVENT_SIZE_1_0) return MOOLAI_E_INVALID;
        return invoke<T>(p, c, &Observer::on_event, *e);
    };
    return t;
}

template <class T>
constexpr moolai_storage_v1 make_storage_table() noexcept {
    using S = Storage;
    using I = moolai_instance*;
    using K = moolai_call*;
    using Q = const moolai_query*;
    moolai_storage_v1 t{};
    t.struct_size = sizeof(t);
    // Trampolines of the three common shapes: one query, one string, two strings.
#define MOOLAI_SDK_QUERY_FN(fn)                                                              \
    t.fn = [](I p, K c, Q q) noexcept {                                                      \
        if (q == nullptr || q->struct_size < MOOLAI_QUERY_SIZE_1_0) return MOOLAI_E_INVALID; \
        return invoke<T>(p, c, &S::fn, *q);                                                  \
    }
#define MOOLAI_SDK_STR_FN(fn) \
    t.fn = [](I p, K c, moolai_str a) noexcept { return invoke<T>(p, c, &S::fn, view(a)); }
#define MOOLAI_SDK_STR2_FN(fn)                                 \
    t.fn = [](I p, K c, moolai_str a, moolai_str b) noexcept { \
        return invoke<T>(p, c, &S::fn, view(a), view(b));      \
    }
    t.migrate = [](I p, K c) noexcept { return invoke<T>(p, c, &S::migrate); };
    t.ping = [](I p, K c) noexcept { return invoke<T>(p, c, &S::ping); };
    MOOLAI_SDK_STR_FN(org_create);
    MOOLAI_SDK_STR2_FN(org_update);
    MOOLAI_SDK_STR_FN(org_get);
    MOOLAI_SDK_QUERY_FN(org_list);
    MOOLAI_SDK_STR_FN(org_delete);
    MOOLAI_SDK_STR_FN(orch_create);
    MOOLAI_SDK_STR2_FN(orch_update);
    MOOLAI_SDK_STR_FN(orch_get);
    MOOLAI_SDK_QUERY_FN(orch_list);
    MOOLAI_SDK_STR_FN(orch_delete);
    t.orch_scan = [](I p, K c, moolai_orchestrator_row_fn fn, void* cookie) noexcept {
        if (fn == nullptr) return MOOLAI_E_INVALID;
        return invoke<T>(p, c, &S::orch_scan, fn, cookie);
    };
    t.orch_set_independence = [](I p, K c, moolai_str id, uint32_t v) noexcept {
        return invoke<T>(p, c, &S::orch_set_independence, view(id), v != 0);
    };
    MOOLAI_SDK_STR2_FN(orch_set_credential);
    t.heartbeats_write = [](I p, K c, const moolai_heartbeat_row* rows, uint64_t n,
                            uint64_t row_size) noexcept {
        if (n != 0 && (rows == nullptr || row_size < MOOLAI_HEARTBEAT_ROW_SIZE_1_0))
            return MOOLAI_E_INVALID;
        return invoke<T>(p, c, &S::heartbeats_write, rows, n, row_size);
    };
    MOOLAI_SDK_STR_FN(msg_create);
    MOOLAI_SDK_STR_FN(msg_get);
    MOOLAI_SDK_QUERY_FN(msg_list);
    t.msg_set_status = [](I p, K c, moolai_str id, moolai_str expected,
                          moolai_str status) noexcept {
        return invoke<T>(p, c, &S::msg_set_status, view(id), view(expected), view(status));
    };
    MOOLAI_SDK_STR2_FN(msg_update_delivery);
    MOOLAI_SDK_STR_FN(usage_insert);
    MOOLAI_SDK_QUERY_FN(usage_aggregate);
    MOOLAI_SDK_STR_FN(user_create);
    MOOLAI_SDK_STR_FN(user_get);
    MOOLAI_SDK_STR2_FN(user_update);
    MOOLAI_SDK_QUERY_FN(user_list);
    MOOLAI_SDK_STR_FN(user_delete);
    MOOLAI_SDK_STR_FN(session_create);
    MOOLAI_SDK_STR_FN(session_get);
    MOOLAI_SDK_STR_FN(session_delete);
    t.session_purge = [](I p, K c, int64_t now_ms) noexcept {
        return invoke<T>(p, c, &S::session_purge, now_ms);
    };
    MOOLAI_SDK_STR_FN(audit_append);
    MOOLAI_SDK_QUERY_FN(audit_list);
    MOOLAI_SDK_STR_FN(usage_insert_batch);
    t.audit_verify = [](I p, K c) noexcept { return invoke<T>(p, c, &S::audit_verify); };
    MOOLAI_SDK_STR2_FN(notify);
    MOOLAI_SDK_STR_FN(listen);
    t.host_lease = [](I p, K c, moolai_str host_id, int64_t lease_ms,
                      moolai_str info_json) noexcept {
        return invoke<T>(p, c, &S::host_lease, view(host_id), lease_ms, view(info_json));
    };
    MOOLAI_SDK_STR2_FN(connections_write);
    t.connections_list = [](I p, K c) noexcept { return invoke<T>(p, c, &S::connections_list); };
    t.heartbeats_write_leased = [](I p, K c, const moolai_heartbeat_row* rows, uint64_t n,
                                   uint64_t row_size, moolai_str host_id, int64_t lease_ms,
                                   moolai_str info_json) noexcept {
        if (n != 0 && (rows == nullptr || row_size < MOOLAI_HEARTBEAT_ROW_SIZE_1_0))
            return MOOLAI_E_INVALID;
        return invoke<T>(p, c, &S::heartbeats_write_leased, rows, n, row_size, view(host_id),
                         lease_ms, view(info_json));
    };
#undef MOOLAI_SDK_QUERY_FN
#undef MOOLAI_SDK_STR_FN
#undef MOOLAI_SDK_STR2_FN
    return t;
}

template <class T>
const moolai_auth_v1* auth_table() noexcept {
    static constexpr moolai_auth_v1 table = make_auth_table<T>();
    return &table;
}

template <class T>
const moolai_independence_v1* independence_table() noexcept {
    static constexpr moolai_independence_v1 table = make_independence_table<T>();
    return &table;
}

template <class T>
const moolai_messaging_v1* messaging_table() noexcept {
    static constexpr moolai_messaging_v1 table = make_messaging_table<T>();
    return &table;
}

template <class T>
const moolai_observer_v1* observer_table() noexcept {
    static constexpr moolai_observer_v1 table = make_observer_table<T>();
    return &table;
}

template <class T>
const moolai_storage_v1* storage_table() noexcept {
    static constexpr moolai_storage_v1 table = make_storage_table<T>();
    return &table;
}

template <class T>
const void* get_capability(uint64_t capability) noexcept {
    if constexpr (std::is_base_of_v<Auth, T>) {
        if (capability == MOOLAI_CAP_AUTH) return auth_table<T>();
    }
    if constexpr (std::is_base_of_v<IndependencePolicy, T>) {
        if (capability == MOOLAI_CAP_INDEPENDENCE) return independence_table<T>();
    }
    if constexpr (std::is_base_of_v<Messaging, T>) {
        if (capability == MOOLAI_CAP_MESSAGING) return messaging_table<T>();
    }
    if constexpr (std::is_base_of_v<Storage, T>) {
        if (capability == MOOLAI_CAP_STORAGE) return storage_table<T>();
    }
    if constexpr (std::is_base_of_v<Observer, T>) {
        if (capability == MOOLAI_CAP_OBSERVER) return observer_table<T>();
    }
    return nullptr;
}

template <class T>
const moolai_plugin_descriptor* entry(uint32_t host_major, uint32_t host_minor) noexcept {
    check_plugin_class<T>();
    static const moolai_plugin_descriptor descriptor = [] {
        moolai_plugin_descriptor d{};
        d.struct_size = sizeof(d);
        d.abi_major = MOOLAI_ABI_MAJOR;
        d.abi_minor_built = MOOLAI_ABI_MINOR;
        if constexpr (has_minor_required<T>::value) {
            d.abi_minor_required = T::abi_minor_required;
        } else {
            d.abi_minor_required = 0;  // the SDK itself uses only 1.0 functions
        }
        d.name = T::name;
        d.version = T::version;
        d.description = T::description;
        if constexpr (has_config_schema<T>::value) {
            d.config_schema = T::config_schema;
        } else {
            d.config_schema = nullptr;
        }
        d.capabilities = capabilities_of<T>();
        if constexpr (has_threading<T>::value) {
            d.threading = T::threading;
        } else {
            d.threading = MOOLAI_THREADING_SERIALIZED;  // the safe default
        }
        d.create = &Lifecycle<T>::create;
        d.start = &Lifecycle<T>::start;
        d.stop = &Lifecycle<T>::stop;
        d.destroy = &Lifecycle<T>::destroy;
        d.get_capability = &get_capability<T>;
        return d;
    }();
    // The descriptor goes even to a host of another major: such a host reads
    // only the leading version fields and refuses us with a precise line.
    (void)host_major;
    (void)host_minor;
    return &descriptor;
}

}  // namespace moolai::sdk::detail

// Exports the entry point of plugin class T. Use once per shared object, at
// namespace scope, after T is complete.
#define MOOLAI_PLUGIN(T)                                                                 \
    extern "C" MOOLAI_PLUGIN_EXPORT const moolai_plugin_descriptor* moolai_plugin_entry( \
        uint32_t host_abi_major, uint32_t host_abi_minor) {                              \
        return ::moolai::sdk::detail::entry<T>(host_abi_major, host_abi_minor);          \
    }                                                                                    \
    static_assert(true, "MOOLAI_PLUGIN(T) is used at namespace scope, followed by ;")

#endif  // MOOLAI_SDK_EXPORT_HPP
