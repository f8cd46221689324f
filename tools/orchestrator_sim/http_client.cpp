// The only translation unit of the simulator that includes Boost.Beast.
#include "http_client.hpp"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <optional>
#include <stdexcept>

namespace moolai::sim {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct HttpClient::Impl {
    std::string base_url, host, port, prefix;
    std::chrono::milliseconds timeout;
    asio::io_context io;
    std::optional<asio::ssl::context> tls;  // https:// only
    std::optional<beast::tcp_stream> plain;
    std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
    beast::flat_buffer buffer;

    bool open_now() const { return plain.has_value() || secure.has_value(); }
    beast::tcp_stream& tcp() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

    void open() {
        tcp::resolver resolver(io);
        const auto where = resolver.resolve(host, port);
        buffer.clear();
        if (!tls) {
            plain.emplace(io);
            plain->expires_after(timeout);
            plain->connect(where);
            return;
        }
        secure.emplace(io, *tls);
        // The name the certificate must carry (an address: its IP SAN), and SNI.
        secure->set_verify_callback(asio::ssl::host_name_verification(host));
        if (!SSL_set_tlsext_host_name(secure->native_handle(), host.c_str()))
            throw std::runtime_error("cannot set the TLS server name \"" + host + "\"");
        tcp().expires_after(timeout);
        tcp().connect(where);
        secure->handshake(asio::ssl::stream_base::client);
    }

    void close() {
        if (!open_now()) return;
        beast::error_code ec;
        tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
        plain.reset();
        secure.reset();
    }

    HttpReply once(const std::string& method, const std::string& target, const std::string& body,
                   const std::string& bearer) {
        if (!open_now()) open();
        http::request<http::string_body> req;
        req.method_string(method);
        req.target(prefix + target);
        req.version(11);
        req.set(http::field::host, host + ":" + port);
        req.set(http::field::user_agent, "moolai-orchestrator-sim");
        // Pistache closes after each answer unless asked to keep the socket.
        req.set(http::field::connection, "keep-alive");
        if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
        if (!body.empty() || method == "POST" || method == "PUT") {
            req.set(http::field::content_type, "application/json");
            req.body() = body;
        }
        req.prepare_payload();
        tcp().expires_after(timeout);
        http::response_parser<http::string_body> parser;
        parser.body_limit(16u << 20);
        if (secure) {
            http::write(*secure, req);
            http::read(*secure, buffer, parser);
        } else {
            http::write(*plain, req);
            http::read(*plain, buffer, parser);
        }
        const auto& res = parser.get();
        HttpReply reply;
        reply.status = static_cast<int>(res.result_int());
        reply.body = res.body();
        if (auto it = res.find(http::field::retry_after); it != res.end())
            reply.retry_after = std::string(it->value());
        if (!res.keep_alive()) close();
        return reply;
    }
};

HttpClient::HttpClient(const std::string& base_url, const std::string& ca_file,
                       std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.base_url = base_url;
    m.timeout = timeout;
    const bool https = base_url.compare(0, 8, "https://") == 0;
    if (!https && base_url.compare(0, 7, "http://") != 0)
        throw std::invalid_argument("\"" + base_url + "\" is not an http:// or https:// URL");
    const std::string default_port = https ? "443" : "80";
    if (https) {
        m.tls.emplace(asio::ssl::context::tls_client);
        SSL_CTX_set_min_proto_version(m.tls->native_handle(), TLS1_2_VERSION);
        m.tls->set_verify_mode(asio::ssl::verify_peer);
        beast::error_code ec;
        if (ca_file.empty())
            m.tls->set_default_verify_paths(ec);
        else
            m.tls->load_verify_file(ca_file, ec);
        if (ec)
            throw std::invalid_argument((ca_file.empty()
                                             ? std::string("the system's CA certificates")
                                             : "--ca \"" + ca_file + "\"") +
                                        ": cannot be read (" + ec.message() + ")");
    } else if (!ca_file.empty()) {
        throw std::invalid_argument("\"" + base_url + "\": a CA file goes with https:// only");
    }
    std::string rest = base_url.substr(https ? 8 : 7);
    const size_t slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    m.prefix = slash == std::string::npos ? "" : rest.substr(slash);
    while (!m.prefix.empty() && m.prefix.back() == '/') m.prefix.pop_back();
    const size_t colon = authority.rfind(':');
    if (!authority.empty() && authority.front() == '[') {  // [::1]:8765
        const size_t close = authority.find(']');
        if (close == std::string::npos)
            throw std::invalid_argument("\"" + base_url + "\": unterminated IPv6 address");
        m.host = authority.substr(1, close - 1);
        m.port = close + 1 < authority.size() && authority[close + 1] == ':'
                     ? authority.substr(close + 2)
                     : default_port;
    } else if (colon != std::string::npos) {
        m.host = authority.substr(0, colon);
        m.port = authority.substr(colon + 1);
    } else {
        m.host = authority;
        m.port = default_port;
    }
    if (m.host.empty()) throw std::invalid_argument("\"" + base_url + "\" names no host");
    if (m.port.empty() || m.port.size() > 5 ||
        m.port.find_first_not_of("0123456789") != std::string::npos || std::stoul(m.port) == 0 ||
        std::stoul(m.port) > 65535)
        throw std::invalid_argument("\"" + base_url + "\": the port must be 1 to 65535");
}

HttpClient::~HttpClient() {
    impl_->close();
}

const std::string& HttpClient::base_url() const {
    return impl_->base_url;
}

HttpReply HttpClient::request(const std::string& method, const std::string& target,
                              const std::string& body, const std::string& bearer) {
    Impl& m = *impl_;
    const bool reused = m.open_now();
    try {
        return m.once(method, target, body, bearer);
    } catch (const std::exception& first) {
        m.close();
        // A kept-alive socket the server has closed meanwhile fails the first
        // try; a fresh connection settles it.
        if (!reused)
            throw std::runtime_error(method + " " + m.base_url + target + ": " + first.what());
    }
    try {
        return m.once(method, target, body, bearer);
    } catch (const std::exception& e) {
        m.close();
        throw std::runtime_error(method + " " + m.base_url + target + ": " + e.what());
    }
}

}  // namespace moolai::sim
