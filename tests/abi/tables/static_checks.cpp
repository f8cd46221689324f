// The capability tables of moolai/plugin_api.h against the SDK and the
// host, at compile time. For every entry the list generated from the
// header names, and for every table:
//   - the entry sits where the list says (order), and sizeof the table
//     counts as many entries as the list (the list misses none);
//   - sdk::<Capability> has a method of that name taking the entry's
//     parameters as the SDK takes them;
//   - the SDK's make_<table>_table() sets it (no NULL trampoline);
//   - the host's <Capability>Client has a method of that name taking the
//     entry's parameters as the host takes them.
// A disagreement stops the build with a static_assert naming the entry and
// the place. What C++ cannot see (a method a place has in excess, parameter
// names, the loader's list) is checked by tests/abi/capability_tables.py.
#include "table_sync.hpp"

namespace moolai::tables {
namespace {

constexpr size_t kHeader = 2 * sizeof(uint32_t);  // struct_size, reserved
constexpr size_t kSlot = sizeof(void (*)());

// Both types, shown by the compiler in the note of a failing check.
template <class Got, class Want, bool Check>
struct Same : std::true_type {};
template <class Got, class Want>
struct Same<Got, Want, true> : std::is_same<Got, Want> {
    static_assert(std::is_same_v<Got, Want>,
                  "the method's type (Got) is not the one its C entry asks for (Want)");
};

// A plugin class offering every capability, for the SDK's table builders.
struct Every : sdk::Auth, sdk::IndependencePolicy, sdk::Messaging, sdk::Observer, sdk::Storage {};

#define MOOLAI_SDK_TABLE(table) \
    constexpr C_##table kMade_##table = sdk::detail::make_##table##_table<Every>();
MOOLAI_TABLES(MOOLAI_SDK_TABLE)
#undef MOOLAI_SDK_TABLE

#define MOOLAI_CHECK_COUNT(table)                                                          \
    static_assert((sizeof(C_##table) - kHeader) % kSlot == 0 &&                            \
                      (sizeof(C_##table) - kHeader) / kSlot == MOOLAI_TABLE_COUNT_##table, \
                  "moolai_" #table                                                         \
                  "_v1: sizeof counts another number of entries than "                     \
                  "the list read from plugin_api.h (capability_tables.py misread it)");
MOOLAI_TABLES(MOOLAI_CHECK_COUNT)
#undef MOOLAI_CHECK_COUNT

#define MOOLAI_CHECK_ENTRY(table, name, index, required)                                     \
    static_assert(offsetof(C_##table, name) == kHeader + (index)*kSlot,                      \
                  #table "." #name ": not at its place in moolai_" #table                    \
                         "_v1 (the list "                                                    \
                         "read from plugin_api.h is stale or misread)");                     \
    static_assert(Member_##table##_##name<Sdk_##table>::exists,                              \
                  #table "." #name ": " MOOLAI_SDK_##table                                   \
                  " (sdk/include/moolai/sdk/capabilities.hpp) has no method of that name; "  \
                  "declare it as moolai_" #table "_v1 declares it");                         \
    static_assert(Same<typename Member_##table##_##name<Sdk_##table>::type,                  \
                       SdkMethod<&C_##table::name, Sdk_##table>,                             \
                       Member_##table##_##name<Sdk_##table>::exists>::value,                 \
                  #table "." #name ": " MOOLAI_SDK_##table                                   \
                  "::" #name " does not take what moolai_" #table "_v1." #name " takes");    \
    static_assert(kMade_##table.name != nullptr, #table                                      \
                  "." #name ": the SDK leaves it NULL; give it a trampoline in make_" #table \
                  "_table (sdk/include/moolai/sdk/export.hpp)");                             \
    static_assert(Member_##table##_##name<Client_##table>::exists,                           \
                  #table "." #name ": " MOOLAI_CLIENT_##table                                \
                  " (host/plugins/capability_clients.hpp) has no method of that name; "      \
                  "add one calling moolai_" #table "_v1." #name);                            \
    static_assert(Same<typename Member_##table##_##name<Client_##table>::type,               \
                       ClientMethod<&C_##table::name, Client_##table>,                       \
                       Member_##table##_##name<Client_##table>::exists>::value,              \
                  #table "." #name ": " MOOLAI_CLIENT_##table                                \
                  "::" #name " does not take what moolai_" #table "_v1." #name " takes");
#define MOOLAI_CHECK_TABLE(table) MOOLAI_TABLE_ENTRIES_##table(MOOLAI_CHECK_ENTRY)
MOOLAI_TABLES(MOOLAI_CHECK_TABLE)
#undef MOOLAI_CHECK_TABLE
#undef MOOLAI_CHECK_ENTRY

}  // namespace
}  // namespace moolai::tables
