// UnknownOrchestratorWait: with several hosts on one store, an orchestrator
// created on another host is known here once that host's notification
// arrives, milliseconds later. A register of an id unknown here waits for
// it, up to a bound, instead of being refused at once (the client would
// count a failure, move to another URL and try again).
//
// Waits run side by side on one thread (all of them checked every 20 ms),
// so a flood of made-up ids delays no real one beyond the bound; at most
// `capacity` wait at once, beyond which a register is refused as before.
// The io threads only push; the answer comes through `Done`, on this
// thread, for the caller to post to its connection.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace moolai::host {

class FleetState;
struct Orchestrator;

class UnknownOrchestratorWait {
public:
    // The orchestrator once known here, or nullptr when the bound passed.
    using Done = std::function<void(std::shared_ptr<Orchestrator> found)>;

    UnknownOrchestratorWait(FleetState& fleet, std::chrono::milliseconds bound, size_t capacity)
        : fleet_(fleet), bound_(bound), capacity_(capacity) {}
    ~UnknownOrchestratorWait() { stop(); }
    UnknownOrchestratorWait(const UnknownOrchestratorWait&) = delete;
    UnknownOrchestratorWait& operator=(const UnknownOrchestratorWait&) = delete;

    void start();
    // Waits still open are dropped: their connections are closing (the
    // server stops first).
    void stop();
    // Any thread, never blocks. False: full or stopped (refuse at once).
    bool push(std::string orchestrator_id, Done done);

private:
    struct Waiting {
        std::string orchestrator_id;
        std::chrono::steady_clock::time_point until;
        Done done;
    };
    void run();

    FleetState& fleet_;
    const std::chrono::milliseconds bound_;
    const size_t capacity_;
    std::mutex m_;
    std::condition_variable cv_;
    std::vector<Waiting> waiting_;
    bool running_ = false;
    std::thread thread_;
};

}  // namespace moolai::host
