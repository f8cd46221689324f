#include "plugins/config_services.hpp"

#include "common/abi_str.hpp"

#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "plugins/host_api.hpp"

namespace moolai::host {
namespace {

using nlohmann::json;

// The value at `pointer` in the plugin's config, or why there is none.
struct Found {
    moolai_status status = MOOLAI_E_NOT_FOUND;
    const json* value = nullptr;
};

Found find(moolai_host* h, moolai_str pointer) noexcept {
    if (h == nullptr || h->config == nullptr) return {MOOLAI_E_NOT_FOUND, nullptr};
    try {
        const std::string text = abi_string(pointer);
        json::json_pointer p;
        try {
            p = json::json_pointer(text);
        } catch (const json::exception&) {
            return {MOOLAI_E_INVALID, nullptr};  // not "" and not "/...", or a bad ~ escape
        }
        // A token that is no array index ("x", "01", "-") finds nothing.
        return {MOOLAI_OK, &h->config->at(p)};
    } catch (const json::exception&) {
        return {MOOLAI_E_NOT_FOUND, nullptr};
    } catch (...) {
        return {MOOLAI_E_INTERNAL, nullptr};
    }
}

bool is_integer(const json& v) noexcept {
    if (v.is_number_integer() && !v.is_number_unsigned()) return true;
    return v.is_number_unsigned() &&
           v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
}

moolai_status config_type(moolai_host* h, moolai_str pointer, uint32_t* out) {
    const Found f = find(h, pointer);
    if (f.status != MOOLAI_OK || out == nullptr)
        return f.status == MOOLAI_OK ? MOOLAI_E_INVALID : f.status;
    const json& v = *f.value;
    if (v.is_null())
        *out = MOOLAI_JSON_NULL;
    else if (v.is_boolean())
        *out = MOOLAI_JSON_BOOL;
    else if (is_integer(v))
        *out = MOOLAI_JSON_INTEGER;
    else if (v.is_number())
        *out = MOOLAI_JSON_NUMBER;
    else if (v.is_string())
        *out = MOOLAI_JSON_STRING;
    else if (v.is_array())
        *out = MOOLAI_JSON_ARRAY;
    else
        *out = MOOLAI_JSON_OBJECT;
    return MOOLAI_OK;
}

moolai_status config_string(moolai_host* h, moolai_str pointer, moolai_str* out) {
    const Found f = find(h, pointer);
    if (f.status != MOOLAI_OK) return f.status;
    if (out == nullptr || !f.value->is_string()) return MOOLAI_E_INVALID;
    // The config is never modified after load, so the bytes stay put.
    const std::string& s = f.value->get_ref<const std::string&>();
    *out = abi_str(s);
    return MOOLAI_OK;
}

moolai_status config_int(moolai_host* h, moolai_str pointer, int64_t* out) {
    const Found f = find(h, pointer);
    if (f.status != MOOLAI_OK) return f.status;
    if (out == nullptr || !is_integer(*f.value)) return MOOLAI_E_INVALID;
    *out = f.value->is_number_unsigned() ? static_cast<int64_t>(f.value->get<uint64_t>())
                                         : f.value->get<int64_t>();
    return MOOLAI_OK;
}

moolai_status config_number(moolai_host* h, moolai_str pointer, double* out) {
    const Found f = find(h, pointer);
    if (f.status != MOOLAI_OK) return f.status;
    if (out == nullptr || !f.value->is_number()) return MOOLAI_E_INVALID;
    *out = f.value->get<double>();
    return MOOLAI_OK;
}

moolai_status config_bool(moolai_host* h, moolai_str pointer, uint32_t* out) {
    const Found f = find(h, pointer);
    if (f.status != MOOLAI_OK) return f.status;
    if (out == nullptr || !f.value->is_boolean()) return MOOLAI_E_INVALID;
    *out = f.value->get<bool>() ? 1u : 0u;
    return MOOLAI_OK;
}

moolai_status config_length(moolai_host* h, moolai_str pointer, uint64_t* out) {
    const Found f = find(h, pointer);
    if (f.status != MOOLAI_OK) return f.status;
    if (out == nullptr || !f.value->is_structured()) return MOOLAI_E_INVALID;
    *out = f.value->size();
    return MOOLAI_OK;
}

moolai_status config_key(moolai_host* h, moolai_str pointer, uint64_t index, moolai_str* out) {
    const Found f = find(h, pointer);
    if (f.status != MOOLAI_OK) return f.status;
    if (out == nullptr || !f.value->is_object()) return MOOLAI_E_INVALID;
    if (index >= f.value->size()) return MOOLAI_E_NOT_FOUND;
    // nlohmann::json keeps object members in a std::map: byte order of names.
    auto it = f.value->items().begin();
    for (uint64_t i = 0; i < index; ++i) ++it;
    const std::string& key = it.key();
    *out = abi_str(key);
    return MOOLAI_OK;
}

}  // namespace

void add_config_services(moolai_host_api& t) noexcept {
    t.config_type = config_type;
    t.config_string = config_string;
    t.config_int = config_int;
    t.config_number = config_number;
    t.config_bool = config_bool;
    t.config_length = config_length;
    t.config_key = config_key;
}

}  // namespace moolai::host
