// SimProcess: runs the real moolai-orchestrator-sim binary (or another of
// our tools) for black-box tests, its stdout and stderr captured to a file.
#pragma once

#include <sys/types.h>
#include <chrono>
#include <string>
#include <vector>

namespace moolai::test {

std::string sim_binary();

class SimProcess {
public:
    using ms = std::chrono::milliseconds;

    // Runs `binary` (the simulator when empty) with `args`.
    explicit SimProcess(std::vector<std::string> args, std::string binary = {});
    ~SimProcess();  // SIGKILLs it if still running, removes its log
    SimProcess(const SimProcess&) = delete;
    SimProcess& operator=(const SimProcess&) = delete;

    std::string log() const;
    // Waits until the log contains `text` (counting from occurrence `nth`,
    // 1-based); false on timeout or when the process ended without it.
    bool wait_for(const std::string& text, ms timeout = ms(10000), size_t nth = 1);
    size_t count(const std::string& text) const;
    // Sends `signal`, waits; the exit code, -1 if it had to be killed.
    int stop(int signal = 15, ms timeout = ms(10000));
    // Sends `signal` and returns at once.
    void signal(int signal);
    // Waits for it to exit by itself; the exit code, -1 on timeout (then killed).
    int wait_exit(ms timeout = ms(10000));
    bool running();

private:
    pid_t pid_ = -1;
    int exit_code_ = -1;
    std::string dir_;
    std::string log_path_;
};

// Runs the sim to completion (bounded by `timeout`); exit code and output.
struct SimRun {
    int exit_code = -1;
    std::string output;
};
SimRun run_sim(const std::vector<std::string>& args,
               std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace moolai::test
