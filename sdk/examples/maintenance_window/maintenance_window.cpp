// maintenance_window -- a complete independence policy in one small file.
//
// During a daily maintenance window (UTC) every orchestrator counts as
// independent: its heartbeats are ignored (acked with processed:false), so
// nobody is marked inactive while the fleet is being worked on. Outside the
// window the operator's own toggle decides, as with the default policy.
//
// Config block: {"start": "02:00", "end": "04:00"}  (UTC, end excluded;
// a window may cross midnight: {"start": "23:00", "end": "01:00"}).
#include <moolai/sdk.hpp>

namespace sdk = moolai::sdk;

class MaintenanceWindow final : public sdk::Plugin, public sdk::IndependencePolicy {
public:
    static constexpr const char* name = "maintenance_window";
    static constexpr const char* version = "1.0.0";
    static constexpr const char* description =
        "orchestrators are independent during a daily maintenance window (UTC)";
    // on_heartbeat only reads members set in the constructor: no lock needed.
    static constexpr uint32_t threading = MOOLAI_THREADING_CONCURRENT;
    // host.config() is a 1.1 host service: older hosts refuse us at load time.
    static constexpr uint32_t abi_minor_required = 1;
    static constexpr const char* config_schema = R"({"type": "object",
      "properties": {"start": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                     "end":   {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}},
      "required": ["start", "end"], "additionalProperties": false})";

    MaintenanceWindow(sdk::Host host, std::string_view /*config_json*/)
        : Plugin(host),
          start_(minute_of_day(host.config().string("/start"))),
          end_(minute_of_day(host.config().string("/end"))) {
        // Throwing refuses the config: the text becomes the host's start-up error.
        if (start_ == end_)
            throw sdk::Error(MOOLAI_E_INVALID, "config /end: must differ from /start");
    }

    // HOT PATH (every heartbeat, on a WebSocket thread): arithmetic only.
    sdk::Status on_heartbeat(sdk::Call&, const moolai_heartbeat_info& hb,
                             uint32_t& decision) override {
        const int64_t minute = host().now_ms() / 60000 % 1440;  // host clock: tests can move it
        const bool in_window =
            start_ < end_ ? minute >= start_ && minute < end_ : minute >= start_ || minute < end_;
        decision =
            in_window || hb.is_independent ? MOOLAI_HEARTBEAT_IGNORE : MOOLAI_HEARTBEAT_PROCESS;
        return MOOLAI_OK;
    }

private:
    // "HH:MM" -> minutes since midnight (the host checked the pattern).
    static int64_t minute_of_day(std::string_view t) {
        if (t.size() != 5) throw sdk::Error(MOOLAI_E_INVALID, "config: times are \"HH:MM\"");
        return ((t[0] - '0') * 10 + (t[1] - '0')) * 60 + (t[3] - '0') * 10 + (t[4] - '0');
    }

    const int64_t start_, end_;
};

MOOLAI_PLUGIN(MaintenanceWindow);
