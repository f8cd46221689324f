#pragma once
// Orchestrator credentials on disk: one "orchestrator_id token" per line.
// Blank lines and lines starting with '#' are ignored; when an id appears
// twice the later line wins (the simulator appends replacements).

#include <string>
#include <vector>

namespace moolai::sim {

struct Credential {
    std::string orchestrator_id;
    std::string token;
};

// Throws std::runtime_error naming the file and line for anything else.
std::vector<Credential> parse_credentials(const std::string& text, const std::string& origin);
std::vector<Credential> read_credentials_file(const std::string& path);

// The file's text for `list` (with a header comment).
std::string format_credentials(const std::vector<Credential>& list);

// Appends one line (a file created here is private: mode 0600).
// Throws std::runtime_error when it cannot.
void append_credential(const std::string& path, const Credential& c);

// Replaces the file with `list` atomically (temporary file + rename), mode 0600.
void write_credentials_file(const std::string& path, const std::vector<Credential>& list);

}  // namespace moolai::sim
