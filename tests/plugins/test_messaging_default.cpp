// messaging_default through the C ABI.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/abi_test_host.hpp"

using moolai::plugin_test::call;
using moolai::plugin_test::Instance;
using moolai::plugin_test::Library;
using moolai::plugin_test::Result;
using moolai::plugin_test::str;
using nlohmann::json;

namespace {

class MessagingDefault : public ::testing::Test {
protected:
    void SetUp() override { inst_ = make("{}"); }

    static Library& lib() {
        static Library l(MOOLAI_TEST_MESSAGING_DEFAULT);
        return l;
    }
    static const moolai_messaging_v1& msg() {
        return *lib().capability<moolai_messaging_v1>(MOOLAI_CAP_MESSAGING);
    }
    static std::unique_ptr<Instance> make(const std::string& config) {
        Result r;
        auto inst = Instance::create(lib(), config, &r);
        EXPECT_NE(inst, nullptr) << r.error;
        return inst;
    }
    Result accept(const std::string& m, Instance* i = nullptr) {
        Instance& in = i ? *i : *inst_;
        return call([&](moolai_call* c) { return msg().accept(in.get(), c, str(m)); });
    }
    // Expects accept() to refuse `m` with MOOLAI_E_INVALID, naming `field`.
    void expect_invalid(const std::string& m, const std::string& field, Instance* i = nullptr) {
        Result r = accept(m, i);
        EXPECT_EQ(r.status, MOOLAI_E_INVALID) << m;
        EXPECT_EQ(r.output, "") << m;
        EXPECT_NE(r.error.find(field), std::string::npos) << m << " -> " << r.error;
    }
    Result route(const json& stored, uint32_t independent, uint32_t connected, uint32_t* decision) {
        const std::string text = stored.dump();
        moolai_route_request q{};
        q.struct_size = sizeof q;
        q.is_independent = independent;
        q.is_connected = connected;
        q.message_json = str(text);
        return call([&](moolai_call* c) { return msg().route(inst_->get(), c, &q, decision); });
    }
    uint32_t decide(const json& stored, uint32_t independent, uint32_t connected) {
        uint32_t d = 99;
        Result r = route(stored, independent, connected, &d);
        EXPECT_EQ(r.status, MOOLAI_OK) << r.error;
        return d;
    }
    Result render(const std::string& stored) {
        return call([&](moolai_call* c) { return msg().render(inst_->get(), c, str(stored)); });
    }
    static json stored(const char* status, const char* type, const char* delivery = "none") {
        return json{{"id", "msg-123"},
                    {"orchestrator_id", "orch-001"},
                    {"message_type", type},
                    {"content", "enable the cache"},
                    {"message_metadata", {{"priority", "high"}}},
                    {"status", status},
                    {"delivery_state", delivery},
                    {"delivery_attempts", 0},
                    {"created_at", "2026-11-28T10:00:00Z"}};
    }

    std::unique_ptr<Instance> inst_;
};

TEST_F(MessagingDefault, TableIsComplete) {
    EXPECT_EQ(msg().struct_size, sizeof(moolai_messaging_v1));
    EXPECT_NE(msg().accept, nullptr);
    EXPECT_NE(msg().route, nullptr);
    EXPECT_NE(msg().render, nullptr);
}

TEST_F(MessagingDefault, AcceptNormalizes) {
    Result r = accept(R"({"orchestrator_id":"orch-001","message_type":"recommendation",
        "content":"We recommend enabling cache","source":"analyzer","id":"x","status":"accepted",
        "extra":{"a":1}})");
    ASSERT_EQ(r.status, MOOLAI_OK) << r.error;
    EXPECT_EQ(json::parse(r.output), json::parse(R"({"orchestrator_id":"orch-001",
        "message_type":"recommendation","content":"We recommend enabling cache",
        "message_metadata":{},"source":"analyzer"})"));

    r = accept(R"({"orchestrator_id":"o","message_type":"monitoring","content":"cpu 93%",
        "message_metadata":{"cpu":0.93,"tags":["a","b"]},"source":null})");
    ASSERT_EQ(r.status, MOOLAI_OK) << r.error;
    EXPECT_EQ(json::parse(r.output), json::parse(R"({"orchestrator_id":"o",
        "message_type":"monitoring","content":"cpu 93%",
        "message_metadata":{"cpu":0.93,"tags":["a","b"]}})"));

    r = accept(R"({"orchestrator_id":"o","message_type":"monitoring","content":"x",
        "message_metadata":null})");
    ASSERT_EQ(r.status, MOOLAI_OK) << r.error;
    EXPECT_EQ(json::parse(r.output).at("message_metadata"), json::object());
}

TEST_F(MessagingDefault, AcceptKeepsUnicodeAndEscapes) {
    const json in = {{"orchestrator_id", "orch-ü"},
                     {"message_type", "recommendation"},
                     {"content", "line1\nline2 \"quoted\" \\ \u00e9 \xF0\x9F\x98\x80"}};
    Result r = accept(in.dump());
    ASSERT_EQ(r.status, MOOLAI_OK) << r.error;
    const json out = json::parse(r.output);
    EXPECT_EQ(out.at("content"), in.at("content"));
    EXPECT_EQ(out.at("orchestrator_id"), in.at("orchestrator_id"));
}

TEST_F(MessagingDefault, AcceptRejectsBadMessagesNamingTheField) {
    expect_invalid("", "JSON");
    expect_invalid("{", "JSON");
    expect_invalid("[]", "object");
    expect_invalid(R"("text")", "object");
    expect_invalid(R"({"message_type":"monitoring","content":"x"})", "\"orchestrator_id\"");
    expect_invalid(R"({"orchestrator_id":"","message_type":"monitoring","content":"x"})",
                   "\"orchestrator_id\"");
    expect_invalid(R"({"orchestrator_id":42,"message_type":"monitoring","content":"x"})",
                   "\"orchestrator_id\"");
    expect_invalid(R"({"orchestrator_id":")" + std::string(256, 'o') +
                       R"(","message_type":"monitoring","content":"x"})",
                   "\"orchestrator_id\"");
    expect_invalid(R"({"orchestrator_id":"o","content":"x"})", "\"message_type\"");
    expect_invalid(R"({"orchestrator_id":"o","message_type":"alert","content":"x"})",
                   "\"message_type\"");
    expect_invalid(R"({"orchestrator_id":"o","message_type":"Recommendation","content":"x"})",
                   "\"message_type\"");
    expect_invalid(R"({"orchestrator_id":"o","message_type":"monitoring"})", "\"content\"");
    expect_invalid(R"({"orchestrator_id":"o","message_type":"monitoring","content":""})",
                   "\"content\"");
    expect_invalid(R"({"orchestrator_id":"o","message_type":"monitoring","content":["x"]})",
                   "\"content\"");
    expect_invalid(R"({"orchestrator_id":"o","message_type":"monitoring","content":"x",
                      "message_metadata":[1]})",
                   "\"message_metadata\"");
    expect_invalid(R"({"orchestrator_id":"o","message_type":"monitoring","content":"x",
                      "message_metadata":"{}"})",
                   "\"message_metadata\"");
    expect_invalid(R"({"orchestrator_id":"o","message_type":"monitoring","content":"x",
                      "source":7})",
                   "\"source\"");
    // Not UTF-8.
    expect_invalid("{\"orchestrator_id\":\"o\",\"message_type\":\"monitoring\",\"content\":\"\xC3\x28\"}",
                   "JSON");
}

TEST_F(MessagingDefault, ContentLimitComesFromConfig) {
    auto small = make(R"({"max_content_bytes": 8})");
    const std::string ok = R"({"orchestrator_id":"o","message_type":"monitoring","content":"12345678"})";
    EXPECT_EQ(accept(ok, small.get()).status, MOOLAI_OK);
    expect_invalid(R"({"orchestrator_id":"o","message_type":"monitoring","content":"123456789"})",
                   "\"content\"", small.get());
    // Bytes, not characters: four 2-byte characters fill the 8 bytes.
    EXPECT_EQ(accept(R"({"orchestrator_id":"o","message_type":"monitoring","content":"éééé"})",
                     small.get())
                  .status,
              MOOLAI_OK);
    expect_invalid(R"({"orchestrator_id":"o","message_type":"monitoring","content":"ééééé"})",
                   "\"content\"", small.get());

    // Default: 65536 bytes.
    const auto msg_of = [](size_t n) {
        return json{{"orchestrator_id", "o"}, {"message_type", "monitoring"},
                    {"content", std::string(n, 'c')}}
            .dump();
    };
    EXPECT_EQ(accept(msg_of(65536)).status, MOOLAI_OK);
    expect_invalid(msg_of(65537), "\"content\"");
}

TEST_F(MessagingDefault, RouteForwardsOnlyAcceptedRecommendationsToReachableOrchestrators) {
    EXPECT_EQ(decide(stored("accepted", "recommendation"), 0, 1), MOOLAI_ROUTE_FORWARD);
    EXPECT_EQ(decide(stored("accepted", "recommendation", "delivered"), 0, 1),
              MOOLAI_ROUTE_FORWARD);  // delivered, not yet acknowledged: re-send
    // Held while independent or offline.
    EXPECT_EQ(decide(stored("accepted", "recommendation"), 1, 1), MOOLAI_ROUTE_HOLD);
    EXPECT_EQ(decide(stored("accepted", "recommendation"), 0, 0), MOOLAI_ROUTE_HOLD);
    EXPECT_EQ(decide(stored("accepted", "recommendation"), 1, 0), MOOLAI_ROUTE_HOLD);
    // Never forwarded.
    for (uint32_t ind : {0u, 1u}) {
        for (uint32_t conn : {0u, 1u}) {
            EXPECT_EQ(decide(stored("pending", "recommendation"), ind, conn), MOOLAI_ROUTE_SKIP);
            EXPECT_EQ(decide(stored("dismissed", "recommendation"), ind, conn), MOOLAI_ROUTE_SKIP);
            EXPECT_EQ(decide(stored("accepted", "monitoring"), ind, conn), MOOLAI_ROUTE_SKIP);
            EXPECT_EQ(decide(stored("accepted", "recommendation", "acknowledged"), ind, conn),
                      MOOLAI_ROUTE_SKIP);
        }
    }
    json no_status = stored("accepted", "recommendation");
    no_status.erase("status");
    EXPECT_EQ(decide(no_status, 0, 1), MOOLAI_ROUTE_SKIP);
    json no_delivery = stored("accepted", "recommendation");
    no_delivery.erase("delivery_state");
    EXPECT_EQ(decide(no_delivery, 0, 1), MOOLAI_ROUTE_FORWARD);
}

TEST_F(MessagingDefault, RouteRejectsBadInput) {
    uint32_t d = 99;
    moolai_route_request q{};
    q.struct_size = sizeof q;
    q.message_json = str("not json");
    Result r = call([&](moolai_call* c) { return msg().route(inst_->get(), c, &q, &d); });
    EXPECT_EQ(r.status, MOOLAI_E_INVALID);
    EXPECT_FALSE(r.error.empty());
    q.message_json = str("[1]");
    EXPECT_EQ(call([&](moolai_call* c) { return msg().route(inst_->get(), c, &q, &d); }).status,
              MOOLAI_E_INVALID);
    const std::string good = stored("accepted", "recommendation").dump();
    q.message_json = str(good);
    q.struct_size = 8;  // shorter than any 1.x request
    EXPECT_EQ(call([&](moolai_call* c) { return msg().route(inst_->get(), c, &q, &d); }).status,
              MOOLAI_E_INVALID);
    q.struct_size = sizeof q;
    EXPECT_EQ(call([&](moolai_call* c) { return msg().route(inst_->get(), c, nullptr, &d); }).status,
              MOOLAI_E_INVALID);
    EXPECT_EQ(call([&](moolai_call* c) { return msg().route(inst_->get(), c, &q, nullptr); }).status,
              MOOLAI_E_INVALID);
}

TEST_F(MessagingDefault, RenderBuildsTheRecommendationFrame) {
    Result r = render(stored("accepted", "recommendation").dump());
    ASSERT_EQ(r.status, MOOLAI_OK) << r.error;
    EXPECT_EQ(r.output.rfind(R"({"type":"recommendation",)", 0), 0u) << r.output;  // type first
    EXPECT_EQ(json::parse(r.output), json::parse(R"({"type":"recommendation",
        "message_id":"msg-123","orchestrator_id":"orch-001","message_type":"recommendation",
        "content":"enable the cache","message_metadata":{"priority":"high"}})"));

    json bare = stored("accepted", "recommendation");
    bare.erase("message_metadata");
    r = render(bare.dump());
    ASSERT_EQ(r.status, MOOLAI_OK) << r.error;
    EXPECT_EQ(json::parse(r.output).at("message_metadata"), json::object());
}

TEST_F(MessagingDefault, RenderRejectsIncompleteRecords) {
    for (const char* field : {"id", "orchestrator_id", "message_type", "content"}) {
        json m = stored("accepted", "recommendation");
        m.erase(field);
        Result r = render(m.dump());
        EXPECT_EQ(r.status, MOOLAI_E_INVALID) << field;
        EXPECT_EQ(r.output, "");
        EXPECT_NE(r.error.find(std::string("\"") + field + "\""), std::string::npos) << r.error;
    }
    EXPECT_EQ(render("nope").status, MOOLAI_E_INVALID);
}

TEST_F(MessagingDefault, RejectsBadConfigNamingTheField) {
    for (const char* config : {R"({"max_content_bytes": 0})", R"({"max_content_bytes": 1048577})",
                               R"({"max_content_bytes": "64k"})", R"({"max_content_bytes": -1})",
                               R"({"max_content_bytes": 10.5})"}) {
        Result r;
        EXPECT_EQ(Instance::create(lib(), config, &r), nullptr) << config;
        EXPECT_EQ(r.status, MOOLAI_E_INVALID) << config;
        EXPECT_NE(r.error.find("\"max_content_bytes\""), std::string::npos) << r.error;
    }
    EXPECT_NE(make(R"({"max_content_bytes": 1048576})"), nullptr);
}

}  // namespace
