// moolai-orchestrator-sim: simulated orchestrators against a Moolai Controller.
#include <pthread.h>
#include <sys/resource.h>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "credentials_file.hpp"
#include "moolai/orchestrator_client.hpp"
#include "provisioning.hpp"
#include "sim_options.hpp"
#include "simulated_fleet.hpp"

namespace {

using namespace moolai::sim;
using Clock = std::chrono::steady_clock;

// One socket per orchestrator: the soft open-file limit caps the fleet.
void raise_fd_limit(size_t wanted, SimLog& log) {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < wanted + 64)
        log.line("warning: the open-file limit is " + std::to_string(rl.rlim_cur) + ", below the " +
                 std::to_string(wanted + 64) + " that " + std::to_string(wanted) +
                 " connections need; raise it (ulimit -n) or expect failed connects");
}

std::vector<Credential> open_mode_identities(const SimOptions& o) {
    std::vector<Credential> list;
    list.reserve(o.count);
    for (size_t n = 1; n <= o.count; ++n) list.push_back({simulated_id(o.id_prefix, n), ""});
    return list;
}

int run(const SimOptions& o, std::vector<Credential> identities, SimLog& log,
        const sigset_t& stop_signals) {
    raise_fd_limit(identities.size(), log);
    moolai::orchestrator::ClientRuntime runtime(o.threads);
    SimulatedFleet fleet(runtime, o, identities, log);
    char duration[48] = "";
    if (o.duration_sec > 0) std::snprintf(duration, sizeof duration, " for %g s", o.duration_sec);
    std::string urls;
    for (const std::string& url : o.urls) urls += (urls.empty() ? "" : ", ") + url;
    log.line("running " + std::to_string(fleet.size()) + " orchestrators against " + urls +
             duration);

    const Clock::time_point began = Clock::now();
    const auto since = [&began](Clock::time_point t) {
        return std::chrono::duration<double>(t - began).count();
    };
    Clock::time_point next_stats =
        began + std::chrono::milliseconds(static_cast<int64_t>(o.stats_interval_sec * 1000));
    int exit_code = 0;
    for (;;) {
        const Clock::time_point now = Clock::now();
        fleet.tick(now);
        if (o.stats_interval_sec > 0 && now >= next_stats) {
            log.line(fleet.stats_line(since(now)));
            next_stats =
                now + std::chrono::milliseconds(static_cast<int64_t>(o.stats_interval_sec * 1000));
        }
        if (o.duration_sec > 0 && since(now) >= o.duration_sec) {
            log.line("duration reached, stopping");
            break;
        }
        if (fleet.all_refused()) {
            log.line(
                "error: the controller refused every orchestrator (bad or unknown "
                "credentials?); stopping");
            exit_code = 1;
            break;
        }
        timespec wait{0, 100 * 1000 * 1000};
        const int sig = sigtimedwait(&stop_signals, nullptr, &wait);
        if (sig == SIGINT || sig == SIGTERM) {
            log.line(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                     ", stopping");
            break;
        }
    }
    // Close handshakes first, so the controller sees clean 1000s, not drops;
    // and until every client has stopped, so the last stats line is final
    // (an upgrade that completes after stop() still opens and closes).
    fleet.stop();
    const Clock::time_point deadline = Clock::now() + std::chrono::seconds(3);
    while ((runtime.open_connections() > 0 || !fleet.all_settled()) && Clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    log.line(fleet.stats_line(since(Clock::now())));
    return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    SimLog log;
    SimOptions o;
    try {
        const char* env_password = std::getenv("MOOLAI_SIM_PASSWORD");
        o = parse_options(std::vector<std::string>(argv + 1, argv + argc),
                          env_password != nullptr ? env_password : "");
    } catch (const OptionError& e) {
        std::fprintf(stderr, "moolai-orchestrator-sim: %s\n(see moolai-orchestrator-sim --help)\n",
                     e.what());
        return 2;
    }
    if (o.help) {
        std::fputs(kUsage, stdout);
        return 0;
    }

    std::vector<Credential> identities;
    try {
        switch (o.source) {
            case CredentialSource::file: {
                identities = read_credentials_file(o.credentials_file);
                if (identities.empty()) {
                    std::fprintf(stderr, "moolai-orchestrator-sim: %s holds no credentials\n",
                                 o.credentials_file.c_str());
                    return 2;
                }
                if (o.count > identities.size()) {
                    std::fprintf(stderr,
                                 "moolai-orchestrator-sim: --count %zu but %s holds only %zu "
                                 "credentials\n",
                                 o.count, o.credentials_file.c_str(), identities.size());
                    return 2;
                }
                if (o.count > 0) identities.resize(o.count);
                break;
            }
            case CredentialSource::provision:
                // Signals are not blocked yet: Ctrl-C here just ends the
                // process, and every credential created so far is saved.
                identities = provision_fleet(o, [&log](const std::string& s) { log.line(s); });
                break;
            case CredentialSource::open:
                identities = open_mode_identities(o);
                break;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "moolai-orchestrator-sim: %s\n", e.what());
        return o.source == CredentialSource::file ? 2 : 1;
    }

    // Before the client threads exist, so that only sigtimedwait() in run()
    // receives them (the threads inherit this mask).
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    try {
        return run(o, std::move(identities), log, stop_signals);
    } catch (const std::exception& e) {
        log.line(std::string("error: ") + e.what());
        return 1;
    }
}
