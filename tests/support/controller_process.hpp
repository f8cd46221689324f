// ControllerProcess: runs the real moolai-controller binary for black-box
// tests -- its own data dir, free ports, log captured to a file -- and
// stops it with SIGTERM.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace moolai::test {

struct RunResult {
    int exit_code = -1;  // -1: killed by a signal or not started
    std::string output;  // stdout + stderr
};

// Runs the controller with `args` to completion (e.g. --check-config).
RunResult run_controller(const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env, const std::string& stdin_text = "");

class ControllerProcess {
public:
    // `env` is added to the inherited environment; CONTROLLER_PORT and
    // CONTROLLER_WS_PORT default to 0 (free ports) and MOOLAI_DATA_DIR to a
    // fresh temporary folder.
    explicit ControllerProcess(std::map<std::string, std::string> env = {},
                               std::vector<std::string> args = {});
    ~ControllerProcess();  // stops it if still running, removes its temporary folder

    // Waits for the "controller ready" line; false on exit or timeout.
    bool wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(20));
    uint16_t rest_port() const { return rest_port_; }
    uint16_t ws_port() const { return ws_port_; }
    const std::string& data_dir() const { return data_dir_; }
    pid_t pid() const { return pid_; }

    // Sends `signal` (SIGTERM by default), then waits; returns the exit code
    // (-1 if it had to be killed).
    int stop(std::chrono::milliseconds timeout = std::chrono::seconds(10), int signal = 15);
    std::string log() const;

private:
    pid_t pid_ = -1;
    std::string tmp_dir_;  // log and default data dir; removed at the end
    std::string data_dir_;
    std::string log_path_;
    uint16_t rest_port_ = 0;
    uint16_t ws_port_ = 0;
};

std::string controller_binary();

// The share of one core (user + system) process `pid` uses over the next
// `window`, measured from /proc: waits that long.
double core_share_over(pid_t pid, std::chrono::milliseconds window);

// The PostgreSQL of scripts/with-postgres.sh: its pg_ctl wrapper
// (MOOLAI_TEST_PG_CTL; "" outside it), and that wrapper run quietly with
// `action` (stop, start, restart), returning its exit status.
std::string pg_ctl();
int run_pg_ctl(const std::string& action);

}  // namespace moolai::test
