// A test-only host for driving plugins through the C ABI, the way the real
// host does: dlopen(RTLD_NOW | RTLD_LOCAL), dlsym("moolai_plugin_entry"),
// the descriptor, create() with a config block, get_capability(), and calls
// whose outputs and errors land in per-call strings.
//
// Deliberately small and independent of the host's code: it checks the
// plugins against the contract in plugin_api.h, not against the host. The
// plugin tests (tests/plugins) and the storage conformance suite
// (tests/storage) both drive plugins through it.
#ifndef MOOLAI_TESTS_SUPPORT_ABI_TEST_HOST_HPP
#define MOOLAI_TESTS_SUPPORT_ABI_TEST_HOST_HPP

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "moolai/plugin_api.h"

namespace moolai::plugin_test {

inline moolai_str str(std::string_view s) { return moolai_str{s.data(), s.size()}; }

// One call in progress; plugins see it as an opaque moolai_call*. (The
// harness does not define struct moolai_call itself, so it cannot collide
// with another test host linked into the same binary.)
struct CallState {
    std::string output;
    std::string error;
    bool takes_output = true;  // write_output answers MOOLAI_E_INVALID when false
    moolai_call* handle() { return reinterpret_cast<moolai_call*>(this); }
};

// What the harness host saw; plugins reach it as an opaque moolai_host*.
struct HostState {
    std::mutex mu;
    std::vector<std::string> logs;               // "<level> <text>"
    std::map<std::string, double> counters;      // metric_add
    std::map<std::string, double> gauges;        // metric_set, last value
    std::map<std::string, double> gauge_peaks;   // metric_set, highest value
    std::vector<std::pair<std::string, std::string>> frames;  // send_frame
    std::vector<uint32_t> event_kinds;                        // emit_event
    std::atomic<int64_t> frozen_ms{0};  // now_ms answers this when not 0 (tests move time)
    moolai_host* handle() { return reinterpret_cast<moolai_host*>(this); }
};

struct Result {
    moolai_status status = MOOLAI_OK;
    std::string output;
    std::string error;
};

// The host API table the harness hands to plugins (struct_size, 1.0).
const moolai_host_api* host_api();

// A loaded plugin library. The library stays mapped for the life of the
// process, as the production host never unloads one.
class Library {
public:
    // Throws std::runtime_error with dlerror()'s text when loading fails.
    explicit Library(const std::string& path);
    const moolai_plugin_descriptor& descriptor() const { return *desc_; }
    // The capability table, or nullptr.
    template <class Table>
    const Table* capability(uint64_t cap) const {
        return static_cast<const Table*>(desc_->get_capability(cap));
    }

private:
    const moolai_plugin_descriptor* desc_ = nullptr;
};

// One instance made by create(); destroy() runs in the destructor.
class Instance {
public:
    // create() with `config_json`; on failure returns nullptr and fills *result.
    static std::unique_ptr<Instance> create(const Library& lib, std::string_view config_json,
                                            Result* result = nullptr);
    ~Instance();
    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;

    moolai_instance* get() const { return self_; }
    HostState& host() { return *host_; }

private:
    Instance(const Library& lib, std::unique_ptr<HostState> host, moolai_instance* self)
        : lib_(lib), host_(std::move(host)), self_(self) {}
    const Library& lib_;
    std::unique_ptr<HostState> host_;
    moolai_instance* self_;
};

// Runs fn(moolai_call*) -> moolai_status and collects what it wrote.
// Each call gets its own moolai_call, so it may run on any thread.
template <class Fn>
Result call(Fn&& fn) {
    CallState c;
    Result r;
    r.status = fn(c.handle());
    r.output = std::move(c.output);
    r.error = std::move(c.error);
    return r;
}

}  // namespace moolai::plugin_test

#endif  // MOOLAI_TESTS_SUPPORT_ABI_TEST_HOST_HPP
