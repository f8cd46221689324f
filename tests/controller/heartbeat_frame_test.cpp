// scan_heartbeat_frame, the heartbeat fast path of WsProtocol: what it
// accepts, that everything else falls back (malformed input included), and
// that whatever it accepts, the full JSON parser reads the same way.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrators/ws_protocol.hpp"

namespace moolai::host {
namespace {

using nlohmann::json;

bool scan(std::string_view frame, HeartbeatFrame& out) {
    return scan_heartbeat_frame(frame, out);
}

bool scan(std::string_view frame) {
    HeartbeatFrame ignored;
    return scan_heartbeat_frame(frame, ignored);
}

// The full path's reading of an accepted frame must be the fast path's:
// a JSON object of a heartbeat type and, at most, the same orchestrator_id.
void expect_full_parser_agrees(const std::string& frame, const HeartbeatFrame& fast) {
    const json j = json::parse(frame, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << frame;
    ASSERT_TRUE(j.is_object()) << frame;
    ASSERT_TRUE(j.contains("type") && j["type"].is_string()) << frame;
    EXPECT_TRUE(j["type"] == "i_am_alive" || j["type"] == "keepalive") << frame;
    EXPECT_EQ(j.size(), fast.names_orchestrator ? 2u : 1u) << frame;
    if (fast.names_orchestrator) {
        ASSERT_TRUE(j["orchestrator_id"].is_string()) << frame;
        EXPECT_EQ(j["orchestrator_id"].get<std::string>(), std::string(fast.orchestrator_id))
            << frame;
    }
}

TEST(HeartbeatFrame, AcceptsWhatOrchestratorsSend) {
    HeartbeatFrame hb;
    ASSERT_TRUE(scan(R"({"type":"i_am_alive"})", hb));
    EXPECT_FALSE(hb.names_orchestrator);

    // The orchestrator client library writes keys in sorted order.
    ASSERT_TRUE(scan(R"({"orchestrator_id":"orch-001","type":"i_am_alive"})", hb));
    EXPECT_TRUE(hb.names_orchestrator);
    EXPECT_EQ(hb.orchestrator_id, "orch-001");

    ASSERT_TRUE(scan(R"({"type":"i_am_alive","orchestrator_id":"orch-001"})", hb));
    EXPECT_EQ(hb.orchestrator_id, "orch-001");

    ASSERT_TRUE(scan(" \r\n\t{ \"type\" : \"keepalive\" ,\n \"orchestrator_id\":\"a b\" } \n", hb));
    EXPECT_EQ(hb.orchestrator_id, "a b");

    ASSERT_TRUE(scan(R"({"orchestrator_id":"","type":"i_am_alive"})", hb));
    EXPECT_TRUE(hb.names_orchestrator);
    EXPECT_EQ(hb.orchestrator_id, "");
}

TEST(HeartbeatFrame, EverythingElseFallsBack) {
    for (const char* frame : {
             "",
             " ",
             "{}",
             "[]",
             "null",
             R"("i_am_alive")",
             R"({"type":"register","orchestrator_id":"o"})",
             R"({"type":"request_status"})",
             R"({"type":"I_AM_ALIVE"})",
             R"({"type":"i_am_alive ")",
             R"({"orchestrator_id":"o"})",
             R"({"type":"i_am_alive","extra":1})",
             R"({"type":"i_am_alive","orchestrator_id":7})",
             R"({"type":"i_am_alive","orchestrator_id":null})",
             R"({"type":"i_am_alive","orchestrator_id":{"a":"b"}})",
             R"({"type":"i_am_alive","type":"i_am_alive"})",
             R"({"type":"i_am_alive","type":"register"})",
             R"({"orchestrator_id":"a","orchestrator_id":"b","type":"i_am_alive"})",
             R"({"type":"i_am_alive",})",
             R"({"type":"i_am_alive"}})",
             R"({"type":"i_am_alive"} x)",
             R"({"type":"i_am_alive"}{})",
             R"({"type":"i_am_alive" "orchestrator_id":"o"})",
             R"({'type':'i_am_alive'})",
             R"({type:"i_am_alive"})",
             R"({"type":"i_am\u005falive"})",
             R"({"t\u0079pe":"i_am_alive"})",
             R"({"type":"i_am_alive","orchestrator_id":"a\"b"})",
             R"({"type":"i_am_alive","orchestrator_id":"a\\b"})",
             "{\"type\":\"i_am_alive\",\"orchestrator_id\":\"caf\xc3\xa9\"}",  // non-ASCII
             "{\"type\":\"i_am_alive\",\"orchestrator_id\":\"\xff\"}",         // not UTF-8
             "{\"type\":\"i_am_alive\",\"orchestrator_id\":\"a\tb\"}",         // raw control
         }) {
        EXPECT_FALSE(scan(frame)) << frame;
    }
    EXPECT_FALSE(scan(std::string_view("{\"type\":\"i_am_alive\"}\0", 22)))
        << "a NUL after the object";
}

TEST(HeartbeatFrame, EveryTruncationFallsBack) {
    const std::string frame = R"({"orchestrator_id":"orch-001","type":"i_am_alive"})";
    for (size_t n = 0; n < frame.size(); ++n)
        EXPECT_FALSE(scan(std::string_view(frame.data(), n))) << frame.substr(0, n);
    EXPECT_TRUE(scan(frame));
}

// Random damage to valid frames: never a crash, and an accepted frame is
// always read the same way by the full parser.
TEST(HeartbeatFrame, MutatedFramesNeverDisagreeWithTheFullParser) {
    const std::vector<std::string> seeds = {
        R"({"orchestrator_id":"orch-001","type":"i_am_alive"})",
        R"({"type":"keepalive","orchestrator_id":"x"})",
        R"( { "type" : "i_am_alive" } )",
    };
    const std::string alphabet = "{}[]\":,\\ \t\nabtypei_amlvorchd0123-\x01\x7f\xc3\xa9u";
    std::mt19937 rng(20261128);
    size_t accepted = 0;
    for (int i = 0; i < 200000; ++i) {
        std::string f = seeds[rng() % seeds.size()];
        const int edits = 1 + static_cast<int>(rng() % 3);
        for (int e = 0; e < edits; ++e) {
            const size_t at = f.empty() ? 0 : rng() % f.size();
            const char ch = alphabet[rng() % alphabet.size()];
            switch (rng() % 3) {
                case 0:
                    if (!f.empty()) f[at] = ch;
                    break;
                case 1:
                    f.insert(f.begin() + static_cast<std::ptrdiff_t>(at), ch);
                    break;
                default:
                    if (!f.empty()) f.erase(at, 1);
            }
        }
        HeartbeatFrame hb;
        if (scan(f, hb)) {
            ++accepted;
            expect_full_parser_agrees(f, hb);
            if (HasFailure()) return;
        }
    }
    EXPECT_GT(accepted, 0u) << "some mutations (whitespace, id characters) stay valid";
}

}  // namespace
}  // namespace moolai::host
