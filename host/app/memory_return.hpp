// MemoryReturn: gives the heap that closed connections held back to the
// system. glibc keeps freed memory in its arenas; after a reconnect storm or
// a mass disconnect the process would otherwise stay at its peak RSS.
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
    // `drop` or more below its peak since the last return.
    void tick(size_t drop = 500);

private:
    std::function<size_t()> connections_;
    Metric* trims_;
    size_t peak_ = 0;
};

}  // namespace moolai::host
