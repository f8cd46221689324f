// storage_sqlite -- the embedded default storage plugin: one SQLite file in
// WAL mode. Everything but the driver and the dialect is storage_common.
//
// Concurrency (declared MOOLAI_THREADING_CONCURRENT): SQLite admits one
// writer at a time per database anyway, so writes go through ONE writer
// connection under a mutex -- no SQLITE_BUSY retry loops between our own
// threads, and BEGIN IMMEDIATE takes the file's write lock up front so a
// read-then-write transaction cannot be upgraded into a deadlock. Reads use
// connections of their own, lent one per call from a small pool: in WAL mode
// readers see the last committed snapshot and neither block nor are blocked
// by the writer, so listings stay fast while heartbeat batches are written.
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <moolai/sdk.hpp>

#include "storage_common/records.hpp"
#include "storage_common/storage_plugin.hpp"

namespace moolai::storage {
namespace {

class SqliteDialect final : public Dialect {
  public:
    std::string placeholder(size_t n) const override { return "?" + std::to_string(n); }
    std::string_view ddl(std::string_view token) const override {
        if (token == "TEXT") return "TEXT";
        if (token == "TS") return "INTEGER";  // Unix ms: exact and ordered like the wire times
        if (token == "JSON") return "TEXT";
        if (token == "MONEY") return "REAL";
        if (token == "SERIAL") return "INTEGER PRIMARY KEY AUTOINCREMENT";  // ids never reused
        if (token == "NOW") return "(CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))";
        if (token == "WEEK") return "604800000";  // %TS% is Unix ms
        return token;
    }
    std::string time_in(const std::string& param) const override { return param; }
    std::string time_out(const std::string& column) const override { return column; }
    std::string day_of(const std::string& column) const override {
        return "strftime('%Y-%m-%d', " + column + " / 1000, 'unixepoch')";
    }
    std::string hour_of(const std::string& column) const override {
        return "strftime('%Y-%m-%dT%H:00:00Z', " + column + " / 1000, 'unixepoch')";
    }
    // SQLite's LIKE folds ASCII letters only -- PostgreSQL's ILIKE over
    // COLLATE "C" columns does the same, so searches agree.
    std::string_view ilike() const override { return "LIKE"; }
    // The writer holds the database write lock from BEGIN IMMEDIATE.
    std::string_view lock_rows() const override { return ""; }
    std::string_view migration_lock() const override { return ""; }

    // SQLite has no arrays: the batch travels as one JSON parameter,
    // [[id, last_seen_ms, status], ...], unpacked by json_each.
    std::vector<std::string> heartbeat_batch(const std::vector<Beat>& beats,
                                             std::vector<Value>& params) const override {
        json rows = json::array();
        for (const Beat& b : beats)
            rows.push_back(json::array({std::string(b.orchestrator_id), b.last_seen_ms, b.status}));
        params = {rows.dump()};
        const std::string beat_rows =
            "(SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS ms,"
            " json_extract(value, '$[2]') AS st FROM json_each(?1)) AS b";
        const std::string status = "(CASE b.st WHEN " + std::to_string(MOOLAI_ORCH_ACTIVE) +
                                   " THEN 'active' ELSE 'inactive' END)";
        return {
            // "WHERE true": SQLite's parser needs it between a join and ON CONFLICT.
            "INSERT INTO orchestrator_liveness (orchestrator_id, last_seen)"
            " SELECT o.orchestrator_id, b.ms FROM " +
                beat_rows +
                " JOIN orchestrator_instances o ON o.orchestrator_id = b.id WHERE true"
                " ON CONFLICT (orchestrator_id) DO UPDATE SET last_seen = excluded.last_seen",
            "UPDATE orchestrator_instances SET status = " + status + " FROM " + beat_rows +
                " WHERE orchestrator_instances.orchestrator_id = b.id"
                " AND orchestrator_instances.status IS NOT " + status,
        };
    }
};

[[noreturn]] void sqlite_fail(sqlite3* db, int rc, const std::string& context) {
    Fault fault = Fault::Internal;
    switch (rc & 0xFF) {
        case SQLITE_CONSTRAINT:
            fault = rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE
                        ? Fault::Duplicate
                    : rc == SQLITE_CONSTRAINT_FOREIGNKEY ? Fault::MissingRef
                                                         : Fault::Invalid;
            break;
        case SQLITE_MISMATCH:
        case SQLITE_TOOBIG:
            fault = Fault::Invalid;
            break;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
        case SQLITE_CANTOPEN:
        case SQLITE_IOERR:
        case SQLITE_FULL:
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT:
        case SQLITE_PROTOCOL:
        case SQLITE_NOLFS:
            fault = Fault::Unavailable;
            break;
        default:
            break;
    }
    const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    throw DbError(fault, "sqlite: " + context + ": " + msg);
}

// One sqlite3 handle, used by one thread at a time (opened NOMUTEX).
class Connection final : public Tx {
  public:
    Connection(const std::string& path, int busy_timeout_ms, bool writer) {
        const int flags =
            SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
        const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
        if (rc != SQLITE_OK) {
            std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
            sqlite3_close_v2(db_);
            db_ = nullptr;
            throw DbError(Fault::Unavailable, "sqlite: cannot open " + path + ": " + msg);
        }
        sqlite3_extended_result_codes(db_, 1);
        sqlite3_busy_timeout(db_, busy_timeout_ms);
        // Per connection: enforce the cascades; NORMAL is durable in WAL mode
        // except for the last commits before a power loss, at a fraction of
        // FULL's fsyncs.
        run("PRAGMA foreign_keys = ON");
        run("PRAGMA synchronous = NORMAL");
        if (writer) {
            sqlite3_stmt* st = prepare("PRAGMA journal_mode = WAL");
            const bool wal =
                sqlite3_step(st) == SQLITE_ROW &&
                std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) ==
                    "wal";
            sqlite3_reset(st);
            if (!wal)
                throw DbError(Fault::Unavailable, "sqlite: cannot switch " + path + " to WAL mode");
        } else {
            run("PRAGMA query_only = ON");  // a reader that tries to write is a bug
        }
    }
    ~Connection() override {
        for (auto& [sql, st] : cache_) sqlite3_finalize(st);
        sqlite3_close_v2(db_);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // A statement without parameters or rows (PRAGMA, BEGIN, COMMIT).
    void run(const char* sql) {
        char* err = nullptr;
        const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
        sqlite3_free(err);
        if (rc != SQLITE_OK) sqlite_fail(db_, rc, sql);
    }

    // Runs `work` between `begin` and COMMIT; ROLLBACK when anything throws.
    void transaction(const char* begin, const std::function<void(Tx&)>& work) {
        run(begin);
        try {
            work(*this);
            run("COMMIT");
        } catch (...) {
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);  // may already be rolled back
            throw;
        }
    }

    int64_t exec(const std::string& sql, const std::vector<Value>& params,
                 const RowFn& on_row) override {
        sqlite3_stmt* st = prepare(sql);
        struct Reset {  // leaves the cached statement reusable on every exit
            sqlite3_stmt* st;
            ~Reset() {
                sqlite3_reset(st);
                sqlite3_clear_bindings(st);
            }
        } reset{st};
        for (size_t i = 0; i < params.size(); ++i) {
            const int n = static_cast<int>(i + 1);
            const int rc = std::visit(
                [&](const auto& v) -> int {
                    using V = std::decay_t<decltype(v)>;
                    if constexpr (std::is_same_v<V, std::nullptr_t>)
                        return sqlite3_bind_null(st, n);
                    else if constexpr (std::is_same_v<V, int64_t>)
                        return sqlite3_bind_int64(st, n, v);
                    else if constexpr (std::is_same_v<V, double>)
                        return sqlite3_bind_double(st, n, v);
                    else if constexpr (std::is_same_v<V, bool>)
                        return sqlite3_bind_int(st, n, v ? 1 : 0);
                    else
                        return sqlite3_bind_text64(st, n, v.data(), v.size(), SQLITE_TRANSIENT,
                                                   SQLITE_UTF8);
                },
                params[i]);
            if (rc != SQLITE_OK) sqlite_fail(db_, rc, "bind");
        }
        const int columns = sqlite3_column_count(st);
        Row row(static_cast<size_t>(columns));
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (!on_row) continue;
            for (int c = 0; c < columns; ++c) {
                if (sqlite3_column_type(st, c) == SQLITE_NULL) {
                    row[static_cast<size_t>(c)] = std::nullopt;
                } else {
                    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
                    row[static_cast<size_t>(c)] =
                        std::string_view(text, static_cast<size_t>(sqlite3_column_bytes(st, c)));
                }
            }
            on_row(row);
        }
        if (rc != SQLITE_DONE) sqlite_fail(db_, rc, "step");
        return sqlite3_changes64(db_);
    }

  private:
    // Prepared statements are cached per connection: the shared SQL is built
    // from a small set of shapes, so parsing it once pays off on hot calls.
    sqlite3_stmt* prepare(const std::string& sql) {
        if (auto it = cache_.find(sql); it != cache_.end()) return it->second;
        if (cache_.size() >= 256) {  // bound the cache; dynamic filters make many shapes
            for (auto& [s, st] : cache_) sqlite3_finalize(st);
            cache_.clear();
        }
        sqlite3_stmt* st = nullptr;
        const char* tail = nullptr;
        const int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                          SQLITE_PREPARE_PERSISTENT, &st, &tail);
        if (rc != SQLITE_OK) sqlite_fail(db_, rc, "prepare");
        cache_.emplace(sql, st);
        return st;
    }

    sqlite3* db_ = nullptr;
    std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

class SqliteBackend final : public Backend {
  public:
    SqliteBackend(std::string path, int busy_timeout_ms)
        : path_(std::move(path)), busy_ms_(busy_timeout_ms) {}

    const Dialect& dialect() const noexcept override { return dialect_; }

    // Opens (and creates) the file with the writer, which also switches it to
    // WAL before any reader exists.
    void open() override {
        std::lock_guard<std::mutex> lock(write_mu_);
        if (!writer_) writer_ = std::make_unique<Connection>(path_, busy_ms_, true);
    }

    void close() noexcept override {
        {
            std::lock_guard<std::mutex> lock(listen_mu_);
            listeners_.clear();
        }
        std::scoped_lock lock(write_mu_, pool_mu_);
        readers_.clear();
        writer_.reset();
    }

    // One process owns a SQLite file, so the channel between hosts is this
    // process: a notification goes straight to its listeners, on the
    // caller's thread (the host only queues it).
    bool can_notify() const noexcept override { return true; }
    void notify(const std::string& channel, const std::string& raw) override {
        std::vector<Deliver> to;
        {
            std::lock_guard<std::mutex> lock(listen_mu_);
            for (const auto& [ch, deliver] : listeners_)
                if (ch == channel) to.push_back(deliver);
        }
        for (const Deliver& deliver : to) deliver(channel, raw);
    }
    void listen(const std::string& channel, Deliver deliver) override {
        std::lock_guard<std::mutex> lock(listen_mu_);
        listeners_.emplace_back(channel, std::move(deliver));
    }

    void transact(Mode mode, const std::function<void(Tx&)>& work) override {
        if (mode == Mode::Write) {
            std::lock_guard<std::mutex> lock(write_mu_);
            if (!writer_) writer_ = std::make_unique<Connection>(path_, busy_ms_, true);
            writer_->transaction("BEGIN IMMEDIATE", work);
            return;
        }
        std::unique_ptr<Connection> reader = lend();
        struct GiveBack {
            SqliteBackend& self;
            std::unique_ptr<Connection>& conn;
            ~GiveBack() { self.give_back(std::move(conn)); }
        } give_back{*this, reader};
        reader->transaction("BEGIN", work);  // one snapshot for count + page
    }

  private:
    static constexpr size_t kMaxIdleReaders = 8;

    std::unique_ptr<Connection> lend() {
        {
            std::lock_guard<std::mutex> lock(pool_mu_);
            if (!readers_.empty()) {
                auto conn = std::move(readers_.back());
                readers_.pop_back();
                return conn;
            }
        }
        return std::make_unique<Connection>(path_, busy_ms_, false);
    }
    void give_back(std::unique_ptr<Connection> conn) {
        std::lock_guard<std::mutex> lock(pool_mu_);
        if (readers_.size() < kMaxIdleReaders) readers_.push_back(std::move(conn));
    }

    const std::string path_;
    const int busy_ms_;
    SqliteDialect dialect_;
    std::mutex write_mu_;
    std::unique_ptr<Connection> writer_;
    std::mutex pool_mu_;
    std::mutex listen_mu_;
    std::vector<std::pair<std::string, Deliver>> listeners_;
    std::vector<std::unique_ptr<Connection>> readers_;
};

std::unique_ptr<Backend> make_backend(std::string_view config_json) {
    const json config = config_json.empty() ? json::object() : parse_object(config_json, "config");
    std::string path;
    int64_t busy_ms = 5000;
    for (const auto& [key, value] : config.items()) {
        if (key == "path") {
            if (!value.is_string() || value.get_ref<const std::string&>().empty())
                invalid("config field 'path' must be a non-empty string");
            path = value.get<std::string>();
        } else if (key == "busy_timeout_ms") {
            if (!value.is_number_integer() || value.get<int64_t>() < 0 ||
                value.get<int64_t>() > 600000)
                invalid("config field 'busy_timeout_ms' must be an integer from 0 to 600000");
            busy_ms = value.get<int64_t>();
        } else {
            invalid("config field " + shown(key) + " is not known (path, busy_timeout_ms)");
        }
    }
    if (path.empty()) {
        const char* dir = std::getenv("MOOLAI_DATA_DIR");
        path = std::string(dir != nullptr && *dir != '\0' ? dir : "./data") + "/moolai.db";
    }
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec)
        throw sdk::Error(MOOLAI_E_UNAVAILABLE,
                         "cannot create directory " + parent.string() + ": " + ec.message());
    return std::make_unique<SqliteBackend>(path, static_cast<int>(busy_ms));
}

}  // namespace

class SqliteStorage final : public StoragePlugin {
  public:
    static constexpr const char* name = "storage_sqlite";
    static constexpr const char* version = "1.0.0";
    static constexpr const char* description = "Embedded storage in one SQLite file (WAL mode)";
    static constexpr const char* config_schema = R"({
  "type": "object",
  "properties": {
    "path": {"type": "string"},
    "busy_timeout_ms": {"type": "integer", "minimum": 0, "maximum": 600000, "default": 5000}
  },
  "additionalProperties": false
})";
    static constexpr uint32_t threading = MOOLAI_THREADING_CONCURRENT;

    SqliteStorage(sdk::Host host, std::string_view config_json)
        : StoragePlugin(host, make_backend(config_json)) {}
};

}  // namespace moolai::storage

MOOLAI_PLUGIN(moolai::storage::SqliteStorage);
