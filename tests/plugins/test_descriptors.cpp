// Every default plugin: loads through the entry point, describes itself as
// the host expects, and has a config schema within the subset the host
// validates.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <ostream>
#include <regex>
#include <set>
#include <string>

#include "support/abi_test_host.hpp"

using moolai::plugin_test::Instance;
using moolai::plugin_test::Library;
using nlohmann::json;

namespace {

struct Expected {
    const char* path;
    const char* name;
    uint64_t caps;
};

const Expected kPlugins[] = {
    {MOOLAI_TEST_AUTH_LOCAL, "auth_local", MOOLAI_CAP_AUTH},
    {MOOLAI_TEST_INDEPENDENCE_DEFAULT, "independence_default", MOOLAI_CAP_INDEPENDENCE},
    {MOOLAI_TEST_MESSAGING_DEFAULT, "messaging_default", MOOLAI_CAP_MESSAGING},
};

void PrintTo(const Expected& e, std::ostream* os) { *os << e.name; }

// The keywords the host's validator implements (draft-07 subset).
void expect_subset(const json& schema, const std::string& where) {
    static const std::set<std::string> allowed = {
        "type",    "properties", "required",  "additionalProperties", "minimum",
        "maximum", "enum",       "minLength", "maxLength",            "items"};
    ASSERT_TRUE(schema.is_object()) << where;
    for (auto it = schema.begin(); it != schema.end(); ++it) {
        EXPECT_TRUE(allowed.count(it.key())) << where << ": keyword \"" << it.key()
                                             << "\" is outside the host's schema subset";
    }
    if (schema.contains("properties")) {
        for (auto it = schema["properties"].begin(); it != schema["properties"].end(); ++it)
            expect_subset(it.value(), where + "/properties/" + it.key());
    }
    if (schema.contains("items")) expect_subset(schema["items"], where + "/items");
}

class Descriptor : public ::testing::TestWithParam<Expected> {};

TEST_P(Descriptor, DescribesItself) {
    const Expected& e = GetParam();
    Library lib(e.path);
    const moolai_plugin_descriptor& d = lib.descriptor();
    EXPECT_EQ(d.struct_size, sizeof(moolai_plugin_descriptor));
    EXPECT_EQ(d.abi_major, MOOLAI_ABI_MAJOR);
    EXPECT_LE(d.abi_minor_required, d.abi_minor_built);
    EXPECT_STREQ(d.name, e.name);
    EXPECT_TRUE(std::regex_match(d.name, std::regex("[a-z0-9_]+")));
    EXPECT_NE(std::string(d.version), "");
    EXPECT_NE(std::string(d.description), "");
    EXPECT_EQ(d.capabilities, e.caps);
    EXPECT_EQ(d.threading, MOOLAI_THREADING_CONCURRENT);
    EXPECT_NE(lib.capability<void>(e.caps), nullptr);
    EXPECT_EQ(lib.capability<void>(MOOLAI_CAP_STORAGE), nullptr);  // none of them offers storage
    ASSERT_NE(d.config_schema, nullptr);
    const json schema = json::parse(d.config_schema);
    EXPECT_EQ(schema.value("type", ""), "object");
    EXPECT_EQ(schema.value("additionalProperties", true), false);
    expect_subset(schema, e.name);
}

TEST_P(Descriptor, AcceptsEmptyAndDefaultConfig) {
    Library lib(GetParam().path);
    EXPECT_NE(Instance::create(lib, "{}"), nullptr);
    EXPECT_NE(Instance::create(lib, ""), nullptr);  // no config block at all
}

TEST_P(Descriptor, RejectsUnknownSettingsAndNonObjects) {
    Library lib(GetParam().path);
    moolai::plugin_test::Result r;
    EXPECT_EQ(Instance::create(lib, R"({"no_such_setting": 1})", &r), nullptr);
    EXPECT_EQ(r.status, MOOLAI_E_INVALID);
    EXPECT_NE(r.error.find("\"no_such_setting\""), std::string::npos) << r.error;
    EXPECT_EQ(Instance::create(lib, "[1,2]", &r), nullptr);
    EXPECT_EQ(r.status, MOOLAI_E_INVALID);
    EXPECT_EQ(Instance::create(lib, "{not json", &r), nullptr);
    EXPECT_EQ(r.status, MOOLAI_E_INVALID);
}

INSTANTIATE_TEST_SUITE_P(DefaultPlugins, Descriptor, ::testing::ValuesIn(kPlugins),
                         [](const ::testing::TestParamInfo<Expected>& i) {
                             return std::string(i.param.name);
                         });

}  // namespace
