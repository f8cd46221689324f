// The repo's plugin tests on the SDK's test kit (moolai/sdk/testing.hpp):
// the same fake host plugin authors get, driving plugins only through the
// C ABI. This header keeps the shape the plugin and storage tests were
// written against -- a Library, Instances made from it with a config, and
// free calls -- on top of the kit's Library, FakeHost and Plugin.
#ifndef MOOLAI_TESTS_SUPPORT_ABI_TEST_HOST_HPP
#define MOOLAI_TESTS_SUPPORT_ABI_TEST_HOST_HPP

#include <memory>
#include <string>
#include <string_view>

#include "moolai/sdk/testing.hpp"

namespace moolai::plugin_test {

namespace kit = moolai::sdk::testing;
using kit::Result;
using moolai::sdk::str;

// A loaded plugin library (mapped for the life of the process).
class Library {
public:
    // Throws kit::LoadError with dlerror()'s text when loading fails.
    explicit Library(const std::string& path) : lib_(kit::Library::open(path)) {}
    const moolai_plugin_descriptor& descriptor() const { return lib_.descriptor(); }
    template <class Table>
    const Table* capability(uint64_t cap) const {
        return lib_.table<Table>(cap);
    }
    const kit::Library& kit_library() const { return lib_; }

private:
    kit::Library lib_;
};

// One instance made by create() on its own fake host; stop() and destroy()
// run in the destructor.
class Instance {
public:
    // create() with `config_json`; on failure returns nullptr and fills *result
    // with the plugin's status and error text.
    static std::unique_ptr<Instance> create(const Library& lib, std::string_view config_json,
                                            Result* result = nullptr);
    moolai_instance* get() const { return plugin_->instance(); }
    kit::FakeHost& host() { return *host_; }
    const kit::Plugin& plugin() const { return *plugin_; }

private:
    Instance() = default;
    std::unique_ptr<kit::FakeHost> host_;  // outlives plugin_ (declared first)
    std::unique_ptr<kit::Plugin> plugin_;
};

// fn(moolai_call*) -> moolai_status with its own call handle.
using kit::call;

}  // namespace moolai::plugin_test

#endif  // MOOLAI_TESTS_SUPPORT_ABI_TEST_HOST_HPP
