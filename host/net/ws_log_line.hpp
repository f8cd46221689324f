#pragma once
// The level of one line of websocketpp's error log ("[time] [channel]
// message") for our NetLogger (std headers only, so tests reach it).

#include <string_view>

#include "net/net_log.hpp"

namespace moolai::host {

inline int websocketpp_line_level(std::string_view line) {
    // "[error]" is elevel::rerror: one connection's trouble (a rejected
    // upgrade, an oversized message), usually caused by the client.
    if (line.find("] [error] ") != std::string_view::npos) return kNetInfo;
    if (line.find("] [fatal] ") != std::string_view::npos) {
        // websocketpp says "fatal" when a read or write fails on a socket
        // the peer has left (reset, broken pipe): that connection's end,
        // not the server's trouble, and routine for a fleet.
        for (std::string_view peer_gone :
             {"] handle_read_frame error: ", "] handle_write_frame error: "})
            if (line.find(peer_gone) != std::string_view::npos) return kNetInfo;
        return kNetError;
    }
    return kNetWarn;
}

}  // namespace moolai::host
