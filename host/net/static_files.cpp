#include "net/static_files.hpp"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

namespace moolai::host {
namespace {

struct Known {
    const char* ext;
    const char* content_type;
};
constexpr Known kTypes[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "application/javascript"},
    {".css", "text/css"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".json", "application/json"},
    {".ico", "image/x-icon"},
    {".map", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},
};
constexpr const char* kOctetStream = "application/octet-stream";

bool regular_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// "gzip" listed and not refused with q=0 (the forms browsers and proxies send).
bool accepts_gzip(const std::string& accept_encoding) {
    const size_t at = accept_encoding.find("gzip");
    if (at == std::string::npos) return false;
    const size_t end = accept_encoding.find(',', at);
    const std::string param = accept_encoding.substr(at, end == std::string::npos ? end : end - at);
    return param.find("q=0") == std::string::npos || param.find("q=0.") != std::string::npos;
}

}  // namespace

StaticFiles::StaticFiles(const std::string& dir) {
    char buf[PATH_MAX];
    if (!::realpath(dir.c_str(), buf)) throw std::runtime_error("static_dir not found: " + dir);
    root_ = std::string(buf) + "/";
}

std::vector<std::string> StaticFiles::content_types() {
    std::vector<std::string> out{kOctetStream};
    for (const Known& k : kTypes) out.emplace_back(k.content_type);
    return out;
}

StaticFiles::Answer StaticFiles::resolve(const std::vector<std::string>& segs,
                                         const std::string& accept_encoding) const {
    Answer not_found;
    not_found.status = 404;
    for (const std::string& s : segs)
        if (s == ".." || s.find('\0') != std::string::npos || s.find('/') != std::string::npos)
            return not_found;  // no traversal, also not via %2F or %2e%2e

    std::string rel;
    for (const std::string& s : segs) rel += (rel.empty() ? "" : "/") + s;
    const bool has_ext = !segs.empty() && segs.back().find('.') != std::string::npos;
    if (!rel.empty()) {
        char buf[PATH_MAX];
        if (::realpath((root_ + rel).c_str(), buf)) {
            const std::string canon = buf;
            if (canon.compare(0, root_.size(), root_) != 0)
                return not_found;  // a symlink pointing out of the directory
            if (regular_file(canon)) return file_answer(canon, accept_encoding);
        }
    }
    // The dashboard routes on the client: its paths have no file extension.
    if (!has_ext) return file_answer(root_ + "index.html", accept_encoding);
    return not_found;
}

StaticFiles::Answer StaticFiles::file_answer(const std::string& file,
                                             const std::string& accept_encoding) const {
    Answer a;
    a.file = file;
    const size_t dot = file.rfind('.');
    const std::string_view ext =
        dot == std::string::npos ? std::string_view() : std::string_view(file).substr(dot);
    a.content_type = kOctetStream;
    for (const Known& k : kTypes)
        if (ext == k.ext) a.content_type = k.content_type;
    // The dashboard's build puts content-hashed names under assets/: they
    // never change, so caches may keep them; anything else (index.html)
    // is revalidated so a new version shows at once.
    const bool immutable = file.compare(0, root_.size() + 7, root_ + "assets/") == 0;
    a.headers.emplace_back("Cache-Control",
                           immutable ? "public, max-age=31536000, immutable" : "no-cache");
    // Pre-compressed siblings (file.gz, made by gui/build.sh): no
    // compression work per request.
    if (regular_file(file + ".gz")) {
        a.headers.emplace_back("Vary", "Accept-Encoding");
        if (accepts_gzip(accept_encoding)) {
            a.file = file + ".gz";
            a.headers.emplace_back("Content-Encoding", "gzip");
        }
    }
    return a;
}

}  // namespace moolai::host
