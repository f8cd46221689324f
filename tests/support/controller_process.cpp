#include "support/controller_process.hpp"

#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace moolai::test {
namespace fs = std::filesystem;

std::string controller_binary() { return MOOLAI_CONTROLLER_BINARY; }

namespace {

std::string make_temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "moolai-test-XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    return made != nullptr ? std::string(made) : std::string();
}

// fork + exec with stdout/stderr into `log_path` and stdin from `in_fd`.
pid_t spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
            const std::string& log_path, int in_fd) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string s = *e;
        const std::string key = s.substr(0, s.find('='));
        if (env.count(key) == 0) env_strings.push_back(s);
    }
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp, argv;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string bin = controller_binary();
    argv.push_back(bin.data());
    std::vector<std::string> a = args;
    for (auto& s : a) argv.push_back(s.data());
    argv.push_back(nullptr);

    rlim_t nofile = 0;  // read before fork: the child only makes system calls
    if (auto it = env.find("MOOLAI_TEST_NOFILE"); it != env.end())
        nofile = static_cast<rlim_t>(std::stoul(it->second));
    const pid_t pid = fork();
    if (pid == 0) {
        const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (in_fd >= 0) dup2(in_fd, 0);
        // The test process may block signals; the controller sets its own mask.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        // A low open-file limit for descriptor-exhaustion tests (soft and
        // hard, so the controller cannot raise it back).
        if (nofile > 0) {
            const rlimit rl{nofile, nofile};
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        execve(bin.c_str(), argv.data(), envp.data());
        _exit(127);
    }
    return pid;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

int wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

}  // namespace

RunResult run_controller(const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env,
                         const std::string& stdin_text) {
    const std::string dir = make_temp_dir();
    const std::string log_path = dir + "/out.log";
    int pipefd[2] = {-1, -1};
    if (pipe(pipefd) != 0) return {};
    auto e = env;
    if (e.count("MOOLAI_DATA_DIR") == 0) e["MOOLAI_DATA_DIR"] = dir + "/data";
    const pid_t pid = spawn(args, e, log_path, pipefd[0]);
    close(pipefd[0]);
    if (!stdin_text.empty()) {
        const ssize_t n = write(pipefd[1], stdin_text.data(), stdin_text.size());
        (void)n;
    }
    close(pipefd[1]);
    RunResult r;
    r.exit_code = wait_exit(pid, std::chrono::seconds(60));
    r.output = read_file(log_path);
    fs::remove_all(dir);
    return r;
}

ControllerProcess::ControllerProcess(std::map<std::string, std::string> env,
                                     std::vector<std::string> args) {
    tmp_dir_ = make_temp_dir();
    log_path_ = tmp_dir_ + "/controller.log";
    if (env.count("MOOLAI_DATA_DIR") == 0) env["MOOLAI_DATA_DIR"] = tmp_dir_ + "/data";
    data_dir_ = env["MOOLAI_DATA_DIR"];
    env.emplace("CONTROLLER_PORT", "0");
    env.emplace("CONTROLLER_WS_PORT", "0");
    env.emplace("CONTROLLER_HOST", "127.0.0.1");
    pid_ = spawn(args, env, log_path_, -1);
}

ControllerProcess::~ControllerProcess() {
    if (pid_ > 0) stop(std::chrono::seconds(5));
    std::error_code ec;
    if (!tmp_dir_.empty()) fs::remove_all(tmp_dir_, ec);
}

bool ControllerProcess::wait_ready(std::chrono::milliseconds timeout) {
    static const std::regex ready(R"(controller ready: REST on [^ ]+:(\d+), WebSocket on [^ ]+:(\d+)/ws)");
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        std::smatch m;
        const std::string text = log();
        if (std::regex_search(text, m, ready)) {
            rest_port_ = static_cast<uint16_t>(std::stoi(m[1]));
            ws_port_ = static_cast<uint16_t>(std::stoi(m[2]));
            return true;
        }
        int status = 0;
        if (pid_ <= 0 || waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

int ControllerProcess::stop(std::chrono::milliseconds timeout, int signal) {
    if (pid_ <= 0) return -1;
    kill(pid_, signal);
    const int code = wait_exit(pid_, timeout);
    pid_ = -1;
    return code;
}

std::string ControllerProcess::log() const { return read_file(log_path_); }

std::string pg_ctl() {
    const char* p = std::getenv("MOOLAI_TEST_PG_CTL");
    return p != nullptr ? p : "";
}

int run_pg_ctl(const std::string& action) {
    return std::system((pg_ctl() + " " + action + " >/dev/null 2>&1").c_str());
}

namespace {

// CPU time (user + system) process `pid` used so far, in clock ticks.
long cpu_ticks(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream rest(all.substr(all.rfind(')') + 2));
    std::string field;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stol(field);
        if (i == 15) stime = std::stol(field);
    }
    return utime + stime;
}

}  // namespace

double core_share_over(pid_t pid, std::chrono::milliseconds window) {
    const long before = cpu_ticks(pid);
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(window);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return static_cast<double>(cpu_ticks(pid) - before) /
           static_cast<double>(sysconf(_SC_CLK_TCK)) / seconds;
}

}  // namespace moolai::test
