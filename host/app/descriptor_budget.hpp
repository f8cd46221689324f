// How many WebSocket connections the open-file limit leaves room for.
#pragma once

#include <cstddef>

namespace moolai::host {

// The soft RLIMIT_NOFILE less the descriptors open now (call it once the
// other servers listen) and a reserve (a quarter of the limit, at most 512)
// for REST clients, storage connections and files: the WebSocket
// port refuses upgrades at this cap with 503 instead of taking the process
// to EMFILE, where nothing -- not even /readyz -- could answer.
size_t connection_budget();

}  // namespace moolai::host
