// Probes for orchestration systems (Kubernetes, Docker HEALTHCHECK, load
// balancers): GET /livez -- the process answers; GET /readyz -- start-up is
// finished and storage answers (503 otherwise). Unauthenticated, cheap, and
// listening from early in start-up, before the API routes exist.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>

namespace moolai::host {

class RestServer;

class Readiness {
public:
    // What start-up is doing now ("loading the fleet"), shown by /readyz.
    void set_phase(std::string phase);
    void set_ready() { ready_.store(true); }
    bool ready() const { return ready_.load(); }
    std::string phase() const;

private:
    std::atomic<bool> ready_{false};
    mutable std::mutex mutex_;
    std::string phase_ = "starting";
};

// `storage_up` answers whether storage is reachable ("" = yes, else why
// not); it may block for the storage's connect timeout, so /readyz runs on
// the worker pool and reuses an answer younger than one second.
using StorageCheck = std::function<std::string()>;

// `readiness` must outlive the server; `storage_up` is called only once ready.
void install_probes(RestServer& server, const Readiness& readiness, StorageCheck storage_up);

}  // namespace moolai::host
