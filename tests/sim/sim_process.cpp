#include "sim_process.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace moolai::test {

std::string sim_binary() {
    return MOOLAI_SIM_BINARY;
}

namespace {

std::string read_all(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

size_t occurrences(const std::string& haystack, const std::string& needle) {
    size_t n = 0;
    for (size_t at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + needle.size()))
        ++n;
    return n;
}

}  // namespace

SimProcess::SimProcess(std::vector<std::string> args, std::string binary) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "moolai-sim-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) dir_ = tmpl;
    log_path_ = dir_ + "/sim.log";
    std::string bin = binary.empty() ? sim_binary() : std::move(binary);
    std::vector<char*> argv;
    argv.push_back(bin.data());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
        const int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        // The test may block signals; the sim sets its own mask.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        execv(bin.c_str(), argv.data());
        _exit(127);
    }
}

SimProcess::~SimProcess() {
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::string SimProcess::log() const {
    return read_all(log_path_);
}

size_t SimProcess::count(const std::string& text) const {
    return occurrences(log(), text);
}

bool SimProcess::running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        pid_ = -1;
        return false;
    }
    return true;
}

bool SimProcess::wait_for(const std::string& text, ms timeout, size_t nth) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (count(text) >= nth) return true;
        if (!running()) return count(text) >= nth;
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(ms(20));
    }
}

int SimProcess::wait_exit(ms timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid_, SIGKILL);
            int status = 0;
            waitpid(pid_, &status, 0);
            pid_ = -1;
            return -1;
        }
        std::this_thread::sleep_for(ms(10));
    }
    return exit_code_;
}

void SimProcess::signal(int signal) {
    if (running()) kill(pid_, signal);
}

int SimProcess::stop(int signal, ms timeout) {
    if (!running()) return exit_code_;
    kill(pid_, signal);
    return wait_exit(timeout);
}

SimRun run_sim(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
    SimProcess p(args);
    SimRun r;
    r.exit_code = p.wait_exit(timeout);
    r.output = p.log();
    return r;
}

}  // namespace moolai::test
