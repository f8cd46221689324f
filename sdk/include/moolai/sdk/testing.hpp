// moolai/sdk/testing.hpp -- the test kit: a fake host for unit-testing a
// plugin without the controller. It hands the plugin a real moolai_host_api
// table, records what the plugin does (log lines, metrics, frames sent,
// events emitted), keeps a clock the test moves, serves the plugin's config
// (JSON text) through the 1.1 config services, and can pretend to be an
// older 1.x host. It drives the plugin only through the C ABI, as the
// controller does, so what passes here passes there.
//
//   #include <gtest/gtest.h>
//   #include <moolai/sdk/testing.hpp>
//   namespace kit = moolai::sdk::testing;
//
//   TEST(MyPolicy, IgnoresHeartbeatsAtNight) {
//       kit::FakeHost host(R"({"start":"02:00","end":"04:00"})");
//       kit::Plugin plugin = kit::Plugin::load("libmy_policy.so", host);
//       //   or kit::Plugin::linked<MyPolicy>(host) for a class compiled into the test
//       host.set_now_ms(kit::utc_ms(2026, 12, 3, 2, 30));
//       uint32_t decision = 99;
//       ASSERT_TRUE(plugin.on_heartbeat(kit::Heartbeat{"orch-1"}.view(), decision).ok());
//       EXPECT_EQ(decision, MOOLAI_HEARTBEAT_IGNORE);
//   }
//
// Link with moolai::sdk_testing (CMake) for dlopen and threads. Nothing
// here depends on a test framework: failures are return values and
// exceptions (LoadError) that any framework can check.
#ifndef MOOLAI_SDK_TESTING_HPP
#define MOOLAI_SDK_TESTING_HPP

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "moolai/plugin_api.h"
#include "moolai/sdk/export.hpp"
#include "moolai/sdk/testing/json.hpp"

namespace moolai::sdk::testing {

// ---- what a call returned ------------------------------------------------

struct Result {
    moolai_status status = MOOLAI_OK;
    std::string output;
    std::string error;
    bool ok() const noexcept { return status == MOOLAI_OK; }
};

// ---- owned builders for the structs the host passes -----------------------
// Each keeps its strings; view() lends a struct valid while the builder lives.

struct Heartbeat {
    std::string orchestrator_id;
    std::string organization_id = "org-1";
    bool is_independent = false;
    uint32_t status = MOOLAI_ORCH_ACTIVE;
    int64_t now_ms = 0;
    int64_t last_seen_ms = 0;

    moolai_heartbeat_info view() const noexcept {
        moolai_heartbeat_info h{};
        h.struct_size = sizeof h;
        h.status = status;
        h.orchestrator_id = str(orchestrator_id);
        h.organization_id = str(organization_id);
        h.now_ms = now_ms;
        h.last_seen_ms = last_seen_ms;
        h.is_independent = is_independent ? 1u : 0u;
        return h;
    }
};

struct Toggle {
    std::string orchestrator_id;
    std::string organization_id = "org-1";
    std::string actor = "alice";
    bool is_independent_now = false;
    bool is_independent_requested = true;

    moolai_toggle_request view() const noexcept {
        moolai_toggle_request t{};
        t.struct_size = sizeof t;
        t.is_independent_now = is_independent_now ? 1u : 0u;
        t.orchestrator_id = str(orchestrator_id);
        t.organization_id = str(organization_id);
        t.actor = str(actor);
        t.is_independent_requested = is_independent_requested ? 1u : 0u;
        return t;
    }
};

struct Route {
    std::string message_json;
    bool is_independent = false;
    bool is_connected = true;

    moolai_route_request view() const noexcept {
        moolai_route_request r{};
        r.struct_size = sizeof r;
        r.is_independent = is_independent ? 1u : 0u;
        r.message_json = str(message_json);
        r.is_connected = is_connected ? 1u : 0u;
        return r;
    }
};

// An event: what a test hands to on_event, and what FakeHost::events()
// returns for each emit_event of the plugin.
struct Event {
    uint32_t kind = MOOLAI_EVENT_CUSTOM;
    int64_t time_ms = 0;
    std::string organization_id;
    std::string orchestrator_id;
    std::string subject_id;
    std::string old_value;
    std::string new_value;
    std::string actor = "system";
    std::string detail_json;

    moolai_event view() const noexcept {
        moolai_event e{};
        e.struct_size = sizeof e;
        e.kind = kind;
        e.time_ms = time_ms;
        e.organization_id = str(organization_id);
        e.orchestrator_id = str(orchestrator_id);
        e.subject_id = str(subject_id);
        e.old_value = str(old_value);
        e.new_value = str(new_value);
        e.actor = str(actor);
        e.detail_json = str(detail_json);
        return e;
    }
};

struct LogLine {
    int32_t level;  // MOOLAI_LOG_*
    std::string text;
};

struct Frame {
    std::string orchestrator_id;
    std::string text;
};

// What a storage plugin handed over from a cross-host channel (1.4).
struct Notification {
    std::string channel;
    std::string payload;
};

// Unix milliseconds of a UTC date and time (proleptic Gregorian), for
// setting the fake clock: utc_ms(2026, 12, 3, 2, 30).
inline int64_t utc_ms(int year, unsigned month, unsigned day, unsigned hour = 0,
                      unsigned minute = 0, unsigned second = 0) noexcept {
    // Days from civil (H. Hinnant's algorithm).
    year -= month <= 2 ? 1 : 0;
    const int era = (year >= 0 ? year : year - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(year - era * 400);
    const unsigned doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const int64_t days = static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
    return ((days * 24 + hour) * 60 + minute) * 60000 + static_cast<int64_t>(second) * 1000;
}

// ---- the fake host ---------------------------------------------------------

// Config text handed to create() exactly as given, even when it is not a
// JSON object (for testing how a plugin refuses what a host would never
// send); the config services then find nothing.
struct RawConfig {
    std::string text;
};

class FakeHost {
public:
    // `config_json` is the plugin's config block (checked here as JSON;
    // the controller would also check it against the plugin's schema).
    // `abi_minor` makes the host an older 1.x: its table is then cut to
    // that minor's size, as a real host of that minor would hand it over.
    explicit FakeHost(std::string config_json = "{}", uint32_t abi_minor = MOOLAI_ABI_MINOR)
        : config_text_(std::move(config_json)), config_(Json::parse(config_text_)) {
        if (config_.type != MOOLAI_JSON_OBJECT)
            throw std::invalid_argument("FakeHost: the config block must be a JSON object");
        if (abi_minor > MOOLAI_ABI_MINOR)
            throw std::invalid_argument("FakeHost: this test kit knows ABI minors up to " +
                                        std::to_string(MOOLAI_ABI_MINOR));
        api_ = make_table(abi_minor);
    }
    explicit FakeHost(RawConfig raw, uint32_t abi_minor = MOOLAI_ABI_MINOR)
        : config_text_(std::move(raw.text)) {
        if (abi_minor > MOOLAI_ABI_MINOR)
            throw std::invalid_argument("FakeHost: this test kit knows ABI minors up to " +
                                        std::to_string(MOOLAI_ABI_MINOR));
        try {
            config_ = Json::parse(config_text_);
        } catch (const std::invalid_argument&) {
            config_ = Json();  // not JSON: nothing to find
        }
        api_ = make_table(abi_minor);
    }
    FakeHost(const FakeHost&) = delete;
    FakeHost& operator=(const FakeHost&) = delete;

    const moolai_host_api* api() const noexcept { return &api_; }
    moolai_host* handle() noexcept { return reinterpret_cast<moolai_host*>(this); }
    const std::string& config_json() const noexcept { return config_text_; }
    uint32_t abi_minor() const noexcept { return api_.abi_minor; }

    // The clock: now_ms() and monotonic_ms() of the plugin. Starts at
    // 2026-01-01T00:00:00Z and moves only when the test moves it, unless
    // use_real_clock(true) makes both follow the machine's clocks.
    int64_t now_ms() const {
        std::lock_guard<std::mutex> lock(mu_);
        if (real_clock_) {
            using namespace std::chrono;
            return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
        }
        return now_ms_;
    }
    void use_real_clock(bool real) {
        std::lock_guard<std::mutex> lock(mu_);
        real_clock_ = real;
    }
    void set_now_ms(int64_t ms) {
        std::lock_guard<std::mutex> lock(mu_);
        monotonic_ms_ += ms > now_ms_ ? ms - now_ms_ : 0;  // the monotonic clock never goes back
        now_ms_ = ms;
    }
    void advance_ms(int64_t ms) {
        std::lock_guard<std::mutex> lock(mu_);
        now_ms_ += ms;
        monotonic_ms_ += ms > 0 ? ms : 0;
    }

    // send_frame answers MOOLAI_E_NOT_FOUND for a disconnected orchestrator
    // (every orchestrator is connected until the test says otherwise).
    void set_connected(const std::string& orchestrator_id, bool connected) {
        std::lock_guard<std::mutex> lock(mu_);
        if (connected) disconnected_.erase(orchestrator_id);
        else disconnected_.insert(orchestrator_id);
    }

    // What the plugin did, in order. Safe to read while plugin threads run.
    std::vector<LogLine> logs() const { return locked(logs_); }
    bool logged(std::string_view substring) const {
        std::lock_guard<std::mutex> lock(mu_);
        return std::any_of(logs_.begin(), logs_.end(), [&](const LogLine& l) {
            return l.text.find(substring) != std::string::npos;
        });
    }
    // A counter's sum (0 when never added); a gauge's last value.
    double counter(std::string_view name) const {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = counters_.find(std::string(name));
        return it == counters_.end() ? 0.0 : it->second;
    }
    std::optional<double> gauge(std::string_view name) const {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = gauges_.find(std::string(name));
        if (it == gauges_.end()) return std::nullopt;
        return it->second;
    }
    // The highest value a gauge ever had.
    std::optional<double> gauge_peak(std::string_view name) const {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = gauge_peaks_.find(std::string(name));
        if (it == gauge_peaks_.end()) return std::nullopt;
        return it->second;
    }
    std::vector<Frame> frames() const { return locked(frames_); }
    std::vector<Notification> notifications() const { return locked(notifications_); }
    std::vector<Event> events() const { return locked(events_); }
    // Forgets what was recorded (not the clock, not the connections).
    void clear() {
        std::lock_guard<std::mutex> lock(mu_);
        logs_.clear();
        counters_.clear();
        gauges_.clear();
        gauge_peaks_.clear();
        frames_.clear();
        events_.clear();
        notifications_.clear();
    }

private:
    template <class T>
    T locked(const T& what) const {
        std::lock_guard<std::mutex> lock(mu_);
        return what;
    }
    static FakeHost& self(moolai_host* h) noexcept { return *reinterpret_cast<FakeHost*>(h); }
    static std::string text(moolai_str s) { return std::string(view(s)); }

    // Every entry swallows its exceptions: nothing may unwind into a plugin.
    static void h_log(moolai_host* h, int32_t level, moolai_str message) noexcept {
        try {
            std::lock_guard<std::mutex> lock(self(h).mu_);
            self(h).logs_.push_back(LogLine{level, text(message)});
        } catch (...) {
        }
    }
    static void h_set_error(moolai_call* call, moolai_str message) noexcept;
    static moolai_status h_write_output(moolai_call* call, moolai_str bytes) noexcept;
    static moolai_status h_send_frame(moolai_host* h, moolai_str id, moolai_str frame) noexcept {
        try {
            FakeHost& f = self(h);
            std::lock_guard<std::mutex> lock(f.mu_);
            if (f.disconnected_.count(text(id)) != 0) return MOOLAI_E_NOT_FOUND;
            f.frames_.push_back(Frame{text(id), text(frame)});
            return MOOLAI_OK;
        } catch (...) {
            return MOOLAI_E_INTERNAL;
        }
    }
    static moolai_status h_emit_event(moolai_host* h, const moolai_event* e) noexcept {
        // The host's rule: any minor's event covers 1.0; only 1.0 is read.
        if (e == nullptr || e->struct_size < MOOLAI_EVENT_SIZE_1_0) return MOOLAI_E_INVALID;
        try {
            Event copy{e->kind,          e->time_ms,        text(e->organization_id),
                       text(e->orchestrator_id), text(e->subject_id), text(e->old_value),
                       text(e->new_value), text(e->actor),    text(e->detail_json)};
            std::lock_guard<std::mutex> lock(self(h).mu_);
            self(h).events_.push_back(std::move(copy));
            return MOOLAI_OK;
        } catch (...) {
            return MOOLAI_E_INTERNAL;
        }
    }
    static void h_metric_add(moolai_host* h, moolai_str name, double delta) noexcept {
        try {
            std::lock_guard<std::mutex> lock(self(h).mu_);
            self(h).counters_[text(name)] += delta;
        } catch (...) {
        }
    }
    static void h_metric_set(moolai_host* h, moolai_str name, double value) noexcept {
        try {
            FakeHost& f = self(h);
            std::lock_guard<std::mutex> lock(f.mu_);
            const std::string n = text(name);
            f.gauges_[n] = value;
            auto [it, fresh] = f.gauge_peaks_.emplace(n, value);
            if (!fresh) it->second = std::max(it->second, value);
        } catch (...) {
        }
    }
    static int64_t h_now_ms(moolai_host* h) noexcept { return self(h).now_ms(); }
    static int64_t h_monotonic_ms(moolai_host* h) noexcept {
        std::lock_guard<std::mutex> lock(self(h).mu_);
        if (self(h).real_clock_) {
            using namespace std::chrono;
            return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
        }
        return self(h).monotonic_ms_;
    }

    // 1.1 config services over the parsed config.
    static const Json* find(moolai_host* h, moolai_str pointer, moolai_status& status) noexcept {
        bool malformed = false;
        const Json* v = self(h).config_.at(view(pointer), &malformed);
        status = malformed ? MOOLAI_E_INVALID : v == nullptr ? MOOLAI_E_NOT_FOUND : MOOLAI_OK;
        return v;
    }
    static moolai_status h_config_type(moolai_host* h, moolai_str p, uint32_t* out) noexcept {
        moolai_status s;
        const Json* v = find(h, p, s);
        if (s != MOOLAI_OK) return s;
        if (out == nullptr) return MOOLAI_E_INVALID;
        *out = v->type;
        return MOOLAI_OK;
    }
    static moolai_status h_config_string(moolai_host* h, moolai_str p, moolai_str* out) noexcept {
        moolai_status s;
        const Json* v = find(h, p, s);
        if (s != MOOLAI_OK) return s;
        if (out == nullptr || v->type != MOOLAI_JSON_STRING) return MOOLAI_E_INVALID;
        *out = str(v->string);
        return MOOLAI_OK;
    }
    static moolai_status h_config_int(moolai_host* h, moolai_str p, int64_t* out) noexcept {
        moolai_status s;
        const Json* v = find(h, p, s);
        if (s != MOOLAI_OK) return s;
        if (out == nullptr || v->type != MOOLAI_JSON_INTEGER) return MOOLAI_E_INVALID;
        *out = v->integer;
        return MOOLAI_OK;
    }
    static moolai_status h_config_number(moolai_host* h, moolai_str p, double* out) noexcept {
        moolai_status s;
        const Json* v = find(h, p, s);
        if (s != MOOLAI_OK) return s;
        if (out == nullptr || (v->type != MOOLAI_JSON_INTEGER && v->type != MOOLAI_JSON_NUMBER))
            return MOOLAI_E_INVALID;
        *out = v->number;
        return MOOLAI_OK;
    }
    static moolai_status h_config_bool(moolai_host* h, moolai_str p, uint32_t* out) noexcept {
        moolai_status s;
        const Json* v = find(h, p, s);
        if (s != MOOLAI_OK) return s;
        if (out == nullptr || v->type != MOOLAI_JSON_BOOL) return MOOLAI_E_INVALID;
        *out = v->boolean ? 1u : 0u;
        return MOOLAI_OK;
    }
    static moolai_status h_config_length(moolai_host* h, moolai_str p, uint64_t* out) noexcept {
        moolai_status s;
        const Json* v = find(h, p, s);
        if (s != MOOLAI_OK) return s;
        if (out == nullptr) return MOOLAI_E_INVALID;
        if (v->type == MOOLAI_JSON_ARRAY) *out = v->array.size();
        else if (v->type == MOOLAI_JSON_OBJECT) *out = v->object.size();
        else return MOOLAI_E_INVALID;
        return MOOLAI_OK;
    }
    static moolai_status h_config_key(moolai_host* h, moolai_str p, uint64_t index,
                                      moolai_str* out) noexcept {
        moolai_status s;
        const Json* v = find(h, p, s);
        if (s != MOOLAI_OK) return s;
        if (out == nullptr || v->type != MOOLAI_JSON_OBJECT) return MOOLAI_E_INVALID;
        if (index >= v->object.size()) return MOOLAI_E_NOT_FOUND;
        auto it = v->object.begin();
        std::advance(it, static_cast<std::ptrdiff_t>(index));
        *out = str(it->first);
        return MOOLAI_OK;
    }

    static moolai_status h_deliver_notification(moolai_host* h, moolai_str channel,
                                                moolai_str payload) noexcept {
        try {
            std::lock_guard<std::mutex> lock(self(h).mu_);
            self(h).notifications_.push_back(Notification{text(channel), text(payload)});
            return MOOLAI_OK;
        } catch (...) {
            return MOOLAI_E_INTERNAL;
        }
    }

    static moolai_host_api make_table(uint32_t abi_minor) noexcept {
        moolai_host_api t{};
        t.struct_size = abi_minor == 0 ? MOOLAI_HOST_API_SIZE_1_0 : sizeof t;
        t.abi_major = MOOLAI_ABI_MAJOR;
        t.abi_minor = abi_minor;
        t.log = h_log;
        t.set_error = h_set_error;
        t.write_output = h_write_output;
        t.send_frame = h_send_frame;
        t.emit_event = h_emit_event;
        t.metric_add = h_metric_add;
        t.metric_set = h_metric_set;
        t.now_ms = h_now_ms;
        t.monotonic_ms = h_monotonic_ms;
        if (abi_minor >= 1) {
            t.config_type = h_config_type;
            t.config_string = h_config_string;
            t.config_int = h_config_int;
            t.config_number = h_config_number;
            t.config_bool = h_config_bool;
            t.config_length = h_config_length;
            t.config_key = h_config_key;
        }
        if (abi_minor >= 4) t.deliver_notification = h_deliver_notification;
        return t;
    }

    std::string config_text_;
    Json config_;
    moolai_host_api api_{};
    mutable std::mutex mu_;
    int64_t now_ms_ = 1767225600000;  // 2026-01-01T00:00:00Z
    int64_t monotonic_ms_ = 1000000;
    bool real_clock_ = false;
    std::set<std::string> disconnected_;
    std::vector<LogLine> logs_;
    std::map<std::string, double> counters_;
    std::map<std::string, double> gauges_;
    std::map<std::string, double> gauge_peaks_;
    std::vector<Frame> frames_;
    std::vector<Event> events_;
    std::vector<Notification> notifications_;
};

// One call in progress, seen by the plugin as an opaque moolai_call*.
namespace detail {
struct CallState {
    std::string output;
    std::string error;
    bool takes_output = true;
    moolai_call* handle() noexcept { return reinterpret_cast<moolai_call*>(this); }
    static CallState& of(moolai_call* c) noexcept { return *reinterpret_cast<CallState*>(c); }
};
}  // namespace detail

// Runs fn(moolai_call*) -> moolai_status with a fresh call handle of the
// fake host and collects what it wrote. No threading rule applied: each
// call has its own handle, so it may run on any thread.
template <class Fn>
Result call(Fn&& fn) {
    detail::CallState c;
    Result r;
    r.status = fn(c.handle());
    r.output = std::move(c.output);
    r.error = std::move(c.error);
    return r;
}

inline void FakeHost::h_set_error(moolai_call* call, moolai_str message) noexcept {
    if (call == nullptr) return;
    try {
        detail::CallState::of(call).error = text(message);
    } catch (...) {
    }
}

inline moolai_status FakeHost::h_write_output(moolai_call* call, moolai_str bytes) noexcept {
    if (call == nullptr || !detail::CallState::of(call).takes_output) return MOOLAI_E_INVALID;
    try {
        detail::CallState::of(call).output.append(view(bytes));
        return MOOLAI_OK;
    } catch (...) {
        return MOOLAI_E_INTERNAL;
    }
}

// ---- a plugin on the fake host --------------------------------------------

// Why a plugin could not be loaded or created: one line, like the host's.
// When create() refused, status() and plugin_error() are what it returned
// and said (a test of config validation checks them).
class LoadError : public std::runtime_error {
public:
    explicit LoadError(const std::string& line, moolai_status status = MOOLAI_E_INVALID,
                       std::string plugin_error = {})
        : std::runtime_error(line), status_(status), plugin_error_(std::move(plugin_error)) {}
    moolai_status status() const noexcept { return status_; }
    const std::string& plugin_error() const noexcept { return plugin_error_; }

private:
    moolai_status status_;
    std::string plugin_error_;
};

// A plugin's entry point: from a shared object (kept mapped for the life of
// the process, as the host keeps it) or from a class compiled into the test.
class Library {
public:
    static Library open(const std::string& so_path) {
        void* lib = dlopen(so_path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (lib == nullptr) throw LoadError(std::string("cannot load ") + dlerror());
        void* sym = dlsym(lib, MOOLAI_PLUGIN_ENTRY_SYMBOL);
        if (sym == nullptr)
            throw LoadError(so_path + " does not export " MOOLAI_PLUGIN_ENTRY_SYMBOL
                            "(); export it with MOOLAI_PLUGIN(YourClass)");
        moolai_plugin_entry_fn entry = nullptr;
        static_assert(sizeof entry == sizeof sym, "function and data pointers differ in size");
        std::memcpy(&entry, &sym, sizeof entry);
        return Library(entry, so_path);
    }
    template <class T>
    static Library of() {
        return Library(&::moolai::sdk::detail::entry<T>, "linked plugin class");
    }

    // The descriptor as the plugin gives it to a host of this kit's ABI;
    // only its 1.0 part is ever read.
    const moolai_plugin_descriptor& descriptor() const {
        const moolai_plugin_descriptor* d = entry_(MOOLAI_ABI_MAJOR, MOOLAI_ABI_MINOR);
        if (d == nullptr) throw LoadError(what_ + ": the entry point returned NULL");
        if (d->struct_size < MOOLAI_PLUGIN_DESCRIPTOR_SIZE_1_0)
            throw LoadError(what_ + ": its descriptor is shorter than ABI 1.0's");
        return *d;
    }
    // A capability table without an instance (e.g. to check struct_size).
    template <class Table>
    const Table* table(uint64_t capability) const {
        return static_cast<const Table*>(descriptor().get_capability(capability));
    }
    moolai_plugin_entry_fn entry() const noexcept { return entry_; }
    const std::string& what() const noexcept { return what_; }

private:
    Library(moolai_plugin_entry_fn entry, std::string what) : entry_(entry), what_(std::move(what)) {}
    moolai_plugin_entry_fn entry_;
    std::string what_;
};

class Plugin {
public:
    // Opens a plugin shared object (dlopen RTLD_NOW | RTLD_LOCAL, as the
    // host does), checks its descriptor against the fake host's ABI version
    // and creates it with the host's config. `host` must outlive the plugin.
    static Plugin load(const std::string& so_path, FakeHost& host) {
        return Plugin(Library::open(so_path), host);
    }
    // A plugin class compiled into the test itself (no shared object).
    template <class T>
    static Plugin linked(FakeHost& host) {
        return Plugin(Library::of<T>(), host);
    }
    // Throws LoadError: a version the host refuses, or create() failing.
    Plugin(const Library& library, FakeHost& host) : Plugin(library.entry(), library.what(), host) {}

    Plugin(Plugin&&) noexcept = default;
    Plugin& operator=(Plugin&&) noexcept = default;
    ~Plugin() = default;  // stop() + destroy(), in the State's destructor

    const moolai_plugin_descriptor& descriptor() const noexcept { return *s_->d; }
    moolai_instance* instance() const noexcept { return s_->self; }

    // The capability table, or nullptr when the plugin does not offer it.
    template <class Table>
    const Table* table(uint64_t capability) const {
        if ((s_->d->capabilities & capability) == 0) return nullptr;
        return static_cast<const Table*>(s_->d->get_capability(capability));
    }

    // Runs fn(moolai_instance*, moolai_call*) -> moolai_status under the
    // plugin's threading rule, collecting its output and error.
    template <class Fn>
    Result call(Fn&& fn) const {
        std::unique_lock<std::mutex> lock(s_->mu, std::defer_lock);
        if (s_->d->threading == MOOLAI_THREADING_SERIALIZED) lock.lock();
        return testing::call([&](moolai_call* c) { return fn(s_->self, c); });
    }

    // Lifecycle. start() is not called for you; stop() runs at the latest
    // when the Plugin goes away.
    Result start() {
        if (s_->d->start == nullptr) return {};
        return call([this](moolai_instance* self, moolai_call* c) { return s_->d->start(self, c); });
    }
    void stop() noexcept { s_->stop(); }

    // One method per 1.0 function; the capability must be offered.
    Result hash_password(std::string_view pw) const {
        return call([&](auto i, auto c) { return need<moolai_auth_v1>(MOOLAI_CAP_AUTH)->hash_password(i, c, str(pw)); });
    }
    Result verify_password(std::string_view hash, std::string_view pw) const {
        return call([&](auto i, auto c) {
            return need<moolai_auth_v1>(MOOLAI_CAP_AUTH)->verify_password(i, c, str(hash), str(pw));
        });
    }
    Result new_token() const {
        return call([&](auto i, auto c) { return need<moolai_auth_v1>(MOOLAI_CAP_AUTH)->new_token(i, c); });
    }
    Result hash_token(std::string_view token) const {
        return call([&](auto i, auto c) { return need<moolai_auth_v1>(MOOLAI_CAP_AUTH)->hash_token(i, c, str(token)); });
    }
    Result on_heartbeat(const moolai_heartbeat_info& hb, uint32_t& decision) const {
        return call([&](auto i, auto c) {
            return need<moolai_independence_v1>(MOOLAI_CAP_INDEPENDENCE)->on_heartbeat(i, c, &hb, &decision);
        });
    }
    // MOOLAI_OK when the plugin leaves on_toggle NULL (every toggle allowed).
    Result on_toggle(const moolai_toggle_request& request) const {
        const auto* t = need<moolai_independence_v1>(MOOLAI_CAP_INDEPENDENCE);
        if (t->on_toggle == nullptr) return {};
        return call([&](auto i, auto c) { return t->on_toggle(i, c, &request); });
    }
    Result accept(std::string_view message_json) const {
        return call([&](auto i, auto c) {
            return need<moolai_messaging_v1>(MOOLAI_CAP_MESSAGING)->accept(i, c, str(message_json));
        });
    }
    Result route(const moolai_route_request& request, uint32_t& decision) const {
        return call([&](auto i, auto c) {
            return need<moolai_messaging_v1>(MOOLAI_CAP_MESSAGING)->route(i, c, &request, &decision);
        });
    }
    Result render(std::string_view message_json) const {
        return call([&](auto i, auto c) {
            return need<moolai_messaging_v1>(MOOLAI_CAP_MESSAGING)->render(i, c, str(message_json));
        });
    }
    Result on_event(const moolai_event& event) const {
        return call([&](auto i, auto c) {
            return need<moolai_observer_v1>(MOOLAI_CAP_OBSERVER)->on_event(i, c, &event);
        });
    }
    // Storage has 34 functions: reach them through table() and call():
    //   plugin.call([&](auto i, auto c) { return st->org_get(i, c, kit::str("org-1")); });

private:
    struct State {
        const moolai_plugin_descriptor* d = nullptr;
        moolai_instance* self = nullptr;
        std::mutex mu;
        bool stopped = false;

        void stop() noexcept {
            if (stopped || self == nullptr) return;
            stopped = true;
            if (d->stop != nullptr) d->stop(self);
        }
        ~State() {
            stop();
            if (self != nullptr) d->destroy(self);
        }
    };

    Plugin(moolai_plugin_entry_fn entry, const std::string& what, FakeHost& host)
        : s_(std::make_unique<State>()) {
        const uint32_t host_minor = host.abi_minor();
        const moolai_plugin_descriptor* d = entry(MOOLAI_ABI_MAJOR, host_minor);
        const std::string host_abi = std::to_string(MOOLAI_ABI_MAJOR) + "." + std::to_string(host_minor);
        if (d == nullptr) throw LoadError(what + ": the entry point returned NULL for host ABI " + host_abi);
        if (d->struct_size < MOOLAI_PLUGIN_DESCRIPTOR_SIZE_1_0)
            throw LoadError(what + ": its descriptor is shorter than ABI 1.0's");
        const std::string plugin_abi = std::to_string(d->abi_major) + "." +
                                       std::to_string(d->abi_minor_built) + " (requires " +
                                       std::to_string(d->abi_major) + "." +
                                       std::to_string(d->abi_minor_required) + ")";
        if (d->abi_major != MOOLAI_ABI_MAJOR || d->abi_minor_required > host_minor)
            throw LoadError(what + ": plugin ABI " + plugin_abi + " cannot load into host ABI " +
                            host_abi);
        if (d->create == nullptr || d->destroy == nullptr || d->get_capability == nullptr)
            throw LoadError(what + ": its descriptor lacks create, destroy or get_capability");
        detail::CallState c;
        c.takes_output = false;  // create() has no output, as in the host
        moolai_instance* self = nullptr;
        const moolai_status status =
            d->create(host.api(), host.handle(), str(host.config_json()), c.handle(), &self);
        if (status != MOOLAI_OK) {
            if (self != nullptr) d->destroy(self);
            throw LoadError(what + ": create() failed" + (c.error.empty() ? "" : ": " + c.error),
                            status, c.error);
        }
        if (self == nullptr) throw LoadError(what + ": create() returned no instance");
        s_->d = d;
        s_->self = self;
    }

    template <class Table>
    const Table* need(uint64_t capability) const {
        const Table* t = table<Table>(capability);
        if (t == nullptr)
            throw std::logic_error(std::string("plugin ") + s_->d->name +
                                   " does not offer the capability this test calls");
        return t;
    }

    std::unique_ptr<State> s_;
};

}  // namespace moolai::sdk::testing

#endif  // MOOLAI_SDK_TESTING_HPP
