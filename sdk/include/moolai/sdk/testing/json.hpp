// moolai/sdk/testing/json.hpp -- the small JSON reader behind the test
// kit's config services (moolai/sdk/testing.hpp). The SDK has no
// third-party dependency, so the fake host parses the config text itself:
// RFC 8259 values, RFC 6901 pointers, object members kept in byte order of
// their names (as the real host does). Test-side only; plugins do not need
// it, they read their config through sdk::Config.
#ifndef MOOLAI_SDK_TESTING_JSON_HPP
#define MOOLAI_SDK_TESTING_JSON_HPP

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "moolai/plugin_types.h"

namespace moolai::sdk::testing {

class Json {
public:
    uint32_t type = MOOLAI_JSON_NULL;  // MOOLAI_JSON_*
    bool boolean = false;
    int64_t integer = 0;  // MOOLAI_JSON_INTEGER
    double number = 0;    // every number
    std::string string;
    std::vector<Json> array;
    std::map<std::string, Json> object;

    // Throws std::invalid_argument naming the byte offset and the problem.
    static Json parse(std::string_view text) {
        Parser p{text, 0};
        p.space();
        Json v = p.value(0);
        p.space();
        if (p.i != text.size()) p.fail("unexpected text after the value");
        return v;
    }

    // The value at an RFC 6901 pointer; nullptr when nothing is there.
    // Sets *malformed when `pointer` is not a JSON Pointer at all.
    const Json* at(std::string_view pointer, bool* malformed = nullptr) const {
        if (malformed != nullptr) *malformed = false;
        if (pointer.empty()) return this;
        if (pointer[0] != '/') {
            if (malformed != nullptr) *malformed = true;
            return nullptr;
        }
        const Json* cur = this;
        size_t pos = 1;
        while (true) {
            const size_t end = pointer.find('/', pos);
            const std::string_view raw =
                pointer.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
            std::string token;
            for (size_t k = 0; k < raw.size(); ++k) {
                if (raw[k] != '~') {
                    token += raw[k];
                } else if (k + 1 < raw.size() && (raw[k + 1] == '0' || raw[k + 1] == '1')) {
                    token += raw[++k] == '0' ? '~' : '/';
                } else {
                    if (malformed != nullptr) *malformed = true;
                    return nullptr;
                }
            }
            if (cur != nullptr) cur = cur->child(token);
            if (end == std::string_view::npos) return cur;
            pos = end + 1;
        }
    }

private:
    const Json* child(const std::string& token) const {
        if (type == MOOLAI_JSON_OBJECT) {
            auto it = object.find(token);
            return it == object.end() ? nullptr : &it->second;
        }
        if (type != MOOLAI_JSON_ARRAY || token.empty() || token.size() > 18) return nullptr;
        if (token.size() > 1 && token[0] == '0') return nullptr;  // no leading zeros
        size_t index = 0;
        for (char c : token) {
            if (c < '0' || c > '9') return nullptr;
            index = index * 10 + static_cast<size_t>(c - '0');
        }
        return index < array.size() ? &array[index] : nullptr;
    }

    struct Parser {
        std::string_view s;
        size_t i;

        [[noreturn]] void fail(const std::string& what) const {
            throw std::invalid_argument("JSON at byte " + std::to_string(i) + ": " + what);
        }
        void space() {
            while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
        }
        bool take(std::string_view word) {
            if (s.substr(i, word.size()) != word) return false;
            i += word.size();
            return true;
        }
        Json value(int depth) {
            if (depth > 200) fail("nested deeper than 200 levels");
            if (i >= s.size()) fail("a value was expected");
            Json v;
            const char c = s[i];
            if (c == '{') {
                v.type = MOOLAI_JSON_OBJECT;
                ++i;
                space();
                if (i < s.size() && s[i] == '}') return ++i, v;
                while (true) {
                    space();
                    if (i >= s.size() || s[i] != '"') fail("a member name in quotes was expected");
                    std::string key = text();
                    space();
                    if (i >= s.size() || s[i] != ':') fail("':' was expected");
                    ++i;
                    space();
                    v.object[key] = value(depth + 1);
                    space();
                    if (i < s.size() && s[i] == ',') { ++i; continue; }
                    if (i < s.size() && s[i] == '}') return ++i, v;
                    fail("',' or '}' was expected");
                }
            }
            if (c == '[') {
                v.type = MOOLAI_JSON_ARRAY;
                ++i;
                space();
                if (i < s.size() && s[i] == ']') return ++i, v;
                while (true) {
                    space();
                    v.array.push_back(value(depth + 1));
                    space();
                    if (i < s.size() && s[i] == ',') { ++i; continue; }
                    if (i < s.size() && s[i] == ']') return ++i, v;
                    fail("',' or ']' was expected");
                }
            }
            if (c == '"') {
                v.type = MOOLAI_JSON_STRING;
                v.string = text();
                return v;
            }
            if (take("true")) { v.type = MOOLAI_JSON_BOOL; v.boolean = true; return v; }
            if (take("false")) { v.type = MOOLAI_JSON_BOOL; return v; }
            if (take("null")) return v;
            return num();
        }
        Json num() {
            const size_t start = i;
            bool whole = true;
            if (i < s.size() && s[i] == '-') ++i;
            if (i >= s.size() || s[i] < '0' || s[i] > '9') fail("a value was expected");
            if (s[i] == '0') ++i;
            else while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
            if (i < s.size() && s[i] == '.') {
                whole = false;
                ++i;
                if (i >= s.size() || s[i] < '0' || s[i] > '9') fail("a digit was expected after '.'");
                while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
            }
            if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
                whole = false;
                ++i;
                if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
                if (i >= s.size() || s[i] < '0' || s[i] > '9') fail("a digit was expected in the exponent");
                while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
            }
            const std::string lit(s.substr(start, i - start));
            Json v;
            v.type = MOOLAI_JSON_NUMBER;
            v.number = std::strtod(lit.c_str(), nullptr);
            if (whole) {
                errno = 0;
                const long long n = std::strtoll(lit.c_str(), nullptr, 10);
                if (errno == 0) {
                    v.type = MOOLAI_JSON_INTEGER;
                    v.integer = n;
                }
            }
            return v;
        }
        unsigned hex4() {
            if (i + 4 > s.size()) fail("four hex digits were expected after \\u");
            unsigned u = 0;
            for (int k = 0; k < 4; ++k) {
                const char h = s[i++];
                u <<= 4;
                if (h >= '0' && h <= '9') u |= static_cast<unsigned>(h - '0');
                else if (h >= 'a' && h <= 'f') u |= static_cast<unsigned>(h - 'a' + 10);
                else if (h >= 'A' && h <= 'F') u |= static_cast<unsigned>(h - 'A' + 10);
                else fail("a hex digit was expected after \\u");
            }
            return u;
        }
        static void utf8(std::string& out, unsigned cp) {
            if (cp < 0x80) {
                out += static_cast<char>(cp);
            } else if (cp < 0x800) {
                out += static_cast<char>(0xC0 | (cp >> 6));
                out += static_cast<char>(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                out += static_cast<char>(0xE0 | (cp >> 12));
                out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                out += static_cast<char>(0x80 | (cp & 0x3F));
            } else {
                out += static_cast<char>(0xF0 | (cp >> 18));
                out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
                out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                out += static_cast<char>(0x80 | (cp & 0x3F));
            }
        }
        std::string text() {
            ++i;  // the opening quote
            std::string out;
            while (true) {
                if (i >= s.size()) fail("the string is not closed");
                const char c = s[i++];
                if (c == '"') return out;
                if (static_cast<unsigned char>(c) < 0x20) fail("a control character inside a string");
                if (c != '\\') {
                    out += c;
                    continue;
                }
                if (i >= s.size()) fail("the string is not closed");
                const char e = s[i++];
                switch (e) {
                    case '"': out += '"'; break;
                    case '\\': out += '\\'; break;
                    case '/': out += '/'; break;
                    case 'b': out += '\b'; break;
                    case 'f': out += '\f'; break;
                    case 'n': out += '\n'; break;
                    case 'r': out += '\r'; break;
                    case 't': out += '\t'; break;
                    case 'u': {
                        unsigned cp = hex4();
                        if (cp >= 0xD800 && cp < 0xDC00) {
                            if (!take("\\u")) fail("a high surrogate without its low half");
                            const unsigned lo = hex4();
                            if (lo < 0xDC00 || lo >= 0xE000) fail("a high surrogate without its low half");
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        } else if (cp >= 0xDC00 && cp < 0xE000) {
                            fail("a low surrogate without its high half");
                        }
                        utf8(out, cp);
                        break;
                    }
                    default: fail(std::string("unknown escape \\") + e);
                }
            }
        }
    };
};

}  // namespace moolai::sdk::testing

#endif  // MOOLAI_SDK_TESTING_JSON_HPP
