// storage_common/backend.hpp -- what a storage driver gives the shared
// storage logic: transactions that run bound SQL, and its SQL dialect.
//
// The storage plugins share every query (storage_plugin.cpp); a driver only
// moves bytes to and from its database and spells the few things SQL
// dialects disagree on. Plugin-internal: nothing here crosses the ABI.
#ifndef MOOLAI_STORAGE_COMMON_BACKEND_HPP
#define MOOLAI_STORAGE_COMMON_BACKEND_HPP

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <moolai/sdk.hpp>

namespace moolai::storage {

// A bound parameter. Times are bound as Unix milliseconds (int64_t) and
// converted by Dialect::time_in in the SQL text.
using Value = std::variant<std::nullptr_t, int64_t, double, bool, std::string>;

// One result cell as text (nullopt = SQL NULL), borrowed from the driver for
// the duration of the row callback.
using Cell = std::optional<std::string_view>;
using Row = std::vector<Cell>;
using RowFn = std::function<void(const Row&)>;

// What went wrong, independent of the database. Each fault has one ABI status,
// so both backends answer the same status for the same mistake.
enum class Fault {
    Duplicate,    // unique key taken            -> MOOLAI_E_CONFLICT
    MissingRef,   // foreign key target missing  -> MOOLAI_E_NOT_FOUND
    Invalid,      // check / not-null / bad data -> MOOLAI_E_INVALID
    Unavailable,  // cannot reach or lock the DB -> MOOLAI_E_UNAVAILABLE
    Internal,     // anything else               -> MOOLAI_E_INTERNAL
};

// Thrown by drivers. It is an sdk::Error, so the SDK trampolines turn an
// uncaught one into its status and text without further code.
class DbError : public sdk::Error {
  public:
    DbError(Fault fault, std::string message);
    Fault fault() const noexcept { return fault_; }

  private:
    Fault fault_;
};

// One open transaction. Valid only inside Backend::transact's callback.
class Tx {
  public:
    virtual ~Tx() = default;
    // Runs ONE statement with placeholders from Dialect::placeholder bound to
    // `params`, calls `on_row` for each result row, and returns the number
    // of rows an INSERT/UPDATE/DELETE changed.
    virtual int64_t exec(const std::string& sql, const std::vector<Value>& params,
                         const RowFn& on_row = nullptr) = 0;

    // Convenience: every row, copied.
    std::vector<std::vector<std::optional<std::string>>> rows(const std::string& sql,
                                                              const std::vector<Value>& params);
};

// The spellings that differ between SQLite and PostgreSQL. Everything else
// in the shared SQL is the common subset of both.
class Dialect {
  public:
    virtual ~Dialect() = default;
    // The n-th (1-based) parameter: "$n" or "?n".
    virtual std::string placeholder(size_t n) const = 0;
    // A DDL type token of the migrations: TEXT, TS, JSON, MONEY, SERIAL, NOW.
    virtual std::string_view ddl(std::string_view token) const = 0;
    // A bound Unix-ms parameter as a value of a timestamp column.
    virtual std::string time_in(const std::string& param) const = 0;
    // A timestamp column as Unix ms (an integer).
    virtual std::string time_out(const std::string& column) const = 0;
    // A timestamp column as its UTC day, "YYYY-MM-DD".
    virtual std::string day_of(const std::string& column) const = 0;
    // A timestamp column as its UTC hour, "YYYY-MM-DDTHH:00:00Z".
    virtual std::string hour_of(const std::string& column) const = 0;
    // Case-insensitive LIKE (ASCII letters on both backends; see migrations).
    virtual std::string_view ilike() const = 0;
    // Suffix of a SELECT that locks the rows it reads until commit.
    virtual std::string_view lock_rows() const = 0;
    // First statement of a migration transaction; serialises migrating
    // processes. Empty when the write transaction already does.
    virtual std::string_view migration_lock() const = 0;

    // One row of a heartbeat batch; status is MOOLAI_ORCH_ACTIVE/_INACTIVE.
    struct Beat {
        std::string_view orchestrator_id;
        int64_t last_seen_ms;
        uint32_t status;
    };
    // The statements, run in order in one transaction with the same
    // `params` (filled here), that write every beat whose orchestrator exists
    // (others are skipped by a join): last_seen into orchestrator_liveness,
    // and the status into orchestrator_instances only where it changed, so
    // a steady heartbeat never rewrites the orchestrator row.
    virtual std::vector<std::string> heartbeat_batch(const std::vector<Beat>& beats,
                                                     std::vector<Value>& params) const = 0;
};

enum class Mode { Read, Write };

// A database connection provider.
class Backend {
  public:
    virtual ~Backend() = default;
    virtual const Dialect& dialect() const noexcept = 0;
    // Opens what must be open before the first call (start()).
    virtual void open() {}
    // Closes connections (stop()).
    virtual void close() noexcept {}
    // Runs `work` in one transaction and commits it; rolls back and rethrows
    // when `work` throws. A driver may run `work` again after losing its
    // connection, so `work` must touch only the database and its own state
    // (MOOLAI_STORAGE_REPLAY_TRANSACTIONS=1 runs every transaction twice to
    // prove it; see storage_plugin.cpp).
    virtual void transact(Mode mode, const std::function<void(Tx&)>& work) = 0;

    // Cross-host notifications (ABI 1.4 notify/listen). `raw` is at most
    // kMaxRawNotification bytes; the shared layer spills larger payloads
    // into a table first. A driver that cannot notify keeps the defaults.
    static constexpr size_t kMaxRawNotification = 7000;  // PostgreSQL's limit is 8000
    using Deliver = std::function<void(const std::string& channel, const std::string& raw)>;
    virtual bool can_notify() const noexcept { return false; }
    // Publishes `raw` on `channel` to every listener of every process on
    // this database, this one included, after it returns.
    virtual void notify(const std::string& channel, const std::string& raw);
    // From now until close(), calls `deliver` (on a thread of the driver's)
    // for what arrives on `channel`; an empty `raw` after the listening
    // connection was lost and is back (what came meanwhile is gone).
    virtual void listen(const std::string& channel, Deliver deliver);
};

}  // namespace moolai::storage

#endif  // MOOLAI_STORAGE_COMMON_BACKEND_HPP
