// Reads its config through sdk::Config as an event asks, and answers with
// what it read: the same probe runs under the real host (tests/compat) and
// under the SDK's fake host (tests/testkit), so both implementations of the
// 1.1 config services are held to the same answers.
//
// on_event: detail_json holds lines "<reader> <pointer>"; the output holds
// one line per request, "ok <value>" or "error <status> <message>".
#include <moolai/sdk.hpp>
#include <sstream>
#include <string>

namespace sdk = moolai::sdk;

class ConfigProbe : public sdk::Plugin, public sdk::Observer {
public:
    static constexpr const char* name = "config_probe";
    static constexpr const char* version = "1.1.0";
    static constexpr const char* description = "answers config reads, for the conformance tests";
    // Runs in 1.0 hosts too, where the readers report that they cannot.
    static constexpr uint32_t abi_minor_required = 0;

    ConfigProbe(sdk::Host host, std::string_view) : Plugin(host) {}

    sdk::Status on_event(sdk::Call& call, const moolai_event& e) override {
        std::istringstream requests{std::string(sdk::view(e.detail_json))};
        std::string line, out;
        while (std::getline(requests, line)) {
            const size_t space = line.find(' ');
            const std::string reader = line.substr(0, space);
            const std::string pointer = space == std::string::npos ? "" : line.substr(space + 1);
            out += answer(reader, pointer) + "\n";
        }
        return call.output(out);
    }

private:
    std::string answer(const std::string& reader, const std::string& p) const {
        const sdk::Config cfg = host().config();
        try {
            if (reader == "available") return std::string("ok ") + (cfg.available() ? "yes" : "no");
            if (reader == "has") return std::string("ok ") + (cfg.has(p) ? "yes" : "no");
            if (reader == "type") return "ok " + std::to_string(cfg.type(p));
            if (reader == "string") return "ok " + std::string(cfg.string(p));
            if (reader == "string_or") return "ok " + std::string(cfg.string_or(p, "fallback"));
            if (reader == "integer") return "ok " + std::to_string(cfg.integer(p));
            if (reader == "integer_or") return "ok " + std::to_string(cfg.integer_or(p, -1));
            if (reader == "number") {
                std::ostringstream n;
                n << cfg.number(p);
                return "ok " + n.str();
            }
            if (reader == "boolean") return std::string("ok ") + (cfg.boolean(p) ? "true" : "false");
            if (reader == "length") return "ok " + std::to_string(cfg.length(p));
            if (reader == "keys") {
                std::string keys;
                for (std::string_view k : cfg.keys(p)) keys += std::string(k) + ",";
                return "ok " + keys;
            }
            return "error unknown reader " + reader;
        } catch (const sdk::Error& e) {
            return "error " + std::to_string(e.status()) + " " + e.what();
        }
    }
};

MOOLAI_PLUGIN(ConfigProbe);
