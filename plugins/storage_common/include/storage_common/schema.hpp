// storage_common/schema.hpp -- the numbered schema migrations, written once
// for both backends with %TOKEN% placeholders for the dialect's DDL types.
#ifndef MOOLAI_STORAGE_COMMON_SCHEMA_HPP
#define MOOLAI_STORAGE_COMMON_SCHEMA_HPP

#include <string>
#include <string_view>
#include <vector>

#include "storage_common/backend.hpp"

namespace moolai::storage {

struct Migration {
    int version;
    const char* name;
    std::vector<const char*> statements;  // one statement each (PostgreSQL's extended protocol)
};

// In version order; append only -- a released migration never changes.
const std::vector<Migration>& migrations();

// The table that records applied migrations (created before the first).
extern const char* const kMigrationsTable;

// `sql` with every %TOKEN% replaced by dialect.ddl("TOKEN").
std::string render_ddl(std::string_view sql, const Dialect& dialect);

}  // namespace moolai::storage

#endif  // MOOLAI_STORAGE_COMMON_SCHEMA_HPP
