// The benchmark's results directory -> docs/benchmarks.md (Markdown on the
// stream). Every number in the document comes from a file in that directory;
// prose comes from bench/doc/*.md, copied verbatim.
#pragma once

#include <ostream>
#include <string>

namespace moolai::bench {

// Returns 0, or 1 when a file the table needs is missing (the document is
// still written, with "—" in its place).
int write_report(const std::string& results_dir, std::ostream& out);

}  // namespace moolai::bench
