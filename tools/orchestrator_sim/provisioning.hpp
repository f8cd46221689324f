#pragma once
// --provision: credentials for N simulated orchestrators from the REST API.

#include <functional>
#include <string>
#include <vector>

#include "credentials_file.hpp"
#include "sim_options.hpp"

namespace moolai::sim {

// Logs in (or uses --api-token), creates the organization when missing, then
// collects options.count credentials for ids <prefix>00001, <prefix>00002, ...:
// an id already in options.credentials_out is reused when the controller still
// knows it, otherwise created (its credential appended to the file at once).
// An id that exists on the controller without a saved credential is skipped.
// `say` receives progress lines. Throws std::runtime_error with a clear
// message when the controller refuses or cannot be reached.
std::vector<Credential> provision_fleet(const SimOptions& options,
                                        const std::function<void(const std::string&)>& say);

// The id of the n-th simulated orchestrator (1-based): prefix + 5+ digits.
std::string simulated_id(const std::string& prefix, size_t n);

}  // namespace moolai::sim
