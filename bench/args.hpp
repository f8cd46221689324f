// The command line of moolai-bench-load's commands: --option VALUE pairs,
// then optionally "--" and a command.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace moolai::bench {

struct Args {
    std::map<std::string, std::string> values;
    std::vector<std::string> rest;  // after "--"

    Args(int argc, char** argv, int first) {
        for (int i = first; i < argc; ++i) {
            const std::string a = argv[i];
            if (a == "--") {
                for (++i; i < argc; ++i) rest.emplace_back(argv[i]);
                break;
            }
            if (a.rfind("--", 0) != 0 || i + 1 >= argc)
                throw std::invalid_argument("expected --option VALUE, got \"" + a + "\"");
            values[a.substr(2)] = argv[++i];
        }
    }
    std::string str(const std::string& k, const std::string& def = "") const {
        auto it = values.find(k);
        return it == values.end() ? def : it->second;
    }
    double num(const std::string& k, double def) const {
        auto it = values.find(k);
        return it == values.end() ? def : std::stod(it->second);
    }
    bool has(const std::string& k) const { return values.count(k) != 0; }
};

}  // namespace moolai::bench
