#pragma once
// TLS material of a server port (OpenSSL, behind a pimpl: no OpenSSL types
// here). One TlsServerContext holds the certificate chain, key and optional
// client CA of one port, configures the SSL_CTX its library made, and answers
// every new handshake with the material current at that moment: reload()
// swaps it for new handshakes while established connections keep theirs.

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace moolai::host {

struct TlsFiles {
    std::string cert_file;  // PEM, leaf first then intermediates
    std::string key_file;   // PEM, unencrypted
    // PEM bundle of CAs whose client certificates are accepted; "" = no client
    // certificates are asked for. A client may still connect without one:
    // whether a connection needs one is its protocol's decision
    // (WsConnection::client_cert_names()).
    std::string client_ca_file;
    bool enabled() const noexcept { return !cert_file.empty(); }
};

// One line naming the file and the fix, for the start-up refusal.
class TlsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class TlsServerContext {
public:
    // Reads and checks the files (readable, PEM, key matches the certificate,
    // certificate valid now, CA bundle readable). Throws TlsError.
    explicit TlsServerContext(TlsFiles files);
    ~TlsServerContext();
    TlsServerContext(const TlsServerContext&) = delete;
    TlsServerContext& operator=(const TlsServerContext&) = delete;

    // Reads the same files again. On success new handshakes use the new
    // material; on failure throws TlsError and the old material stays.
    void reload();

    // `ssl_ctx` is an SSL_CTX*: TLS 1.2 minimum, modern ciphers, idle
    // buffers released, client CA, and a certificate callback that hands
    // each handshake the current material. This object must outlive it.
    void configure(void* ssl_ctx) const;

    // "subject CN=..., serial 0A1B..., valid until 2027-01-01T00:00:00Z"
    std::string summary() const;
    const TlsFiles& files() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Identities of a client certificate that verified against the client CA
// (`ssl` is an SSL*): the subject CN, then the DNS, URI and e-mail SANs.
// Empty when the client sent none, or it did not verify.
std::vector<std::string> tls_peer_names(const void* ssl);

// OpenSSL's cipher lists: TLS 1.2 with forward secrecy and AEAD only; TLS
// 1.3's three suites (all AEAD), AES-128-GCM preferred.
extern const char* const kTls12Ciphers;
extern const char* const kTls13Ciphers;

}  // namespace moolai::host
