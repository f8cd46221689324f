#pragma once
// Certificates made at test time with the OpenSSL API (no openssl CLI): a CA,
// server and client certificates signed by it, expired ones, and a TLS probe
// that connects as a verifying client and reports what it saw.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moolai::test {

struct PemPair {
    std::string cert;  // file paths
    std::string key;
};

class TestCa {
public:
    // Writes <dir>/<name>.pem and <name>.key.pem (self-signed CA, EC P-256).
    TestCa(std::string dir, std::string name);
    ~TestCa();
    TestCa(const TestCa&) = delete;
    TestCa& operator=(const TestCa&) = delete;
    const std::string& cert_file() const { return ca_.cert; }

    // A leaf signed by this CA, written as <dir>/<file>.pem / .key.pem. `cn`
    // is the subject CN; `dns` and `ips` the SANs. Validity in days from now
    // (negative = in the past). Returns the paths; serial() the last serial.
    PemPair issue(const std::string& file, const std::string& cn,
                  const std::vector<std::string>& dns = {},
                  const std::vector<std::string>& ips = {}, int from_days = -1, int to_days = 30);
    // The serial of the last issue(), upper-case hex as OpenSSL prints it.
    const std::string& last_serial() const { return last_serial_; }

private:
    std::string dir_;
    PemPair ca_;
    void* ca_cert_ = nullptr;  // X509*
    void* ca_key_ = nullptr;   // EVP_PKEY*
    uint64_t next_serial_;
    std::string last_serial_;
};

struct ProbeResult {
    bool handshake = false;  // TLS handshake done and the server verified
    std::string error;       // why not
    std::string serial;      // the server certificate's serial (hex)
    std::string protocol;    // "TLSv1.3", ...
    int http_status = 0;     // of GET `target`, 0 = none
    std::string response;    // with `requests`: the answers, one after another
};

// Connects to 127.0.0.1:port as a TLS client that verifies the server against
// `ca_file` and the name `host`, then sends GET `target` (when not empty).
// `requests`: these instead of the GET, each sent once the answer to the
// one before is read whole (Content-Length), on the same connection.
// `source`: the local address to connect from.
ProbeResult tls_probe(uint16_t port, const std::string& ca_file, const std::string& host,
                      const std::string& target = "/livez", int max_version = 0,
                      const std::vector<std::string>& requests = {},
                      const std::string& source = "");

// Waits up to `timeout_ms` for the server to close `fd` (readable, then EOF
// or a reset): how long that took; nullopt while it is still open.
std::optional<std::chrono::milliseconds> closed_by_server_within(int fd, int timeout_ms);

}  // namespace moolai::test
