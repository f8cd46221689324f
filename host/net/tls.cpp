// TLS material with OpenSSL 3 (see tls.hpp).
#include "net/tls.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>

namespace moolai::host {

const char* const kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// All of TLS 1.3's, AES-128 first: as strong for this use and cheaper per
// frame than OpenSSL's default preference (AES-256 first).
const char* const kTls13Ciphers =
    "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384";

namespace {

// OpenSSL's error queue as one short reason; clears it.
std::string ssl_reason() {
    unsigned long e = ERR_get_error();
    std::string out;
    if (e != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        out = buf;
    }
    ERR_clear_error();
    return out.empty() ? "not valid PEM" : out;
}

// A file that cannot be opened gets errno's words; OpenSSL's are cryptic there.
void check_readable(const std::string& path, const char* what) {
    std::ifstream f(path, std::ios::binary);
    if (!f)
        throw TlsError(std::string("TLS ") + what + " \"" + path + "\" cannot be read: " +
                       std::strerror(errno) + "; point the setting at a readable PEM file");
}

struct BioDel {
    void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDel>;

BioPtr open_pem(const std::string& path, const char* what) {
    check_readable(path, what);
    BioPtr bio(BIO_new_file(path.c_str(), "r"));
    if (!bio)
        throw TlsError(std::string("TLS ") + what + " \"" + path +
                       "\" cannot be read: " + ssl_reason());
    return bio;
}

std::string asn1_time_text(const ASN1_TIME* t) {
    struct tm tm {};
    if (ASN1_TIME_to_tm(t, &tm) != 1) return "?";
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string name_text(const X509_NAME* n) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    X509_NAME_print_ex(bio.get(), n, 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(len > 0 ? len : 0));
}

std::string serial_text(const X509* c) {
    BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(c), nullptr);
    if (bn == nullptr) return "?";
    char* hex = BN_bn2hex(bn);
    std::string out = hex ? hex : "?";
    OPENSSL_free(hex);
    BN_free(bn);
    return out;
}

std::string asn1_string_text(const ASN1_STRING* s) {
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, s);
    if (len < 0) return {};
    std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
    OPENSSL_free(utf8);
    return out;
}

// What one handshake is given; immutable once loaded, shared by pointer.
struct Material {
    X509* cert = nullptr;
    STACK_OF(X509) * chain = nullptr;  // intermediates, may be empty
    EVP_PKEY* key = nullptr;
    X509_STORE* client_store = nullptr;
    STACK_OF(X509_NAME) * client_names = nullptr;

    Material() = default;
    Material(const Material&) = delete;
    Material& operator=(const Material&) = delete;
    ~Material() {
        X509_free(cert);
        sk_X509_pop_free(chain, X509_free);
        EVP_PKEY_free(key);
        X509_STORE_free(client_store);
        sk_X509_NAME_pop_free(client_names, X509_NAME_free);
    }
};

std::shared_ptr<const Material> load(const TlsFiles& f) {
    auto m = std::make_shared<Material>();
    {
        BioPtr bio = open_pem(f.cert_file, "certificate");
        m->cert = PEM_read_bio_X509_AUX(bio.get(), nullptr, nullptr, nullptr);
        if (m->cert == nullptr)
            throw TlsError("TLS certificate \"" + f.cert_file + "\" holds no PEM certificate (" +
                           ssl_reason() + "); give the server certificate, leaf first");
        m->chain = sk_X509_new_null();
        while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
            sk_X509_push(m->chain, extra);
        ERR_clear_error();  // the loop ends on "no start line"
    }
    if (X509_cmp_current_time(X509_get0_notAfter(m->cert)) < 0)
        throw TlsError("TLS certificate \"" + f.cert_file + "\" expired on " +
                       asn1_time_text(X509_get0_notAfter(m->cert)) + "; install a renewed one");
    if (X509_cmp_current_time(X509_get0_notBefore(m->cert)) > 0)
        throw TlsError("TLS certificate \"" + f.cert_file + "\" is not valid before " +
                       asn1_time_text(X509_get0_notBefore(m->cert)) +
                       "; check the clock or the certificate");
    if (f.key_file.empty())
        throw TlsError("TLS certificate \"" + f.cert_file +
                       "\" has no private key configured; set the key file too");
    {
        BioPtr bio = open_pem(f.key_file, "private key");
        m->key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
        if (m->key == nullptr)
            throw TlsError("TLS private key \"" + f.key_file + "\" holds no unencrypted PEM key (" +
                           ssl_reason() + "); give the key of the certificate, without passphrase");
    }
    if (X509_check_private_key(m->cert, m->key) != 1) {
        ERR_clear_error();
        throw TlsError("TLS private key \"" + f.key_file + "\" does not match certificate \"" +
                       f.cert_file + "\"; give the key the certificate was issued for");
    }
    if (!f.client_ca_file.empty()) {
        check_readable(f.client_ca_file, "client CA");
        m->client_store = X509_STORE_new();
        if (X509_STORE_load_file(m->client_store, f.client_ca_file.c_str()) != 1 ||
            sk_X509_OBJECT_num(X509_STORE_get0_objects(m->client_store)) == 0)
            throw TlsError("TLS client CA \"" + f.client_ca_file + "\" holds no PEM certificate (" +
                           ssl_reason() + "); give the CA that issues orchestrator certificates");
        m->client_names = SSL_load_client_CA_file(f.client_ca_file.c_str());
        ERR_clear_error();
    }
    return m;
}

}  // namespace

struct TlsServerContext::Impl {
    TlsFiles files;
    mutable std::mutex m;
    std::shared_ptr<const Material> current;

    std::shared_ptr<const Material> get() const {
        std::lock_guard<std::mutex> lk(m);
        return current;
    }

    // Per handshake, after the ClientHello: the material current now. The
    // SSL object takes references, so a reload may free the old material
    // while connections made with it live on.
    static int cert_cb(SSL* ssl, void* arg) {
        const std::shared_ptr<const Material> mat = static_cast<const Impl*>(arg)->get();
        if (SSL_use_cert_and_key(ssl, mat->cert, mat->key, mat->chain, 1) != 1) return 0;
        if (mat->client_store != nullptr) {
            if (SSL_set1_verify_cert_store(ssl, mat->client_store) != 1) return 0;
            if (mat->client_names != nullptr)
                SSL_set_client_CA_list(ssl, SSL_dup_CA_list(mat->client_names));
        }
        return 1;
    }
};

TlsServerContext::TlsServerContext(TlsFiles files) : impl_(std::make_unique<Impl>()) {
    impl_->files = std::move(files);
    impl_->current = load(impl_->files);
}

TlsServerContext::~TlsServerContext() = default;

void TlsServerContext::reload() {
    auto fresh = load(impl_->files);  // throws before anything changes
    std::lock_guard<std::mutex> lk(impl_->m);
    impl_->current = std::move(fresh);
}

void TlsServerContext::configure(void* ssl_ctx) const {
    SSL_CTX* ctx = static_cast<SSL_CTX*>(ssl_ctx);
    const auto mat = impl_->get();
    bool ok = SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
              SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) == 1 &&
              SSL_CTX_set_ciphersuites(ctx, kTls13Ciphers) == 1 &&
              SSL_CTX_use_cert_and_key(ctx, mat->cert, mat->key, mat->chain, 1) == 1;
    SSL_CTX_set_options(
        ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
    // An idle connection then holds no 34 KiB of read/write buffers.
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    static const unsigned char kSidCtx[] = "moolai";
    ok = ok && SSL_CTX_set_session_id_context(ctx, kSidCtx, sizeof kSidCtx - 1) == 1;
    if (mat->client_store != nullptr) {
        // Asked for, verified when sent, not required here: the dashboard's
        // browsers share the WebSocket port; the protocol decides.
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
        ok = ok && SSL_CTX_set1_verify_cert_store(ctx, mat->client_store) == 1;
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    }
    if (!ok) throw TlsError("TLS context setup failed: " + ssl_reason());
    SSL_CTX_set_cert_cb(ctx, &Impl::cert_cb, impl_.get());
}

std::string TlsServerContext::summary() const {
    const auto mat = impl_->get();
    return "subject " + name_text(X509_get_subject_name(mat->cert)) + ", serial " +
           serial_text(mat->cert) + ", valid until " +
           asn1_time_text(X509_get0_notAfter(mat->cert));
}

const TlsFiles& TlsServerContext::files() const noexcept {
    return impl_->files;
}

std::vector<std::string> tls_peer_names(const void* ssl_ptr) {
    std::vector<std::string> names;
    const SSL* ssl = static_cast<const SSL*>(ssl_ptr);
    if (ssl == nullptr) return names;
    X509* c = SSL_get0_peer_certificate(ssl);
    if (c == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return names;
    const X509_NAME* subject = X509_get_subject_name(c);
    for (int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); i >= 0;
         i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) {
        const X509_NAME_ENTRY* e = X509_NAME_get_entry(subject, i);
        std::string cn = asn1_string_text(X509_NAME_ENTRY_get_data(e));
        if (!cn.empty()) names.push_back(std::move(cn));
    }
    auto* sans =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(c, NID_subject_alt_name, nullptr, nullptr));
    if (sans != nullptr) {
        for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
            const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
            if (g->type == GEN_DNS || g->type == GEN_URI || g->type == GEN_EMAIL) {
                std::string v = asn1_string_text(g->d.ia5);
                if (!v.empty()) names.push_back(std::move(v));
            }
        }
        GENERAL_NAMES_free(sans);
    }
    return names;
}

}  // namespace moolai::host
