#include "app/memory_return.hpp"

#include <malloc.h>

#include <algorithm>

#include "observability/metrics.hpp"

namespace moolai::host {

void MemoryReturn::tick(size_t drop) {
    const size_t now = connections_();
    peak_ = std::max(peak_, now);
    if (peak_ - now < drop) return;
    malloc_trim(0);
    peak_ = now;
    if (trims_ != nullptr) trims_->add(1);
}

}  // namespace moolai::host
