// The fleet options every moolai-bench-load command reads the same way
// (ws, storm, soak): where to connect, how many, how fast, as whom.
#pragma once

#include <cstddef>
#include <cstdint>

#include "args.hpp"
#include "ws_fleet.hpp"

namespace moolai::bench {

// --port, --connections (1000), --ramp (500/s), --threads (1), --token,
// --id-prefix, --first-index (1), --organization; the rest of `o` is the
// caller's.
inline void read_fleet_args(const Args& a, FleetOptions& o) {
    o.port = static_cast<uint16_t>(a.num("port", o.port));
    o.connections = static_cast<size_t>(a.num("connections", 1000));
    o.ramp_per_sec = a.num("ramp", 500);
    o.io_threads = static_cast<unsigned>(a.num("threads", 1));
    o.token = a.str("token");
    o.id_prefix = a.str("id-prefix", o.id_prefix);
    o.first_index = static_cast<size_t>(a.num("first-index", 1));
    o.organization_id = a.str("organization", o.organization_id);
}

}  // namespace moolai::bench
