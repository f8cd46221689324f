// A C++ plugin that throws: from its constructor when its config says
// "throw_in_constructor", and from every callback otherwise. The SDK's
// trampolines must turn each throw into a status and a message.
#include <moolai/sdk.hpp>
#include <stdexcept>
#include <string>

class ThrowingPlugin : public moolai::sdk::Plugin, public moolai::sdk::IndependencePolicy {
public:
    static constexpr const char* name = "throwing";
    static constexpr const char* version = "1.0.0";
    static constexpr const char* description = "throws from its constructor or callbacks";

    ThrowingPlugin(moolai::sdk::Host host, std::string_view config) : Plugin(host) {
        if (config.find("throw_in_constructor") != std::string_view::npos)
            throw std::runtime_error("constructor refused: throw_in_constructor was set");
    }
    moolai::sdk::Status on_heartbeat(moolai::sdk::Call&, const moolai_heartbeat_info& hb,
                                     uint32_t&) override {
        throw std::logic_error("on_heartbeat exploded for " +
                               std::string(moolai::sdk::view(hb.orchestrator_id)));
    }
    moolai::sdk::Status on_toggle(moolai::sdk::Call&, const moolai_toggle_request&) override {
        throw 42;  // not even a std::exception
    }
};

MOOLAI_PLUGIN(ThrowingPlugin);
