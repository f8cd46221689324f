// What the example tests share: one example plugin loaded by the host's own
// PluginLoader (with a real log and metrics), a wait with a deadline, and a
// controller config file that puts an example next to the default bundle.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "plugins/host_services.hpp"
#include "plugins/loaded_plugin.hpp"
#include "plugins/plugin_loader.hpp"

namespace moolai::test {

// Polls `done` until it holds or `timeout` passes; true when it held.
template <class Pred>
bool eventually(Pred done, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

// A plugin loaded by the real loader, with the services the host gives it.
struct LoadedExample {
    LoadedExample(const std::string& path, const nlohmann::json& config) {
        services.log = &log;
        services.metrics = &metrics;
        plugin = host::PluginLoader(services).load(path, config);
    }

    // The plugin's counter or gauge `name` as /metrics would show it.
    double metric(const std::string& name) {
        return metrics.counter("moolai_plugin_" + plugin->name() + "_" + name)->value();
    }
    // Log lines of the plugin at `level` that contain `text`.
    std::vector<std::string> lines(host::LogLevel level, const std::string& text = "") const {
        std::vector<std::string> out;
        for (const host::LogLine& l : log.recent(10000, level))
            if (l.source == plugin->name() && l.level == level &&
                l.text.find(text) != std::string::npos)
                out.push_back(l.text);
        return out;
    }

    host::Log log{10000};
    host::Metrics metrics;
    host::HostServices services;
    std::unique_ptr<host::LoadedPlugin> plugin;
};

// A fresh folder under the temporary directory, removed at the end.
struct TempDir {
    explicit TempDir(const std::string& tag)
        : path(std::filesystem::temp_directory_path() /
               (tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++))) {
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    static int& counter() {
        static int n = 0;
        return n;
    }
    std::filesystem::path path;
};

// Writes a controller config: SQLite storage in `dir`, local auth, default
// messaging, independence_default unless `plugins` brings its own policy,
// then `plugins`. Returns the file's path.
inline std::string write_controller_config(const std::filesystem::path& dir,
                                           const nlohmann::json& plugins,
                                           bool with_default_policy = true) {
    nlohmann::json list = nlohmann::json::array();
    list.push_back(
        {{"name", "storage_sqlite"}, {"config", {{"path", (dir / "db.sqlite").string()}}}});
    list.push_back({{"name", "auth_local"}});
    if (with_default_policy) list.push_back({{"name", "independence_default"}});
    list.push_back({{"name", "messaging_default"}});
    for (const auto& p : plugins) list.push_back(p);
    const std::string file = (dir / "moolai.json").string();
    std::ofstream(file) << nlohmann::json{{"plugins", list}}.dump();
    return file;
}

}  // namespace moolai::test
