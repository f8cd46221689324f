// StaticFiles: which file under the dashboard's directory answers a GET,
// and with which headers. Decides only; the REST server sends.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace moolai::host {

class StaticFiles {
public:
    struct Answer {
        int status = 200;          // 404: no such file
        std::string file;          // absolute; maybe the pre-compressed ".gz" sibling
        std::string content_type;  // of the original file
        std::vector<std::pair<std::string, std::string>> headers;  // caching, encoding
    };

    // Throws std::runtime_error naming `dir` when it does not exist.
    explicit StaticFiles(const std::string& dir);

    // segs: the decoded path segments. No ".." and no way out of the
    // directory, also not through a symlink; a path without a file extension
    // that names no file gets index.html (the dashboard routes on the client).
    Answer resolve(const std::vector<std::string>& segs, const std::string& accept_encoding) const;

    // Every content type resolve() may name.
    static std::vector<std::string> content_types();

private:
    Answer file_answer(const std::string& file, const std::string& accept_encoding) const;
    std::string root_;  // canonical, with a trailing '/'
};

}  // namespace moolai::host
