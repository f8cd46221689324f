// The reliability measurements of issue #13, as moolai-bench-load commands:
//
//   storm   starts the controller, connects a fleet that reconnects like
//           orchestrator_client (full-jitter backoff), kill -9s the
//           controller, starts it again on the same data and times how the
//           fleet comes back (bench/storm.sh).
//   soak    a fleet heartbeating and sending usage reports plus admin churn
//           over REST for a long time, the controller's RSS, descriptors
//           and threads sampled (bench/soak.sh).
//   storm-report / soak-report   their JSON results -> Markdown.
#pragma once

#include <ostream>
#include <string>

#include "args.hpp"

namespace moolai::bench {

int command_storm(const Args& a);
int command_soak(const Args& a);
// --results DIR: DIR/sqlite.storm.json, DIR/postgres.storm.json (either may be missing).
int command_storm_report(const Args& a, std::ostream& out);
// --results FILE: the JSON of `soak`.
int command_soak_report(const Args& a, std::ostream& out);

}  // namespace moolai::bench
