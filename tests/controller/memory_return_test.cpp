// MemoryReturn against the real allocator: heap freed in the middle of the
// arena (as closed connections leave it) stays resident until it is given
// back, and a tick after a large enough drop gives it back.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "app/memory_return.hpp"
#include "observability/metrics.hpp"

namespace moolai::host {
namespace {

size_t resident_bytes() {
    long pages_total = 0, pages_resident = 0;
    FILE* f = std::fopen("/proc/self/statm", "r");
    if (f == nullptr) return 0;
    const int n = std::fscanf(f, "%ld %ld", &pages_total, &pages_resident);
    std::fclose(f);
    return n == 2 ? static_cast<size_t>(pages_resident) * static_cast<size_t>(sysconf(_SC_PAGESIZE))
                  : 0;
}

TEST(MemoryReturn, GivesBackWhatClosedConnectionsLeftOnlyAfterALargeEnoughDrop) {
    Metrics metrics;
    Metric* trims = metrics.counter("trims");
    size_t connections = 0;
    MemoryReturn memory([&] { return connections; }, trims);

    // 5,000 "connections" of 16 KiB each, touched so they are resident.
    std::vector<std::unique_ptr<char[]>> held;
    for (int i = 0; i < 5000; ++i) {
        held.emplace_back(new char[16 * 1024]);
        for (int b = 0; b < 16 * 1024; b += 4096) held.back()[b] = 1;
    }
    connections = held.size();
    memory.tick();
    EXPECT_EQ(trims->value(), 0);

    // Nine in ten close; every tenth stays, so the heap cannot shrink from its top.
    for (size_t i = 0; i < held.size(); ++i)
        if (i % 10 != 0) held[i].reset();
    connections = 500;
    const size_t before = resident_bytes();
    memory.tick(5000);  // a drop of 4,500 is below this threshold: nothing happens
    EXPECT_EQ(trims->value(), 0);
    memory.tick();
    EXPECT_EQ(trims->value(), 1);
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "AddressSanitizer's allocator keeps freed memory in quarantine";
#endif
    const size_t after = resident_bytes();
    // About 70 MiB were freed inside the heap; most of it must be back.
    EXPECT_LT(after + (40u << 20), before) << "before " << before << " after " << after;
    memory.tick();
    EXPECT_EQ(trims->value(), 1) << "no new drop, no new return";
}

TEST(MemoryReturn, GivesBackWhatHandshakesLeftOnlyAfterALargeEnoughRise) {
    Metrics metrics;
    Metric* trims = metrics.counter("trims");
    size_t connections = 0;
    MemoryReturn memory([&] { return connections; }, trims);
    memory.tick();  // the first count
    EXPECT_EQ(trims->value(), 0);

    // 2,000 handshakes: each a 32 KiB buffer, freed when it is over, with
    // the connection's 2 KiB of lasting state allocated after it, so the
    // heap cannot shrink from its top.
    std::vector<std::unique_ptr<char[]>> buffers, state;
    for (int i = 0; i < 2000; ++i) {
        buffers.emplace_back(new char[32 * 1024]);
        for (int b = 0; b < 32 * 1024; b += 4096) buffers.back()[b] = 1;
        state.emplace_back(new char[2048]);
        state.back()[0] = 1;
    }
    buffers.clear();
    connections = state.size();
    const size_t before = resident_bytes();
    memory.tick(5000);  // a rise of 2,000 is below this threshold: nothing happens
    EXPECT_EQ(trims->value(), 0);
    memory.tick();
    EXPECT_EQ(trims->value(), 1);
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "AddressSanitizer's allocator keeps freed memory in quarantine";
#endif
    const size_t after = resident_bytes();
    // About 60 MiB of whole pages were freed inside the heap; most must be back.
    EXPECT_LT(after + (40u << 20), before) << "before " << before << " after " << after;
    memory.tick();
    EXPECT_EQ(trims->value(), 1) << "no new rise, no new return";
}

}  // namespace
}  // namespace moolai::host
