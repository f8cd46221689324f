#include "credentials_file.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

namespace moolai::sim {

namespace {

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what);
}

std::string errno_text() {
    return std::strerror(errno);
}

bool printable_token(const std::string& s) {
    for (unsigned char c : s)
        if (c <= 0x20 || c == 0x7f) return false;
    return true;
}

void write_all(int fd, const std::string& text, const std::string& path) {
    size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail("cannot write " + path + ": " + errno_text());
        done += static_cast<size_t>(n);
    }
}

}  // namespace

std::vector<Credential> parse_credentials(const std::string& text, const std::string& origin) {
    std::vector<Credential> out;
    std::unordered_map<std::string, size_t> index;
    std::istringstream in(text);
    std::string line;
    for (size_t number = 1; std::getline(in, line); ++number) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const size_t first = line.find_first_not_of(" \t");
        if (first == std::string::npos || line[first] == '#') continue;
        std::istringstream fields(line);
        std::string id, token, extra;
        fields >> id >> token >> extra;
        const std::string where = origin + ":" + std::to_string(number) + ": ";
        if (token.empty()) fail(where + "expected \"orchestrator_id token\", found one field");
        if (!extra.empty())
            fail(where + "expected \"orchestrator_id token\", found more than two fields");
        if (id.size() > 255) fail(where + "the orchestrator id is longer than 255 bytes");
        if (!printable_token(id) || !printable_token(token))
            fail(where + "control characters are not allowed");
        auto it = index.find(id);
        if (it != index.end()) {
            out[it->second].token = token;  // the later line wins
        } else {
            index.emplace(id, out.size());
            out.push_back({id, token});
        }
    }
    return out;
}

std::vector<Credential> read_credentials_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("cannot read credentials file " + path + ": " + errno_text());
    std::ostringstream s;
    s << in.rdbuf();
    if (in.bad()) fail("cannot read credentials file " + path);
    const std::string text = s.str();
    if (text.find('\0') != std::string::npos)
        fail(path + " is not a text file of \"orchestrator_id token\" lines");
    return parse_credentials(text, path);
}

std::string format_credentials(const std::vector<Credential>& list) {
    std::string text =
        "# moolai-orchestrator-sim credentials: orchestrator_id token (keep this file private)\n";
    for (const Credential& c : list) text += c.orchestrator_id + " " + c.token + "\n";
    return text;
}

void append_credential(const std::string& path, const Credential& c) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) fail("cannot open " + path + " for writing: " + errno_text());
    try {
        write_all(fd, c.orchestrator_id + " " + c.token + "\n", path);
    } catch (...) {
        ::close(fd);
        throw;
    }
    // No fsync per line: thousands of them would dominate provisioning, and a
    // crash of this process loses nothing the kernel already has.
    if (::close(fd) != 0) fail("cannot write " + path + ": " + errno_text());
}

void write_credentials_file(const std::string& path, const std::vector<Credential>& list) {
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) fail("cannot open " + tmp + " for writing: " + errno_text());
    try {
        write_all(fd, format_credentials(list), tmp);
    } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        ::unlink(tmp.c_str());
        fail("cannot write " + tmp + ": " + errno_text());
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = errno_text();
        ::unlink(tmp.c_str());
        fail("cannot replace " + path + ": " + why);
    }
}

}  // namespace moolai::sim
