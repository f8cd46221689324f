// storage_common/audit_chain.hpp -- the audit log's SHA-256 hash chain.
//
// Every audit row appended since ABI 1.3 carries prev_hash (the hash of the
// row appended before it, or 64 zeros for the first) and hash =
// SHA-256(prev_hash "\n" canonical JSON of the row as stored). A one-row
// table, audit_chain, holds the newest row's id and hash: appends lock it,
// which orders them (also across hosts on one PostgreSQL), and it makes
// removing the newest rows visible. docs/abi.md, "The audit chain", is the
// specification; a verifier written from it alone must agree with this file.
#ifndef MOOLAI_STORAGE_COMMON_AUDIT_CHAIN_HPP
#define MOOLAI_STORAGE_COMMON_AUDIT_CHAIN_HPP

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "storage_common/backend.hpp"
#include "storage_common/records.hpp"

namespace moolai::storage {

// prev_hash of the first chained row.
inline constexpr std::string_view kAuditGenesis =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// Appends one audit row inside a write transaction: locks the chain head,
// runs `insert` (which inserts the row and returns its id), links the row
// and moves the head. Returns the id.
int64_t append_chained(Tx& tx, const Dialect& d, const std::function<int64_t()>& insert);

// Checks the whole chain oldest first inside one read transaction (one
// snapshot). Output as moolai_storage_v1.audit_verify documents it.
ojson verify_audit_chain(Tx& tx, const Dialect& d);

}  // namespace moolai::storage

#endif  // MOOLAI_STORAGE_COMMON_AUDIT_CHAIN_HPP
