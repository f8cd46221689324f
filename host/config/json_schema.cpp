#include "config/json_schema.hpp"

#include <cmath>
#include <regex>

namespace moolai::host {
namespace {

using nlohmann::json;

std::string type_of(const json& v) {
    switch (v.type()) {
        case json::value_t::null: return "null";
        case json::value_t::boolean: return "boolean";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned: return "integer";
        case json::value_t::number_float: return "number";
        case json::value_t::string: return "string";
        case json::value_t::array: return "array";
        case json::value_t::object: return "object";
        default: return "unknown";
    }
}

bool has_type(const json& v, const std::string& want) {
    const std::string got = type_of(v);
    if (want == got) return true;
    if (want == "number" && got == "integer") return true;
    // 3.0 is an integer in JSON Schema's eyes.
    if (want == "integer" && got == "number") {
        // Not through an integer type: casting 1e300 to one is undefined.
        const double d = v.get<double>();
        return std::isfinite(d) && std::trunc(d) == d;
    }
    return false;
}

std::string at(const std::string& path) { return "at " + (path.empty() ? "/" : path) + ": "; }

std::optional<std::string> check(const json& s, const json& v, const std::string& path) {
    if (s.is_boolean()) {
        if (!s.get<bool>()) return at(path) + "no value is allowed here";
        return std::nullopt;
    }
    if (!s.is_object()) return std::nullopt;

    if (auto t = s.find("type"); t != s.end()) {
        bool ok = false;
        std::string names;
        if (t->is_string()) {
            ok = has_type(v, t->get<std::string>());
            names = t->get<std::string>();
        } else if (t->is_array()) {
            for (const auto& one : *t) {
                if (!one.is_string()) continue;
                ok = ok || has_type(v, one.get<std::string>());
                names += (names.empty() ? "" : " or ") + one.get<std::string>();
            }
        } else {
            ok = true;
        }
        if (!ok) return at(path) + "expected " + names + ", got " + type_of(v);
    }
    if (auto e = s.find("enum"); e != s.end() && e->is_array()) {
        bool found = false;
        for (const auto& one : *e) found = found || one == v;
        if (!found) return at(path) + v.dump() + " is not one of " + e->dump();
    }
    if (auto c = s.find("const"); c != s.end() && *c != v) {
        return at(path) + "must be " + c->dump();
    }
    if (v.is_number()) {
        const double d = v.get<double>();
        if (auto m = s.find("minimum"); m != s.end() && m->is_number() && d < m->get<double>())
            return at(path) + v.dump() + " is less than the minimum " + m->dump();
        if (auto m = s.find("maximum"); m != s.end() && m->is_number() && d > m->get<double>())
            return at(path) + v.dump() + " is more than the maximum " + m->dump();
    }
    if (v.is_string()) {
        const auto& str = v.get_ref<const std::string&>();
        if (auto m = s.find("minLength"); m != s.end() && m->is_number_unsigned() &&
                                          str.size() < m->get<size_t>())
            return at(path) + "shorter than " + m->dump() + " characters";
        if (auto m = s.find("maxLength"); m != s.end() && m->is_number_unsigned() &&
                                          str.size() > m->get<size_t>())
            return at(path) + "longer than " + m->dump() + " characters";
        if (auto p = s.find("pattern"); p != s.end() && p->is_string()) {
            try {
                if (!std::regex_search(str, std::regex(p->get<std::string>(), std::regex::ECMAScript)))
                    return at(path) + "does not match the pattern " + p->dump();
            } catch (const std::regex_error&) {
                return at(path) + "the schema's pattern " + p->dump() + " is not a valid regex";
            }
        }
    }
    if (v.is_array()) {
        if (auto m = s.find("minItems"); m != s.end() && m->is_number_unsigned() &&
                                         v.size() < m->get<size_t>())
            return at(path) + "fewer than " + m->dump() + " items";
        if (auto m = s.find("maxItems"); m != s.end() && m->is_number_unsigned() &&
                                         v.size() > m->get<size_t>())
            return at(path) + "more than " + m->dump() + " items";
        if (auto items = s.find("items"); items != s.end()) {
            for (size_t i = 0; i < v.size(); ++i) {
                if (auto err = check(*items, v[i], path + "/" + std::to_string(i))) return err;
            }
        }
    }
    if (v.is_object()) {
        const json* props = nullptr;
        if (auto p = s.find("properties"); p != s.end() && p->is_object()) props = &*p;
        if (auto r = s.find("required"); r != s.end() && r->is_array()) {
            for (const auto& name : *r) {
                if (name.is_string() && !v.contains(name.get<std::string>()))
                    return at(path) + "the required property \"" + name.get<std::string>() +
                           "\" is missing";
            }
        }
        const auto extra = s.find("additionalProperties");
        for (const auto& [key, child] : v.items()) {
            const std::string child_path = path + "/" + key;
            if (props != nullptr && props->contains(key)) {
                if (auto err = check((*props)[key], child, child_path)) return err;
            } else if (extra != s.end()) {
                if (extra->is_boolean() && !extra->get<bool>())
                    return at(path) + "unknown property \"" + key + "\"";
                if (auto err = check(*extra, child, child_path)) return err;
            }
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> validate_json_schema(const nlohmann::json& schema,
                                                const nlohmann::json& doc) {
    return check(schema, doc, "");
}

}  // namespace moolai::host
