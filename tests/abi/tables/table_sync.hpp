// The capability tables of moolai/plugin_api.h as the SDK and the host
// repeat them: for each table its C struct, its sdk:: class and its host
// client, and how each C parameter type reads on either side. Shared by the
// compile-time checks (static_checks.cpp) and the runtime tests
// (table_sync_test.cpp). The entries themselves come from
// capability_tables.inc, generated from plugin_api.h at build time, so a new
// entry there is checked everywhere without being listed here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <type_traits>

#include "capability_tables.inc"
#include "moolai/plugin_api.h"
#include "moolai/sdk/capabilities.hpp"
#include "moolai/sdk/export.hpp"
#include "plugins/capability_clients.hpp"

namespace moolai::tables {

// ---- the three places of each table ---------------------------------------

using C_auth = moolai_auth_v1;
using C_independence = moolai_independence_v1;
using C_messaging = moolai_messaging_v1;
using C_observer = moolai_observer_v1;
using C_storage = moolai_storage_v1;

using Sdk_auth = sdk::Auth;
using Sdk_independence = sdk::IndependencePolicy;
using Sdk_messaging = sdk::Messaging;
using Sdk_observer = sdk::Observer;
using Sdk_storage = sdk::Storage;

using Client_auth = host::AuthClient;
using Client_independence = host::IndependenceClient;
using Client_messaging = host::MessagingClient;
using Client_observer = host::ObserverClient;
using Client_storage = host::StorageClient;

// Names for messages (static_assert wants string literals).
#define MOOLAI_SDK_auth "sdk::Auth"
#define MOOLAI_SDK_independence "sdk::IndependencePolicy"
#define MOOLAI_SDK_messaging "sdk::Messaging"
#define MOOLAI_SDK_observer "sdk::Observer"
#define MOOLAI_SDK_storage "sdk::Storage"
#define MOOLAI_CLIENT_auth "AuthClient"
#define MOOLAI_CLIENT_independence "IndependenceClient"
#define MOOLAI_CLIENT_messaging "MessagingClient"
#define MOOLAI_CLIENT_observer "ObserverClient"
#define MOOLAI_CLIENT_storage "StorageClient"

// ---- a C parameter as each side takes it ----------------------------------

// In the SDK: strings as views, single structs by reference, out-parameters
// by reference, and the ABI's 0/1 uint32_t flags as bool.
template <class A>
struct SdkArg {
    using type = A;
};
template <>
struct SdkArg<moolai_str> {
    using type = sdk::Str;
};
template <>
struct SdkArg<const moolai_query*> {
    using type = const moolai_query&;
};
template <>
struct SdkArg<const moolai_event*> {
    using type = const moolai_event&;
};
template <>
struct SdkArg<const moolai_heartbeat_info*> {
    using type = const moolai_heartbeat_info&;
};
template <>
struct SdkArg<const moolai_toggle_request*> {
    using type = const moolai_toggle_request&;
};
template <>
struct SdkArg<const moolai_route_request*> {
    using type = const moolai_route_request&;
};
template <>
struct SdkArg<uint32_t*> {
    using type = uint32_t&;
};
template <>
struct SdkArg<uint32_t> {
    using type = bool;
};

// In the host's clients: the same, except that a query is the host's own
// owning Query.
template <class A>
struct ClientArg : SdkArg<A> {};
template <>
struct ClientArg<moolai_str> {
    using type = std::string_view;
};
template <>
struct ClientArg<const moolai_query*> {
    using type = const host::Query&;
};

template <class M>
struct MemberType;
template <class F, class C>
struct MemberType<F C::*> {
    using type = F;
};

template <class F>
struct Signature;
template <class... A>
struct Signature<moolai_status (*)(moolai_instance*, moolai_call*, A...)> {
    template <class Sdk>
    using sdk_method = sdk::Status (Sdk::*)(sdk::Call&, typename SdkArg<A>::type...);
    template <class Client>
    using client_method = host::CallResult (Client::*)(typename ClientArg<A>::type...) const;
};

// Client methods that deliberately differ from the rule above, keyed by
// their C entry.
template <auto Entry>
struct ClientOverride {
    using type = void;
};
// fn + cookie become one callable.
template <>
struct ClientOverride<&moolai_storage_v1::orch_scan> {
    using type = host::CallResult (host::StorageClient::*)(
        const std::function<moolai_status(const moolai_orchestrator_row&)>&) const;
};
// row_size is the client's own sizeof(moolai_heartbeat_row).
template <>
struct ClientOverride<&moolai_storage_v1::heartbeats_write> {
    using type = host::CallResult (host::StorageClient::*)(const moolai_heartbeat_row*,
                                                           size_t) const;
};

template <>
struct ClientOverride<&moolai_storage_v1::heartbeats_write_leased> {
    using type = host::CallResult (host::StorageClient::*)(const moolai_heartbeat_row*, size_t,
                                                           std::string_view, int64_t,
                                                           std::string_view) const;
};

template <auto Entry, class Sdk>
using SdkMethod =
    typename Signature<typename MemberType<decltype(Entry)>::type>::template sdk_method<Sdk>;

template <auto Entry, class Client>
using ClientMethod = std::conditional_t<
    std::is_void_v<typename ClientOverride<Entry>::type>,
    typename Signature<typename MemberType<decltype(Entry)>::type>::template client_method<Client>,
    typename ClientOverride<Entry>::type>;

// ---- Member_<table>_<entry><T>: T's member of the entry's name ------------
// exists is false when T has none (or overloads the name).

#define MOOLAI_DETECT_MEMBER(table, name, index, required)               \
    template <class T, class = void>                                     \
    struct Member_##table##_##name {                                     \
        static constexpr bool exists = false;                            \
        using type = void;                                               \
    };                                                                   \
    template <class T>                                                   \
    struct Member_##table##_##name<T, std::void_t<decltype(&T::name)>> { \
        static constexpr bool exists = true;                             \
        using type = decltype(&T::name);                                 \
    };
#define MOOLAI_DETECT_TABLE(table) MOOLAI_TABLE_ENTRIES_##table(MOOLAI_DETECT_MEMBER)
MOOLAI_TABLES(MOOLAI_DETECT_TABLE)
#undef MOOLAI_DETECT_TABLE
#undef MOOLAI_DETECT_MEMBER

}  // namespace moolai::tables
