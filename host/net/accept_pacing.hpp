// Paces Pistache's accept loop when descriptors run out. Its listener
// re-polls a level-triggered socket and calls accept4 again at once, so
// EMFILE spins a core for as long as it lasts, and it neither logs nor
// offers a hook (docs/library-quirks.md, P9). The executable interposes
// accept4 (app/accept4_pacing.cpp) and reports each failure here, from
// Pistache's accept thread: that thread then pauses 100 ms, the back-off
// the WebSocket acceptor has.
#pragma once

#include <cstdint>

#include "net/net_log.hpp"

namespace moolai::host {

// Counts, logs at most one line per 10 s, and sleeps 100 ms.
void pace_failed_accept(int error) noexcept;
// Failed accepts (EMFILE, ENFILE, ...) paced so far.
uint64_t failed_accepts() noexcept;
// Where the one-line-per-10-s reports go; set once at start.
void set_failed_accept_logger(NetLogger logger);

}  // namespace moolai::host
