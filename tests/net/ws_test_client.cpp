// The only test translation unit that includes websocketpp.
#include "ws_test_client.hpp"

#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_no_tls_client.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace moolai::test {

namespace ws = websocketpp;
using Client = ws::client<ws::config::asio_client>;

struct WsTestClient::Impl {
    enum class State { idle, connecting, open, failed, closed };

    Client client;
    std::thread io;
    ws::connection_hdl hdl;
    bool answer_pings = true;
    std::atomic<int> pings{0};

    mutable std::mutex m;
    std::condition_variable cv;
    State state = State::idle;
    int status = 0;
    std::string body;
    uint16_t close_code = 0;
    std::string close_reason;
    std::deque<std::string> inbox;

    Impl() {
        client.clear_access_channels(ws::log::alevel::all);
        client.clear_error_channels(ws::log::elevel::all);
        client.init_asio();
        client.set_max_message_size(64u << 20);  // tests send and receive big frames
        client.set_open_handler([this](ws::connection_hdl) { set_state(State::open); });
        client.set_fail_handler([this](ws::connection_hdl h) {
            ws::lib::error_code ec;
            auto con = client.get_con_from_hdl(h, ec);
            std::lock_guard<std::mutex> lk(m);
            if (con) {
                status = con->get_response_code();
                body = con->get_response().get_body();
            }
            state = State::failed;
            cv.notify_all();
        });
        client.set_close_handler([this](ws::connection_hdl h) {
            ws::lib::error_code ec;
            auto con = client.get_con_from_hdl(h, ec);
            std::lock_guard<std::mutex> lk(m);
            close_code = con ? con->get_remote_close_code() : 1006;
            if (con) close_reason = con->get_remote_close_reason();
            state = State::closed;
            cv.notify_all();
        });
        client.set_message_handler([this](ws::connection_hdl, Client::message_ptr msg) {
            std::lock_guard<std::mutex> lk(m);
            inbox.push_back(msg->get_payload());
            cv.notify_all();
        });
        client.set_ping_handler([this](ws::connection_hdl, std::string) {
            ++pings;
            return answer_pings;
        });
    }

    void set_state(State s) {
        std::lock_guard<std::mutex> lk(m);
        state = s;
        cv.notify_all();
    }

    bool send(std::string_view data, ws::frame::opcode::value op) {
        {
            std::lock_guard<std::mutex> lk(m);
            if (state != State::open) return false;
        }
        ws::lib::error_code ec;
        client.send(hdl, data.data(), data.size(), op, ec);
        return !ec;
    }
};

WsTestClient::WsTestClient() : impl_(std::make_unique<Impl>()) {}

WsTestClient::~WsTestClient() {
    if (!impl_->io.joinable()) return;
    close(1000);  // fails harmlessly unless open
    if (!wait_closed(ms(2000))) impl_->client.stop();
    impl_->io.join();
}

void WsTestClient::set_answer_pings(bool answer) { impl_->answer_pings = answer; }

bool WsTestClient::connect(const std::string& url, const std::string& authorization, ms timeout) {
    Impl& m = *impl_;
    ws::lib::error_code ec;
    auto con = m.client.get_connection(url, ec);
    if (ec) return false;
    if (!authorization.empty()) con->append_header("Authorization", authorization);
    m.hdl = con->get_handle();
    {
        std::lock_guard<std::mutex> lk(m.m);
        m.state = Impl::State::connecting;
    }
    m.client.connect(con);
    m.io = std::thread([&m] { m.client.run(); });
    std::unique_lock<std::mutex> lk(m.m);
    m.cv.wait_for(lk, timeout, [&m] { return m.state != Impl::State::connecting; });
    return m.state == Impl::State::open;
}

int WsTestClient::http_status() const {
    std::lock_guard<std::mutex> lk(impl_->m);
    return impl_->status;
}

std::string WsTestClient::http_body() const {
    std::lock_guard<std::mutex> lk(impl_->m);
    return impl_->body;
}

bool WsTestClient::send(std::string_view text) {
    return impl_->send(text, ws::frame::opcode::text);
}

bool WsTestClient::send_binary(std::string_view data) {
    return impl_->send(data, ws::frame::opcode::binary);
}

std::optional<std::string> WsTestClient::receive(ms timeout) {
    Impl& m = *impl_;
    std::unique_lock<std::mutex> lk(m.m);
    m.cv.wait_for(lk, timeout, [&m] {
        return !m.inbox.empty() || m.state == Impl::State::closed || m.state == Impl::State::failed;
    });
    if (m.inbox.empty()) return std::nullopt;
    std::string s = std::move(m.inbox.front());
    m.inbox.pop_front();
    return s;
}

void WsTestClient::close(uint16_t code, const std::string& reason) {
    ws::lib::error_code ec;
    impl_->client.close(impl_->hdl, code, reason, ec);
}

std::optional<uint16_t> WsTestClient::wait_closed(ms timeout) {
    Impl& m = *impl_;
    std::unique_lock<std::mutex> lk(m.m);
    if (!m.cv.wait_for(lk, timeout, [&m] {
            return m.state == Impl::State::closed || m.state == Impl::State::failed;
        }))
        return std::nullopt;
    return m.state == Impl::State::closed ? m.close_code : uint16_t{1006};
}

std::string WsTestClient::close_reason() const {
    std::lock_guard<std::mutex> lk(impl_->m);
    return impl_->close_reason;
}

int WsTestClient::pings_received() const { return impl_->pings.load(); }

}  // namespace moolai::test
