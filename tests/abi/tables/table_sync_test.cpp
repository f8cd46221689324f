// The capability tables at run time, through the host's real loader and
// clients, with the probe plugin (probe_plugin.cpp) whose every entry
// answers its own name:
//   - each client method reaches the entry of its own name;
//   - the loader refuses a plugin whose table leaves any required entry
//     NULL, naming it, and accepts one that leaves an optional entry NULL.
// The loader's list of required entries is not visible to the compiler,
// so this is where it is held to plugin_api.h.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>

#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "plugins/host_services.hpp"
#include "plugins/plugin_loader.hpp"
#include "table_sync.hpp"

namespace moolai::tables {
namespace {

// Calls `method` with value-initialized arguments: the probe reads none.
template <class Client, class... A>
host::CallResult call_with_defaults(const Client& client,
                                    host::CallResult (Client::*method)(A...) const) {
    std::tuple<std::decay_t<A>...> args{};
    return std::apply([&](auto&... a) { return (client.*method)(a...); }, args);
}

class TableSync : public ::testing::Test {
protected:
    host::Log log{100};
    host::Metrics metrics;
    host::HostServices services;
    std::unique_ptr<host::PluginLoader> loader;

    void SetUp() override {
        log.set_level(host::LogLevel::error);
        services.log = &log;
        services.metrics = &metrics;
        loader = std::make_unique<host::PluginLoader>(services);
    }
    void TearDown() override { unsetenv("MOOLAI_TABLES_PROBE_NULL"); }

    // The probe with entry `left_null` ("<table>.<entry>") NULL; empty: none.
    std::unique_ptr<host::LoadedPlugin> load(const std::string& left_null) {
        setenv("MOOLAI_TABLES_PROBE_NULL", left_null.c_str(), 1);
        return loader->load(TABLES_PROBE_PLUGIN, nlohmann::json::object());
    }
};

TEST_F(TableSync, EveryClientMethodCallsTheEntryOfItsOwnName) {
    const auto plugin = load("");
#define MOOLAI_CLIENT(table) const Client_##table client_##table(*plugin);
    MOOLAI_TABLES(MOOLAI_CLIENT)
#undef MOOLAI_CLIENT
    int called = 0;
    // A method the compile-time checks found missing is skipped here (the
    // client's type is a template parameter so that the name is not looked up).
#define MOOLAI_CALL(table, name, index, required)                                                \
    [&](const auto& client) {                                                                    \
        using C = std::decay_t<decltype(client)>;                                                \
        if constexpr (Member_##table##_##name<C>::exists) {                                      \
            const host::CallResult r = call_with_defaults(client, &C::name);                     \
            EXPECT_TRUE(r.ok()) << #table "." #name ": " << r.error;                             \
            EXPECT_EQ(r.output, #name)                                                           \
                << MOOLAI_CLIENT_##table "::" #name " called moolai_" #table "_v1." << r.output; \
            ++called;                                                                            \
        }                                                                                        \
    }(client_##table);
#define MOOLAI_CALL_TABLE(table) MOOLAI_TABLE_ENTRIES_##table(MOOLAI_CALL)
    MOOLAI_TABLES(MOOLAI_CALL_TABLE)
#undef MOOLAI_CALL_TABLE
#undef MOOLAI_CALL
#define MOOLAI_COUNT(table) +MOOLAI_TABLE_COUNT_##table
    EXPECT_EQ(called, 0 MOOLAI_TABLES(MOOLAI_COUNT));
#undef MOOLAI_COUNT
}

TEST_F(TableSync, TheLoaderRefusesATableWithoutARequiredEntryNamingIt) {
    int required_entries = 0;
#define MOOLAI_REFUSED(table, name, index, required)                                      \
    if (required) {                                                                       \
        ++required_entries;                                                               \
        std::string why = "(loaded)";                                                     \
        try {                                                                             \
            load(#table "." #name);                                                       \
        } catch (const host::PluginRefused& e) {                                          \
            why = e.what();                                                               \
        }                                                                                 \
        if (why.find(": capability " #table " lacks the required function " #name ";") == \
            std::string::npos)                                                            \
            ADD_FAILURE() << "moolai_" #table "_v1." #name                                \
                             " is required, yet the loader (its MOOLAI_REQ list in "      \
                             "host/plugins/plugin_loader.cpp) answered: "                 \
                          << why;                                                         \
    }
#define MOOLAI_REFUSED_TABLE(table) MOOLAI_TABLE_ENTRIES_##table(MOOLAI_REFUSED)
    MOOLAI_TABLES(MOOLAI_REFUSED_TABLE)
#undef MOOLAI_REFUSED_TABLE
#undef MOOLAI_REFUSED
    EXPECT_GT(required_entries, 0);
}

TEST_F(TableSync, TheLoaderAcceptsATableWithoutAnOptionalEntry) {
    int optional_entries = 0;
#define MOOLAI_ACCEPTED(table, name, index, required)                                         \
    if (!(required)) {                                                                        \
        ++optional_entries;                                                                   \
        try {                                                                                 \
            load(#table "." #name);                                                           \
        } catch (const host::PluginRefused& e) {                                              \
            ADD_FAILURE() << "moolai_" #table "_v1." #name                                    \
                             " is optional, yet the loader (its MOOLAI_REQ list in "          \
                             "host/plugins/plugin_loader.cpp) refused the table without it: " \
                          << e.what();                                                        \
        }                                                                                     \
    }
#define MOOLAI_ACCEPTED_TABLE(table) MOOLAI_TABLE_ENTRIES_##table(MOOLAI_ACCEPTED)
    MOOLAI_TABLES(MOOLAI_ACCEPTED_TABLE)
#undef MOOLAI_ACCEPTED_TABLE
#undef MOOLAI_ACCEPTED
    EXPECT_GT(optional_entries, 0);  // independence.on_toggle today
}

}  // namespace
}  // namespace moolai::tables
