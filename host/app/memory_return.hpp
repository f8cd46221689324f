// MemoryReturn: gives the heap that closed connections, and the handshakes
// of new ones, held back to the system. glibc keeps freed memory in its
// arenas; after a reconnect storm or a mass disconnect the process would
// otherwise stay at its peak RSS. A storm of TLS handshakes leaves tens of
// KiB per handshake (OpenSSL's record and handshake buffers) freed between
// the new connections' long-lived state: 13 KiB per connection measured
// after 2,000 wss:// connections at 4,000/s (docs/library-quirks.md, W19).
#pragma once

#include <cstddef>
#include <functional>

namespace moolai::host {

class Metric;

class MemoryReturn {
public:
    // `connections` reads the number of open connections; `trims` (optional)
    // counts the returns.
    MemoryReturn(std::function<size_t()> connections, Metric* trims)
        : connections_(std::move(connections)), trims_(trims) {}

    // Periodically (not on an io thread: a trim of a large heap takes
    // milliseconds). Returns memory once the connection count fell by
    // `drop` or more below its peak, or rose by `drop` or more above its
    // trough, since the last return. The first tick only takes the count.
    void tick(size_t drop = 500);

private:
    std::function<size_t()> connections_;
    Metric* trims_;
    bool counted_ = false;
    size_t peak_ = 0;
    size_t trough_ = 0;
};

}  // namespace moolai::host
