// messaging_default -- the default messaging plugin.
//
// accept: checks a new message and outputs its normalized form:
//   {"orchestrator_id","message_type","content","message_metadata"[,"source"]}
//   orchestrator_id  non-empty string, at most 255 bytes
//   message_type     "recommendation" | "monitoring"
//   content          non-empty string, at most max_content_bytes bytes
//   message_metadata optional object (null or absent -> {})
//   source           optional string, at most 255 bytes (null -> absent)
// Other fields are dropped (the storage assigns id, status and times).
//
// route: an accepted recommendation goes to its orchestrator when it is
// connected and not independent; it is held while the orchestrator is
// independent or offline; everything else (pending, dismissed, monitoring,
// already acknowledged, expired or cancelled) is never forwarded.
//
// render: the frame for a forwarded message:
//   {"type":"recommendation","message_id","orchestrator_id","message_type",
//    "content","message_metadata"}
//
// Config: {"max_content_bytes": 1..1048576}  (optional, default 65536)
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "moolai/sdk.hpp"
#include "plugin_config/plugin_config.hpp"

namespace {

using moolai::sdk::Call;
using moolai::sdk::Error;
using moolai::sdk::Host;
using moolai::sdk::Status;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;  // frames keep "type" first

constexpr uint64_t kDefaultMaxContent = 65536;
constexpr uint64_t kMaxMaxContent = 1048576;  // the WebSocket frame limit
constexpr size_t kMaxIdBytes = 255;

namespace plugin_config = moolai::plugin_config;
constexpr std::string_view kName = "messaging_default";

[[noreturn]] void bad_message(const std::string& field, const std::string& what) {
    throw Error(MOOLAI_E_INVALID, "message: \"" + field + "\" " + what);
}

// Parses the message text; MOOLAI_E_INVALID unless it is a JSON object.
ojson parse_object(std::string_view text, const char* what) {
    ojson doc = ojson::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) throw Error(MOOLAI_E_INVALID, std::string(what) + " is not valid JSON");
    if (!doc.is_object())
        throw Error(MOOLAI_E_INVALID, std::string(what) + " must be a JSON object");
    return doc;
}

// The string member `field`, or "" when absent, null or not a string.
std::string_view member(const ojson& doc, const char* field) {
    auto it = doc.find(field);
    if (it == doc.end() || !it->is_string()) return {};
    return it->get_ref<const std::string&>();
}

// Acknowledged, expired or cancelled: the host never sends it again either.
bool delivery_ended(std::string_view state) {
    return state == "acknowledged" || state == "expired" || state == "cancelled";
}

const std::string& required_string(const ojson& doc, const char* field, size_t max_bytes) {
    auto it = doc.find(field);
    if (it == doc.end()) bad_message(field, "is required");
    if (!it->is_string()) bad_message(field, "must be a string");
    const std::string& s = it->get_ref<const std::string&>();
    if (s.empty()) bad_message(field, "must not be empty");
    if (s.size() > max_bytes)
        bad_message(field, "is longer than " + std::to_string(max_bytes) + " bytes");
    return s;
}

const std::string& message_type(const ojson& doc) {
    const std::string& t = required_string(doc, "message_type", 64);
    if (t != "recommendation" && t != "monitoring")
        bad_message("message_type", "must be \"recommendation\" or \"monitoring\"");
    return t;
}

ojson metadata(const ojson& doc) {
    auto it = doc.find("message_metadata");
    if (it == doc.end() || it->is_null()) return ojson::object();
    if (!it->is_object()) bad_message("message_metadata", "must be an object");
    return *it;
}

class MessagingDefault final : public moolai::sdk::Plugin, public moolai::sdk::Messaging {
public:
    static constexpr const char* name = "messaging_default";
    static constexpr const char* version = "1.0.0";
    static constexpr const char* description =
        "Default messaging: validates recommendation/monitoring messages, forwards accepted "
        "recommendations to connected, non-independent orchestrators";
    static constexpr uint32_t threading = MOOLAI_THREADING_CONCURRENT;
    static constexpr const char* config_schema = R"({
  "type": "object",
  "properties": {
    "max_content_bytes": {"type": "integer", "minimum": 1, "maximum": 1048576}
  },
  "additionalProperties": false
})";

    MessagingDefault(Host host, std::string_view config_json) : Plugin(host) {
        const json config = plugin_config::parse(kName, config_json, {"max_content_bytes"});
        max_content_ = plugin_config::integer(kName, config, "max_content_bytes", 1, kMaxMaxContent,
                                              max_content_);
    }

    Status accept(Call& call, moolai::sdk::Str message_json) override {
        const ojson in = parse_object(message_json, "message");
        ojson out = ojson::object();
        out["orchestrator_id"] = required_string(in, "orchestrator_id", kMaxIdBytes);
        out["message_type"] = message_type(in);
        out["content"] = required_string(in, "content", static_cast<size_t>(max_content_));
        out["message_metadata"] = metadata(in);
        auto source = in.find("source");
        if (source != in.end() && !source->is_null()) {
            if (!source->is_string()) bad_message("source", "must be a string");
            if (source->get_ref<const std::string&>().size() > kMaxIdBytes)
                bad_message("source", "is longer than 255 bytes");
            out["source"] = *source;
        }
        return call.output(out.dump());
    }

    Status route(Call&, const moolai_route_request& request, uint32_t& decision) override {
        if (request.struct_size < MOOLAI_ROUTE_REQUEST_SIZE_1_0)
            throw Error(MOOLAI_E_INVALID, "route request: struct_size too small");
        const ojson msg = parse_object(moolai::sdk::view(request.message_json), "stored message");
        if (member(msg, "status") != "accepted" ||
            member(msg, "message_type") != "recommendation" ||
            delivery_ended(member(msg, "delivery_state"))) {
            decision = MOOLAI_ROUTE_SKIP;
        } else if (request.is_independent != 0 || request.is_connected == 0) {
            decision = MOOLAI_ROUTE_HOLD;
        } else {
            decision = MOOLAI_ROUTE_FORWARD;
        }
        return MOOLAI_OK;
    }

    Status render(Call& call, moolai::sdk::Str message_json) override {
        const ojson msg = parse_object(message_json, "stored message");
        ojson frame = ojson::object();
        frame["type"] = "recommendation";
        frame["message_id"] = required_string(msg, "id", kMaxIdBytes);
        frame["orchestrator_id"] = required_string(msg, "orchestrator_id", kMaxIdBytes);
        frame["message_type"] = message_type(msg);
        frame["content"] = required_string(msg, "content", kMaxMaxContent);
        frame["message_metadata"] = metadata(msg);
        return call.output(frame.dump());
    }

private:
    uint64_t max_content_ = kDefaultMaxContent;
};

}  // namespace

MOOLAI_PLUGIN(MessagingDefault);
