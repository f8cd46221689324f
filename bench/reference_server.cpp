// moolai-bench-reference: the ceiling. A bare websocketpp server that speaks
// the orchestrator frames the benchmark sends -- handshake_ack on open,
// register -> provisioning, i_am_alive -> heartbeat_ack -- and does nothing
// else: no storage, no policy, no JSON library. It runs the same websocketpp
// configuration (config::asio, one strand per connection, logging channels
// off) and the same number of io threads as the controller, so the gap
// between the two is what the controller's own work costs.
//
//   moolai-bench-reference [--port P] [--threads N]    (prints "ready" when listening)
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include <pthread.h>
#include <sys/resource.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace ws = websocketpp;

// Made once at register, so an ack costs no formatting (the controller
// does the same).
struct ReferenceConnection {
    std::string heartbeat_ack;
};

struct ReferenceConfig : ws::config::asio {
    typedef ReferenceConnection connection_base;
};

using Server = ws::server<ReferenceConfig>;

// The string value of "key" in a flat frame, or "" -- enough for the frames
// the load generator sends (no escapes), which is all a reference needs.
std::string_view string_field(std::string_view frame, std::string_view quoted_key) {
    const size_t k = frame.find(quoted_key);
    if (k == std::string_view::npos) return {};
    size_t v = frame.find('"', k + quoted_key.size() + 1);  // past the ':'
    if (v == std::string_view::npos) return {};
    const size_t end = frame.find('"', v + 1);
    if (end == std::string_view::npos) return {};
    return frame.substr(v + 1, end - v - 1);
}

void raise_fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

}  // namespace

int main(int argc, char** argv) {
    signal(SIGPIPE, SIG_IGN);
    unsigned port = 8866;
    unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--port") == 0) {
            port = static_cast<unsigned>(std::atoi(argv[i + 1]));
        } else if (std::strcmp(argv[i], "--threads") == 0) {
            threads = static_cast<unsigned>(std::atoi(argv[i + 1]));
        } else {
            std::fprintf(stderr, "usage: %s [--port P] [--threads N]\n", argv[0]);
            return 2;
        }
    }
    if (threads == 0 || port > 65535) {
        std::fprintf(stderr, "bad --port or --threads\n");
        return 2;
    }
    raise_fd_limit();
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    Server server;
    // Same settings as the controller's WsServer where they matter per frame.
    server.clear_access_channels(ws::log::alevel::all);
    server.clear_error_channels(ws::log::elevel::all);
    server.init_asio();
    server.set_reuse_addr(true);
    server.set_listen_backlog(512);
    server.set_max_message_size(1 << 20);

    server.set_open_handler([&server](ws::connection_hdl hdl) {
        ws::lib::error_code ec;
        server.send(hdl, R"({"type":"handshake_ack","success":true})", ws::frame::opcode::text, ec);
    });
    server.set_message_handler([&server](ws::connection_hdl hdl, Server::message_ptr msg) {
        ws::lib::error_code ec;
        Server::connection_ptr con = server.get_con_from_hdl(hdl, ec);
        if (ec) return;
        const std::string& frame = msg->get_payload();
        const std::string_view type = string_field(frame, R"("type")");
        if (type == "i_am_alive") {
            con->send(con->heartbeat_ack, ws::frame::opcode::text);
        } else if (type == "register") {
            const std::string id(string_field(frame, R"("orchestrator_id")"));
            con->heartbeat_ack =
                R"({"type":"heartbeat_ack","orchestrator_id":")" + id + R"(","processed":true})";
            con->send(R"({"type":"provisioning","orchestrator_id":")" + id +
                          R"(","config":{"heartbeat_interval_sec":30,"heartbeat_ttl_sec":120,)"
                          R"("is_independent":false,"monitoring_enabled":true}})",
                      ws::frame::opcode::text);
        } else {
            con->send(std::string(R"({"type":"error","code":"unsupported_type"})"),
                      ws::frame::opcode::text);
        }
    });

    ws::lib::error_code ec;
    server.listen(ws::lib::asio::ip::tcp::v4(), static_cast<uint16_t>(port), ec);
    if (ec) {
        std::fprintf(stderr, "cannot listen on port %u: %s\n", port, ec.message().c_str());
        return 1;
    }
    server.start_accept(ec);
    std::vector<std::thread> io;
    for (unsigned i = 0; i < threads; ++i) io.emplace_back([&server] { server.run(); });
    std::printf("ready: port %u, %u io threads\n", port, threads);
    std::fflush(stdout);

    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    server.stop();  // a benchmark fixture: no close handshakes
    for (auto& t : io) t.join();
    return 0;
}
