// moolai/sdk/config.hpp -- the plugin's config block, read through the
// host (ABI 1.1 config services) by JSON Pointer, so a plugin needs no JSON
// library of its own:
//
//   const moolai::sdk::Config cfg = host.config();
//   std::string_view path = cfg.string("/path");                 // required
//   int64_t retries = cfg.integer_or("/retry/max_attempts", 3);  // optional
//   for (uint64_t i = 0; i < cfg.length_or("/urls", 0); ++i)
//       urls.emplace_back(cfg.string("/urls/" + std::to_string(i)));
//
// The block was validated against the plugin's config_schema before the
// plugin saw it; these readers still check types and throw sdk::Error
// (MOOLAI_E_INVALID) with a line naming the pointer, what was expected and
// what was found -- thrown from a constructor, that line becomes the
// host's start-up error. Strings are views into host memory that stays
// valid while the plugin is loaded.
#ifndef MOOLAI_SDK_CONFIG_HPP
#define MOOLAI_SDK_CONFIG_HPP

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "moolai/plugin_api.h"
#include "moolai/sdk/status.hpp"

namespace moolai::sdk {

class Config {
public:
    Config(const moolai_host_api* api, moolai_host* host) noexcept : api_(api), host_(host) {}

    // True when the host offers config services (ABI 1.1 or newer). A
    // plugin whose abi_minor_required is 0 checks this before reading.
    bool available() const noexcept {
        return MOOLAI_HAS_FIELD(api_, moolai_host_api, config_key);
    }

    // True when a value (null included) is at `pointer`.
    bool has(std::string_view pointer) const { return lookup_type(pointer) != kAbsent; }

    // The MOOLAI_JSON_* type at `pointer`; throws when nothing is there.
    uint32_t type(std::string_view pointer) const {
        const uint32_t t = lookup_type(pointer);
        if (t == kAbsent) throw missing(pointer);
        return t;
    }

    std::string_view string(std::string_view pointer) const {
        require_services();  // before touching a 1.1 entry of the table
        moolai_str out{nullptr, 0};
        read(pointer, MOOLAI_JSON_STRING, api_->config_string(host_, str(pointer), &out));
        return view(out);
    }
    std::string_view string_or(std::string_view pointer, std::string_view fallback) const {
        return has(pointer) ? string(pointer) : fallback;
    }

    int64_t integer(std::string_view pointer) const {
        require_services();  // before touching a 1.1 entry of the table
        int64_t out = 0;
        read(pointer, MOOLAI_JSON_INTEGER, api_->config_int(host_, str(pointer), &out));
        return out;
    }
    int64_t integer_or(std::string_view pointer, int64_t fallback) const {
        return has(pointer) ? integer(pointer) : fallback;
    }

    double number(std::string_view pointer) const {
        require_services();  // before touching a 1.1 entry of the table
        double out = 0;
        read(pointer, MOOLAI_JSON_NUMBER, api_->config_number(host_, str(pointer), &out));
        return out;
    }
    double number_or(std::string_view pointer, double fallback) const {
        return has(pointer) ? number(pointer) : fallback;
    }

    bool boolean(std::string_view pointer) const {
        require_services();  // before touching a 1.1 entry of the table
        uint32_t out = 0;
        read(pointer, MOOLAI_JSON_BOOL, api_->config_bool(host_, str(pointer), &out));
        return out != 0;
    }
    bool boolean_or(std::string_view pointer, bool fallback) const {
        return has(pointer) ? boolean(pointer) : fallback;
    }

    // Elements of an array or members of an object.
    uint64_t length(std::string_view pointer) const {
        require_services();  // before touching a 1.1 entry of the table
        uint64_t out = 0;
        read(pointer, MOOLAI_JSON_ARRAY, api_->config_length(host_, str(pointer), &out));
        return out;
    }
    uint64_t length_or(std::string_view pointer, uint64_t fallback) const {
        return has(pointer) ? length(pointer) : fallback;
    }

    // Member names of the object at `pointer`, in byte order.
    std::vector<std::string_view> keys(std::string_view pointer) const {
        std::vector<std::string_view> out;
        const uint64_t n = length(pointer);
        out.reserve(static_cast<size_t>(n));
        for (uint64_t i = 0; i < n; ++i) {
            moolai_str key{nullptr, 0};
            read(pointer, MOOLAI_JSON_OBJECT, api_->config_key(host_, str(pointer), i, &key));
            out.push_back(view(key));
        }
        return out;
    }

    // `name` escaped as one JSON Pointer token ("a/b" -> "a~1b"), for
    // building pointers from keys: "/targets/" + Config::token(key).
    static std::string token(std::string_view name) {
        std::string out;
        for (char c : name) {
            if (c == '~') out += "~0";
            else if (c == '/') out += "~1";
            else out += c;
        }
        return out;
    }

private:
    static constexpr uint32_t kAbsent = 0xFFFFFFFFu;

    static const char* type_name(uint32_t t) noexcept {
        switch (t) {
            case MOOLAI_JSON_NULL: return "null";
            case MOOLAI_JSON_BOOL: return "a boolean";
            case MOOLAI_JSON_INTEGER: return "an integer";
            case MOOLAI_JSON_NUMBER: return "a number";
            case MOOLAI_JSON_STRING: return "a string";
            case MOOLAI_JSON_ARRAY: return "an array";
            case MOOLAI_JSON_OBJECT: return "an object";
            default: return "a value of an unknown type";
        }
    }
    static std::string where(std::string_view pointer) {
        return "config " + (pointer.empty() ? std::string("(the whole block)") : std::string(pointer));
    }
    static Error missing(std::string_view pointer) {
        return Error(MOOLAI_E_INVALID, where(pointer) + ": missing, and the plugin requires it");
    }

    void require_services() const {
        if (!available())
            throw Error(MOOLAI_E_UNSUPPORTED,
                        "config services need a host of ABI 1.1 or newer, this host is " +
                            std::to_string(api_->abi_major) + "." +
                            std::to_string(api_->abi_minor) +
                            "; fix: upgrade the host, or set abi_minor_required = 1 so older "
                            "hosts refuse the plugin at load time");
    }

    uint32_t lookup_type(std::string_view pointer) const {
        require_services();
        uint32_t t = 0;
        const moolai_status s = api_->config_type(host_, str(pointer), &t);
        if (s == MOOLAI_E_NOT_FOUND) return kAbsent;
        if (s != MOOLAI_OK)
            throw Error(MOOLAI_E_INVALID, where(pointer) + ": not a JSON Pointer (RFC 6901: "
                                                           "\"\" or \"/name/0/...\")");
        return t;
    }

    // Turns a config_* status into the value or a precise error.
    void read(std::string_view pointer, uint32_t wanted, moolai_status s) const {
        if (s == MOOLAI_OK) return;
        const uint32_t found = lookup_type(pointer);
        if (found == kAbsent) throw missing(pointer);
        const char* expected = wanted == MOOLAI_JSON_ARRAY ? "an array or an object"
                                                           : type_name(wanted);
        throw Error(MOOLAI_E_INVALID, where(pointer) + ": expected " + expected + ", found " +
                                          type_name(found));
    }

    const moolai_host_api* api_;
    moolai_host* host_;
};

}  // namespace moolai::sdk

#endif  // MOOLAI_SDK_CONFIG_HPP
