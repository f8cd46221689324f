// The config-services conformance cases shared by the real host's test
// (tests/compat) and the fake host's (tests/testkit): one config block,
// requests to the config_probe plugin, and the answers both hosts must give.
#pragma once

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace moolai::test {

inline const char* kProbeConfig = R"({
  "name": "edge-1", "retries": 3, "ratio": 0.25, "big": 1e3, "huge": 18446744073709551615,
  "enabled": true, "nothing": null, "urls": ["http://a", "http://b"],
  "labels": {"zone": "eu", "a/b": "slash", "m~n": "tilde", "": "empty"},
  "nested": {"list": [{"id": 7}]}, "utf8": "caf\u00e9 \ud83d\ude00"
})";

// {request line, expected answer}
inline std::vector<std::pair<std::string, std::string>> config_cases() {
    return {
        {"available", "ok yes"},
        {"string /name", "ok edge-1"},
        {"string /utf8", "ok caf\xC3\xA9 \xF0\x9F\x98\x80"},
        {"string /labels/a~1b", "ok slash"},
        {"string /labels/m~0n", "ok tilde"},
        {"string /labels/", "ok empty"},
        {"integer /nested/list/0/id", "ok 7"},
        {"integer /retries", "ok 3"},
        {"number /retries", "ok 3"},
        {"number /ratio", "ok 0.25"},
        {"number /big", "ok 1000"},
        {"type /big", "ok 3"},      // 1e3 has an exponent: MOOLAI_JSON_NUMBER
        {"type /huge", "ok 3"},     // beyond int64_t: a number, not an integer
        {"type /retries", "ok 2"},  // MOOLAI_JSON_INTEGER
        {"type /nothing", "ok 0"},
        {"type /labels", "ok 6"},
        {"type ", "ok 6"},  // "" is the whole block
        {"boolean /enabled", "ok true"},
        {"length /urls", "ok 2"},
        {"length /labels", "ok 4"},
        {"keys /labels", "ok ,a/b,m~n,zone,"},  // byte order of the names
        {"string /urls/1", "ok http://b"},
        {"has /urls/2", "ok no"},
        {"has /urls/01", "ok no"},  // leading zeros are no array index
        {"has /urls/-", "ok no"},
        {"has /nothing", "ok yes"},
        {"string_or /absent", "ok fallback"},
        {"integer_or /absent/deeper", "ok -1"},
        {"integer /ratio", "error 1 config /ratio: expected an integer, found a number"},
        {"string /retries", "error 1 config /retries: expected a string, found an integer"},
        {"boolean /name", "error 1 config /name: expected a boolean, found a string"},
        {"length /name", "error 1 config /name: expected an array or an object, found a string"},
        {"keys /urls", "error 1 config /urls: expected an object, found an array"},
        {"string /absent", "error 1 config /absent: missing, and the plugin requires it"},
        {"string_or /retries", "error 1 config /retries: expected a string, found an integer"},
        {"has no-slash", "error 1 config no-slash: not a JSON Pointer (RFC 6901: \"\" or \"/name/0/...\")"},
        {"has /bad~2escape", "error 1 config /bad~2escape: not a JSON Pointer (RFC 6901: \"\" or \"/name/0/...\")"},
    };
}

// The same requests in one event's detail_json, and the answers expected.
inline std::pair<std::string, std::string> config_batch() {
    std::string requests, answers;
    for (const auto& [request, answer] : config_cases()) {
        requests += request + "\n";
        answers += answer + "\n";
    }
    return {requests, answers};
}

// Compares the probe's answers with config_batch()'s, line by line, so a
// failure names the request.
inline void expect_config_answers(const std::string& got) {
    const auto [requests, answers] = config_batch();
    std::istringstream want_lines(answers), got_lines(got), request_lines(requests);
    std::string want, line, request;
    while (std::getline(want_lines, want)) {
        std::getline(request_lines, request);
        ASSERT_TRUE(std::getline(got_lines, line)) << "no answer to " << request;
        EXPECT_EQ(line, want) << "request: " << request;
    }
    EXPECT_FALSE(std::getline(got_lines, line)) << "an extra answer: " << line;
}

}  // namespace moolai::test
