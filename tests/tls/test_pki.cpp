#include "tls/test_pki.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <stdexcept>

namespace moolai::test {
namespace {

EVP_PKEY* new_key() {
    EVP_PKEY* k = EVP_EC_gen("P-256");
    if (k == nullptr) throw std::runtime_error("EVP_EC_gen failed");
    return k;
}

void write_pem(const std::string& path, X509* cert, EVP_PKEY* key) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) throw std::runtime_error("cannot write " + path);
    const bool ok = cert != nullptr
                        ? PEM_write_X509(f, cert) == 1
                        : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    std::fclose(f);
    if (!ok) throw std::runtime_error("cannot write " + path);
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr) throw std::runtime_error("bad extension " + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

std::string hex_serial(uint64_t serial) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%llX", static_cast<unsigned long long>(serial));
    std::string s = buf;
    if (s.size() % 2 != 0) s = "0" + s;  // OpenSSL prints whole bytes
    return s;
}

X509* make_cert(const std::string& cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
                uint64_t serial, int from_days, int to_days) {
    X509* c = X509_new();
    X509_set_version(c, 2);
    BIGNUM* bn = BN_new();
    BN_set_word(bn, serial);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(c), static_cast<long>(from_days) * 86400);
    X509_gmtime_adj(X509_getm_notAfter(c), static_cast<long>(to_days) * 86400);
    X509_NAME* name = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(c, issuer != nullptr ? X509_get_subject_name(issuer) : name);
    X509_set_pubkey(c, key);
    return c;
    (void)issuer_key;
}

}  // namespace

TestCa::TestCa(std::string dir, std::string name) : dir_(std::move(dir)) {
    uint64_t r = 0;
    RAND_bytes(reinterpret_cast<unsigned char*>(&r), sizeof r);
    next_serial_ = (r >> 8) | 0x100000;  // positive, unique per CA
    EVP_PKEY* key = new_key();
    X509* c = make_cert(name, key, nullptr, nullptr, next_serial_++, -1, 30);
    add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(c, c, NID_subject_key_identifier, "hash");
    X509_sign(c, key, EVP_sha256());
    ca_ = {dir_ + "/" + name + ".pem", dir_ + "/" + name + ".key.pem"};
    write_pem(ca_.cert, c, nullptr);
    write_pem(ca_.key, nullptr, key);
    ca_cert_ = c;
    ca_key_ = key;
}

TestCa::~TestCa() {
    X509_free(static_cast<X509*>(ca_cert_));
    EVP_PKEY_free(static_cast<EVP_PKEY*>(ca_key_));
}

PemPair TestCa::issue(const std::string& file, const std::string& cn,
                      const std::vector<std::string>& dns, const std::vector<std::string>& ips,
                      int from_days, int to_days) {
    X509* ca = static_cast<X509*>(ca_cert_);
    EVP_PKEY* ca_key = static_cast<EVP_PKEY*>(ca_key_);
    EVP_PKEY* key = new_key();
    const uint64_t serial = next_serial_++;
    X509* c = make_cert(cn, key, ca, ca_key, serial, from_days, to_days);
    add_ext(c, ca, NID_basic_constraints, "CA:FALSE");
    add_ext(c, ca, NID_ext_key_usage, "serverAuth,clientAuth");
    std::string san;
    for (const auto& d : dns) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
    for (const auto& i : ips) san += (san.empty() ? "" : ",") + std::string("IP:") + i;
    if (!san.empty()) add_ext(c, ca, NID_subject_alt_name, san);
    X509_sign(c, ca_key, EVP_sha256());
    PemPair out{dir_ + "/" + file + ".pem", dir_ + "/" + file + ".key.pem"};
    write_pem(out.cert, c, nullptr);
    write_pem(out.key, nullptr, key);
    X509_free(c);
    EVP_PKEY_free(key);
    last_serial_ = hex_serial(serial);
    return out;
}

namespace {

// Appends one HTTP answer (headers, then Content-Length bytes) to `out`;
// false when the connection ended or timed out first.
bool read_one_answer(SSL* ssl, std::string& out) {
    const size_t start = out.size();
    char buf[16384];
    while (true) {
        const size_t head_end = out.find("\r\n\r\n", start);
        if (head_end != std::string::npos) {
            std::string head = out.substr(start, head_end - start);
            for (char& ch : head)
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            const size_t at = head.find("content-length:");
            const size_t length = at == std::string::npos ? 0 : std::stoul(head.substr(at + 15));
            if (out.size() >= head_end + 4 + length) return true;
        }
        const int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) return false;
        out.append(buf, static_cast<size_t>(n));
    }
}

}  // namespace

ProbeResult tls_probe(uint16_t port, const std::string& ca_file, const std::string& host,
                      const std::string& target, int max_version,
                      const std::vector<std::string>& requests, const std::string& source) {
    ProbeResult r;
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (max_version != 0) SSL_CTX_set_max_proto_version(ctx, max_version);
    SSL_CTX_set_min_proto_version(ctx, max_version != 0 ? TLS1_VERSION : 0);
    SSL_CTX_set_security_level(ctx, max_version != 0 ? 0 : 1);  // lets a TLS 1.1 hello out
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    SSL* ssl = nullptr;
    if (!source.empty()) {
        sockaddr_in from{};
        from.sin_family = AF_INET;
        inet_pton(AF_INET, source.c_str(), &from.sin_addr);
        if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0)
            r.error = "bind to " + source + " failed";
    }
    if (r.error.empty() && connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        r.error = "connect failed";
    if (r.error.empty()) {
        ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        SSL_set_tlsext_host_name(ssl, host.c_str());
        SSL_set1_host(ssl, host.c_str());
        if (SSL_connect(ssl) != 1) {
            const long v = SSL_get_verify_result(ssl);
            char buf[256];
            ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
            r.error = v != X509_V_OK ? X509_verify_cert_error_string(v) : buf;
        } else {
            r.handshake = true;
            r.protocol = SSL_get_version(ssl);
            if (X509* peer = SSL_get1_peer_certificate(ssl)) {
                BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(peer), nullptr);
                char* hex = BN_bn2hex(bn);
                r.serial = hex;
                OPENSSL_free(hex);
                BN_free(bn);
                X509_free(peer);
            }
            if (!requests.empty()) {
                for (const std::string& req : requests) {
                    const size_t start = r.response.size();
                    SSL_write(ssl, req.data(), static_cast<int>(req.size()));
                    if (!read_one_answer(ssl, r.response)) break;
                    if (start == 0 && r.response.compare(0, 5, "HTTP/") == 0)
                        r.http_status = std::atoi(r.response.substr(9, 3).c_str());
                }
            } else if (!target.empty()) {
                const std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + host +
                                        "\r\nConnection: close\r\n\r\n";
                SSL_write(ssl, req.data(), static_cast<int>(req.size()));
                char buf[512];
                const int n = SSL_read(ssl, buf, sizeof buf - 1);
                if (n > 12 && std::string(buf, 5) == "HTTP/")
                    r.http_status = std::atoi(std::string(buf + 9, 3).c_str());
            }
        }
    }
    if (ssl != nullptr) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
    }
    close(fd);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return r;
}

std::optional<std::chrono::milliseconds> closed_by_server_within(int fd, int timeout_ms) {
    const auto t0 = std::chrono::steady_clock::now();
    char byte = 0;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1 || ::read(fd, &byte, 1) > 0) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 t0);
}

}  // namespace moolai::test
