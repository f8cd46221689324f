#include "rest/probes.hpp"

#include <memory>
#include <nlohmann/json.hpp>

#include "net/rest_server.hpp"

namespace moolai::host {
using nlohmann::json;

void Readiness::set_phase(std::string phase) {
    std::lock_guard<std::mutex> lock(mutex_);
    phase_ = std::move(phase);
}

std::string Readiness::phase() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return phase_;
}

namespace {

// One storage check at a time; callers within a second of the last one get
// its answer (a scraper hammering /readyz must not become database load).
class StorageProbe {
public:
    explicit StorageProbe(StorageCheck check) : check_(std::move(check)) {}
    std::string problem() {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto now = std::chrono::steady_clock::now();
        if (!checked_ || now - at_ >= std::chrono::seconds(1)) {
            problem_ = check_();
            at_ = std::chrono::steady_clock::now();
            checked_ = true;
        }
        return problem_;
    }

private:
    StorageCheck check_;
    std::mutex mutex_;
    bool checked_ = false;
    std::chrono::steady_clock::time_point at_;
    std::string problem_;
};

HttpResponse probe_answer(int status, json body) {
    HttpResponse r =
        HttpResponse::json(status, body.dump(-1, ' ', false, json::error_handler_t::replace));
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

}  // namespace

void install_probes(RestServer& server, const Readiness& readiness, StorageCheck storage_up) {
    server.add_route(
        "GET", "/livez",
        [](const HttpRequest&) {
            return probe_answer(200, json{{"status", "up"}});
        },
        /*inline_on_reactor=*/true);
    auto probe = std::make_shared<StorageProbe>(std::move(storage_up));
    const Readiness* ready = &readiness;
    server.add_route("GET", "/readyz", [ready, probe](const HttpRequest&) {
        if (!ready->ready())
            return probe_answer(
                503, json{{"status", "starting"}, {"checks", {{"startup", ready->phase()}}}});
        const std::string problem = probe->problem();
        if (!problem.empty())
            return probe_answer(503, json{{"status", "unavailable"},
                                          {"checks", {{"startup", "done"}, {"storage", "down"}}},
                                          {"detail", problem}});
        return probe_answer(
            200, json{{"status", "ready"}, {"checks", {{"startup", "done"}, {"storage", "up"}}}});
    });
}

}  // namespace moolai::host
