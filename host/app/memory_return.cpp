#include "app/memory_return.hpp"

#include <malloc.h>

#include <algorithm>

#include "observability/metrics.hpp"

namespace moolai::host {

void MemoryReturn::tick(size_t drop) {
    const size_t now = connections_();
    if (!counted_) {
        counted_ = true;
        peak_ = trough_ = now;
        return;
    }
    peak_ = std::max(peak_, now);
    trough_ = std::min(trough_, now);
    if (peak_ - now < drop && now - trough_ < drop) return;
    malloc_trim(0);
    peak_ = trough_ = now;
    if (trims_ != nullptr) trims_->add(1);
}

}  // namespace moolai::host
