#pragma once
// Logging hook shared by the network servers (std headers only).

#include <functional>
#include <string_view>

namespace moolai::host {

// Levels passed to NetLogger.
enum NetLogLevel : int { kNetDebug = 0, kNetInfo = 1, kNetWarn = 2, kNetError = 3 };

// Called from library threads, possibly concurrently: must be thread-safe.
// An empty function discards everything.
using NetLogger = std::function<void(int level, std::string_view message)>;

}  // namespace moolai::host
