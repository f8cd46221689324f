// Fuzz target: the controller's config file (--config) as
// load_controller_config reads it: JSON parse, the host's schema, then the
// typed fields. Its contract is one ConfigError line for any bad file;
// anything else escaping (a nlohmann type_error, a crash) is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "config/controller_config.hpp"

namespace {

std::string dir;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // The reader takes a path: one scratch file, rewritten per input.
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/moolai-fuzz-config-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
        std::perror("mkdtemp");
        std::abort();
    }
    dir = tmpl;
    // The file is under test, not the environment of whoever runs this.
    for (const char* name :
         {"MOOLAI_DATA_DIR", "MOOLAI_PLUGIN_DIR", "MOOLAI_LOG_LEVEL", "MOOLAI_LOG_FORMAT",
          "MOOLAI_PUBLIC_WS_URL", "MOOLAI_ORCHESTRATOR_AUTH"})
        unsetenv(name);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = dir + "/config.json";
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) {
        std::perror(path.c_str());
        std::abort();
    }
    try {
        const moolai::host::ControllerConfig c = moolai::host::load_controller_config(path, dir);
        // A file that loads names its plugins by path, as the loader needs.
        for (const auto& p : c.plugins)
            if (p.path.empty() || p.path[0] != '/') std::abort();
    } catch (const moolai::host::ConfigError&) {
        // The documented refusal.
    }
    return 0;
}
