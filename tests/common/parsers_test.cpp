// Parsers of outside input, with the cases fuzzing (tests/fuzz) found:
// RFC 3339 times that sscanf read with a sign inside or that did not
// format back (years before 1000, before 1970), a config file whose
// number overflows a double, and a schema "integer" check that cast a huge
// double to an integer type (undefined behaviour).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/rfc3339.hpp"
#include "config/controller_config.hpp"
#include "config/json_schema.hpp"

namespace moolai::host {
namespace {

using nlohmann::json;

TEST(Rfc3339, AcceptsTheDocumentedShapes) {
    int64_t ms = 0;
    ASSERT_TRUE(parse_rfc3339("2026-11-28T10:00:00Z", ms));
    EXPECT_EQ(format_rfc3339(ms), "2026-11-28T10:00:00Z");
    ASSERT_TRUE(parse_rfc3339("2026-11-28T10:00:00.250Z", ms));
    EXPECT_EQ(ms % 1000, 250);
    ASSERT_TRUE(parse_rfc3339("2026-11-28", ms));
    EXPECT_EQ(format_rfc3339(ms), "2026-11-28T00:00:00Z");
}

TEST(Rfc3339, RefusesSignsAndSpacesInsideTheDigits) {
    int64_t ms = 0;
    EXPECT_FALSE(parse_rfc3339("4052-12-01T10:-0:00Z", ms));  // found by fuzz_rest_body
    EXPECT_FALSE(parse_rfc3339("2026-11-28T-1:00:00Z", ms));
    EXPECT_FALSE(parse_rfc3339("2026-11-28T 1:00:00Z", ms));
    EXPECT_FALSE(parse_rfc3339("+026-11-28", ms));
    EXPECT_FALSE(parse_rfc3339("2026-+1-28", ms));
    EXPECT_FALSE(parse_rfc3339("2026-11-28T10:00:00", ms));
    EXPECT_FALSE(parse_rfc3339("", ms));
}

TEST(Rfc3339, FormatRoundTripsEveryParsedTime) {
    int64_t ms = 0;
    ASSERT_TRUE(parse_rfc3339("0506-12-01T10:00:00Z", ms));  // found by fuzz_rest_body
    EXPECT_EQ(format_rfc3339(ms), "0506-12-01T10:00:00Z");
    ASSERT_TRUE(parse_rfc3339("1969-12-31T23:59:59.500Z", ms));
    EXPECT_EQ(ms, -500);
    EXPECT_EQ(format_rfc3339(ms), "1969-12-31T23:59:59Z");  // its second, not the next
    EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
}

TEST(JsonSchema, IntegerCheckTakesHugeNumbers) {
    const json schema = json::parse(R"({"type":"integer","minimum":0,"maximum":65535})");
    // Whole numbers written as doubles are integers; 1e300 is one, too big.
    EXPECT_FALSE(validate_json_schema(schema, json::parse("80.0")));
    EXPECT_TRUE(validate_json_schema(schema, json::parse("80.5")));
    EXPECT_NE(validate_json_schema(schema, json::parse("1e300")), std::nullopt);
    EXPECT_NE(validate_json_schema(schema, json::parse("-1e300")), std::nullopt);
    EXPECT_FALSE(validate_json_schema(json::parse(R"({"type":"integer"})"), json::parse("1e300")));
}

TEST(ControllerConfig, NumberOverflowIsAConfigError) {
    const std::string path =
        (std::filesystem::temp_directory_path() / "moolai-parsers-test-config.json").string();
    std::ofstream(path) << R"({"rest":{"port":1e400}})";  // found by fuzz_config_file
    try {
        load_controller_config(path, "/nonexistent");
        ADD_FAILURE() << "loaded";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("is not valid JSON"), std::string::npos) << e.what();
    }
    std::ofstream(path) << R"({"rest":{"port":1e300}})";
    EXPECT_THROW(load_controller_config(path, "/nonexistent"), ConfigError);
    std::remove(path.c_str());
}

}  // namespace
}  // namespace moolai::host
