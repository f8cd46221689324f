// moolai/sdk.hpp -- the Moolai plugin SDK: include this one header.
//
//   #include <moolai/sdk.hpp>
//   class MyPolicy : public moolai::sdk::Plugin, public moolai::sdk::IndependencePolicy {
//   public:
//       static constexpr const char* name = "my_policy";
//       static constexpr const char* version = "1.0.0";
//       static constexpr const char* description = "what it does, in one line";
//       MyPolicy(moolai::sdk::Host host, std::string_view config_json);  // host.config() reads it
//       moolai::sdk::Status on_heartbeat(moolai::sdk::Call&, const moolai_heartbeat_info&,
//                                        uint32_t& decision) override;
//   };
//   MOOLAI_PLUGIN(MyPolicy);
//
// See docs/plugin-guide.md for the whole story.
#ifndef MOOLAI_SDK_HPP
#define MOOLAI_SDK_HPP

#include "moolai/sdk/capabilities.hpp"
#include "moolai/sdk/config.hpp"
#include "moolai/sdk/core.hpp"
#include "moolai/sdk/export.hpp"
#include "moolai/sdk/version.hpp"

static_assert(MOOLAI_SDK_VERSION_MAJOR == MOOLAI_ABI_MAJOR &&
                  MOOLAI_SDK_VERSION_MINOR == MOOLAI_ABI_MINOR,
              "moolai/sdk.hpp: the SDK headers and the plugin_api headers come from different "
              "releases; install them together (one SDK package carries both)");

#endif  // MOOLAI_SDK_HPP
