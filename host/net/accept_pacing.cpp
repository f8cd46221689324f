#include "net/accept_pacing.hpp"

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

namespace moolai::host {
namespace {

std::atomic<uint64_t> g_failed{0};
std::mutex g_m;  // the logger and the report state below
NetLogger g_logger;
std::chrono::steady_clock::time_point g_last_report{};
uint64_t g_unreported = 0;

}  // namespace

void pace_failed_accept(int error) noexcept {
    g_failed.fetch_add(1, std::memory_order_relaxed);
    try {
        std::lock_guard<std::mutex> lk(g_m);
        ++g_unreported;
        const auto now = std::chrono::steady_clock::now();
        if (g_logger && now - g_last_report >= std::chrono::seconds(10)) {
            char buf[128];
            const char* text = strerror_r(error, buf, sizeof buf);
            g_logger(kNetWarn, "http: accept failed (" + std::string(text) + "), " +
                                   std::to_string(g_unreported) +
                                   " time(s) since the last such line; pausing 100 ms after each "
                                   "until descriptors free up");
            g_last_report = now;
            g_unreported = 0;
        }
    } catch (...) {
        // A report lost to an allocation failure; the pause below still holds.
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

uint64_t failed_accepts() noexcept {
    return g_failed.load(std::memory_order_relaxed);
}

void set_failed_accept_logger(NetLogger logger) {
    std::lock_guard<std::mutex> lk(g_m);
    g_logger = std::move(logger);
}

}  // namespace moolai::host
