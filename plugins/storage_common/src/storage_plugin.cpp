// Every moolai_storage_v1 operation, written once over Backend/Dialect.
//
// Shape of an operation: check the arguments (INVALID / NOT_FOUND before
// touching the database), run one transaction that builds the output JSON,
// and write the output only after the transaction committed -- a driver may
// rerun the transaction after a lost connection, output must not double.
#include "storage_common/storage_plugin.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <unordered_map>
#include <utility>

#include "storage_common/audit_chain.hpp"
#include "storage_common/records.hpp"
#include "storage_common/schema.hpp"

namespace moolai::storage {

namespace {

constexpr uint64_t kDefaultLimit = 50;
constexpr uint64_t kMaxLimit = 1000;

[[noreturn]] void not_found(const Entity& e, std::string_view key) {
    throw sdk::Error(MOOLAI_E_NOT_FOUND, std::string(e.what) + " " + shown(key) + " not found");
}

// A key argument that no stored row can have (bad UTF-8, NUL, empty) is
// simply not found; it must not reach a driver that would reject it.
std::string key_arg(const Entity& e, Str key) {
    if (key.empty() || !storable(key)) not_found(e, key);
    return std::string(key);
}

std::string text_arg(Str s, const char* name) {
    if (!storable(s)) invalid(std::string(name) + " must be UTF-8 text without NUL characters");
    return std::string(s);
}

Status reply(Call& call, const ojson& out) {
    // A host may declare that a function takes no output; that is not our error.
    (void)call.output(dump(out));
    return MOOLAI_OK;
}

std::string new_message_id() {
    // mt19937_64 is trivially destructible, so this thread_local registers no
    // destructor that would outlive an unloaded plugin.
    thread_local std::mt19937_64 rng{(uint64_t(std::random_device{}()) << 32) ^
                                     std::random_device{}()};
    char buf[40];
    std::snprintf(buf, sizeof buf, "msg-%016llx%016llx", static_cast<unsigned long long>(rng()),
                  static_cast<unsigned long long>(rng()));
    return buf;
}

// Times from the ABI (query ranges, purge time, heartbeats) are any int64;
// both databases must see the same value, so they are clamped to years
// 0001..9999, which both represent (PostgreSQL would fail beyond its range).
int64_t clamp_time(int64_t ms) {
    constexpr int64_t kMin = -62135596800000;  // 0001-01-01T00:00:00Z
    constexpr int64_t kMax = 253402300799999;  // 9999-12-31T23:59:59.999Z
    return std::clamp(ms, kMin, kMax);
}

// Parameters and WHERE conditions of one query under construction.
struct Sql {
    explicit Sql(const Dialect& dialect) : d(dialect) {}
    const Dialect& d;
    std::vector<Value> params;
    std::vector<std::string> where;

    // Constructs the parameter in place: moving a whole Value makes g++ 12
    // at -O3 warn falsely (maybe-uninitialized in the variant's string).
    template <class T>
    std::string bind(T&& v) {
        params.emplace_back(std::forward<T>(v));
        return d.placeholder(params.size());
    }
    std::string bind_time(int64_t ms) {
        params.emplace_back(clamp_time(ms));
        return d.time_in(d.placeholder(params.size()));
    }
    std::string where_sql() const {
        std::string s;
        for (const auto& c : where) s += (s.empty() ? " WHERE " : " AND ") + c;
        return s;
    }
    // Filters documented per list function; an empty value means "no filter".
    void eq(std::string_view column, Str value, const char* name) {
        if (!value.empty())
            where.push_back(std::string(column) + " = " + bind(text_arg(value, name)));
    }
    void search(std::initializer_list<std::string_view> columns, Str needle) {
        if (needle.empty()) return;
        const std::string p = bind(like_contains(text_arg(needle, "query.search")));
        std::string any;
        for (auto c : columns)
            any += (any.empty() ? "" : " OR ") + std::string(c) + " " + std::string(d.ilike()) +
                   " " + p + " ESCAPE '\\'";
        where.push_back("(" + any + ")");
    }
    void time_range(std::string_view column, const moolai_query& q) {
        if (q.from_ms != 0) where.push_back(std::string(column) + " >= " + bind_time(q.from_ms));
        if (q.to_ms != 0) where.push_back(std::string(column) + " < " + bind_time(q.to_ms));
    }
    void page(std::string& sql, uint64_t limit, uint64_t offset) {
        sql += " LIMIT " + bind(static_cast<int64_t>(limit)) + " OFFSET " +
               bind(static_cast<int64_t>(offset));
    }
};

uint64_t page_limit(const moolai_query& q) {
    return q.limit == 0 ? kDefaultLimit : std::min(q.limit, kMaxLimit);
}
uint64_t page_offset(const moolai_query& q) {
    return std::min<uint64_t>(q.offset, std::numeric_limits<int64_t>::max());
}

// "created_at DESC, id" -> "created_at ASC, id DESC". Every listing order
// ends in a unique key, so the reversed order is exactly the reverse; NULLs
// move to the other end in both databases, as they must.
std::string reverse_order(std::string_view order) {
    std::string out;
    while (!order.empty()) {
        const size_t comma = order.find(',');
        std::string_view item = order.substr(0, comma);
        order = comma == std::string_view::npos ? std::string_view() : order.substr(comma + 1);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        bool desc = false;
        for (std::string_view dir : {std::string_view(" DESC"), std::string_view(" ASC")}) {
            if (item.size() > dir.size() && item.substr(item.size() - dir.size()) == dir) {
                desc = dir == " DESC";
                item.remove_suffix(dir.size());
            }
        }
        if (!out.empty()) out += ", ";
        out += std::string(item) + (desc ? " ASC" : " DESC");
    }
    return out;
}

// The ORDER BY of one listing: the entity's own, or (1.3) the field the
// host asked for in query.sort, NULLs last in both directions, text
// without regard to ASCII case first (then bytewise), ties broken by the
// key ascending so that pages neither overlap nor skip.
struct Order {
    std::string sql;
    std::string sort;  // the field applied; empty = the default order
    bool descending = false;
};

// A sortable field of a listing; `expr` replaces the column when the field
// is computed (an orchestrator's status reads "independent" when flagged).
struct Sortable {
    std::string_view field;
    std::string_view expr = {};
};

Order order_of(const Entity& e, const moolai_query& q, std::initializer_list<Sortable> fields) {
    Order o{std::string(e.order), {}, false};
    // A query from a host older than 1.3 ends before these fields: what
    // MOOLAI_HAS_FIELD(query, moolai_query, descending) says, spelled out
    // because a reference is never NULL (g++ warns at the macro's check).
    if (offsetof(moolai_query, descending) + sizeof q.descending > q.struct_size) return o;
    const Str name = sdk::view(q.sort);
    if (name.empty()) return o;
    const Sortable* s = nullptr;
    std::string names;
    for (const Sortable& f : fields) {
        if (f.field == name) s = &f;
        names += (names.empty() ? "" : ", ") + std::string(f.field);
    }
    if (s == nullptr)
        invalid("query.sort " + shown(name) + " cannot order this listing; one of: " + names);
    const Field* f = e.field(s->field);
    const std::string table(e.table), key(e.key);
    std::string x;
    if (!s->expr.empty()) {
        x = std::string(s->expr);
    } else if (f != nullptr && f->has(SIDE)) {
        const std::string side(e.side_table);
        x = "(SELECT " + side + "." + std::string(f->name) + " FROM " + side + " WHERE " + side +
            "." + key + " = " + table + "." + key + ")";
    } else {
        x = table + "." + std::string(s->field);
    }
    const bool desc = q.descending != 0;
    const char* dir = desc ? " DESC" : " ASC";
    const bool required = f != nullptr && f->has(KEY | REQUIRED);
    const bool text = f == nullptr || f->kind == Kind::Text;
    std::string sql;
    if (!required) sql += "(" + x + " IS NULL) ASC, ";
    // LOWER folds ASCII letters only on both backends (PostgreSQL's text is
    // COLLATE "C"), so the two agree row for row.
    if (text) sql += "LOWER(" + x + ")" + dir + ", ";
    sql += x + dir;
    if (f == nullptr || !f->has(KEY)) sql += ", " + table + "." + key + " ASC";
    o.sql = std::move(sql);
    o.sort = std::string(name);
    o.descending = desc;
    return o;
}

// One transaction's worth of record operations.
struct Work {
    Tx& tx;
    const Dialect& d;
    int64_t now;

    std::optional<ojson> fetch(const Entity& e, const Value& key, bool secrets = false,
                               bool lock = false) {
        const Projection p = project(e, d, secrets);
        Sql q{d};
        const std::string sql = "SELECT " + p.columns + " FROM " + std::string(e.table) +
                                " WHERE " + std::string(e.key) + " = " + q.bind(key) +
                                std::string(lock ? d.lock_rows() : "");
        std::optional<ojson> out;
        tx.exec(sql, q.params, [&](const Row& r) { out = to_record(p, r); });
        return out;
    }

    ojson get(const Entity& e, const std::string& key, bool secrets = false) {
        auto rec = fetch(e, key, secrets);
        if (!rec) not_found(e, key);
        return std::move(*rec);
    }

    bool exists(const Entity& e, const Value& key) {
        Sql q{d};
        bool found = false;
        tx.exec("SELECT 1 FROM " + std::string(e.table) + " WHERE " + std::string(e.key) + " = " +
                    q.bind(key),
                q.params, [&](const Row&) { found = true; });
        return found;
    }

    // A reference to a missing record is NOT_FOUND naming the field; the
    // foreign key (where there is one) backs this up against races.
    void check_ref(const Field& f, const Value& v) {
        if (f.ref == nullptr || !std::holds_alternative<std::string>(v)) return;
        if (!exists(*f.ref, v))
            throw sdk::Error(MOOLAI_E_NOT_FOUND,
                             "field '" + std::string(f.name) + "': " + std::string(f.ref->what) +
                                 " " + shown(std::get<std::string>(v)) + " not found");
    }

    // Inserts a validated record; returns its key as stored.
    Value insert(const Entity& e, const json& rec) {
        Sql q{d};
        std::string cols, vals;
        std::vector<const Field*> refs;
        std::vector<size_t> ref_at;
        auto add = [&](const Field& f, Value v) {
            if (f.ref != nullptr) {
                refs.push_back(&f);
                ref_at.push_back(q.params.size());
            }
            const std::string p = q.bind(std::move(v));
            cols += (cols.empty() ? "" : ", ") + std::string(f.name);
            vals += (vals.empty() ? "" : ", ") + (f.kind == Kind::Time ? d.time_in(p) : p);
        };
        Side side;
        for (const Field& f : e.fields) {
            if (f.has(STAMP)) {
                add(f, now);
                continue;
            }
            if (f.has(AUTO)) continue;  // the column default, or the operation sets it
            const auto it = rec.find(std::string(f.name));
            if (it == rec.end()) {
                if (f.has(KEY | REQUIRED))
                    invalid("missing required field '" + std::string(f.name) + "'");
                if (f.has(DEFAULT_NOW)) add(f, now);
                continue;
            }
            if (f.has(SIDE)) {
                side.emplace_back(&f, to_value(f, *it));
                continue;
            }
            add(f, to_value(f, *it));
        }
        if (e.check) e.check(rec);
        // References only once the input is valid: INVALID wins over NOT_FOUND.
        for (size_t i = 0; i < refs.size(); ++i) check_ref(*refs[i], q.params[ref_at[i]]);
        const std::string sql = "INSERT INTO " + std::string(e.table) + " (" + cols + ") VALUES (" +
                                vals + ") RETURNING " + std::string(e.key);
        std::optional<std::string> key;
        try {
            tx.exec(sql, q.params, [&](const Row& r) { key = std::string(r.at(0).value_or("")); });
        } catch (const DbError& err) {
            if (err.fault() != Fault::Duplicate) throw;
            const auto k = rec.find(std::string(e.key));
            throw sdk::Error(
                MOOLAI_E_CONFLICT,
                std::string(e.what) + " " +
                    shown(k != rec.end() && k->is_string() ? k->get<std::string>() : "") +
                    " already exists");
        }
        if (!key) throw DbError(Fault::Internal, "INSERT returned no key");
        const Value stored =
            e.field(e.key)->kind == Kind::Int ? Value(cell_int(Cell(*key))) : Value(*key);
        write_side(e, stored, side);
        return stored;
    }

    using Side = std::vector<std::pair<const Field*, Value>>;

    // The SIDE fields of one record: an upsert of its side row; NULL for all
    // of them removes the row (which reads as NULL).
    void write_side(const Entity& e, const Value& key, const Side& side) {
        if (side.empty()) return;
        const std::string table(e.side_table), k(e.key);
        Sql q{d};
        const bool all_null = std::all_of(side.begin(), side.end(), [](const auto& s) {
            return std::holds_alternative<std::nullptr_t>(s.second);
        });
        if (all_null) {
            tx.exec("DELETE FROM " + table + " WHERE " + k + " = " + q.bind(key), q.params);
            return;
        }
        std::string cols = k, vals = q.bind(key), sets;
        for (const auto& [f, v] : side) {
            const std::string p = q.bind(v);
            const std::string name(f->name);
            cols += ", " + name;
            vals += ", " + (f->kind == Kind::Time ? d.time_in(p) : p);
            sets += (sets.empty() ? "" : ", ") + name + " = excluded." + name;
        }
        tx.exec("INSERT INTO " + table + " (" + cols + ") VALUES (" + vals + ") ON CONFLICT (" + k +
                    ") DO UPDATE SET " + sets,
                q.params);
    }

    // Applies a JSON patch. Unknown fields are ignored (a newer host may send
    // more), storage-owned fields too; the key may be repeated but not changed.
    // `only`, when given, is the complete list of fields the patch may name.
    void update(const Entity& e, const std::string& key, const json& patch,
                const std::vector<std::string_view>& only = {}) {
        Sql q{d};
        std::string sets;
        Side side;
        std::vector<std::pair<const Field*, size_t>> refs;  // field, index of its parameter
        auto set = [&](const Field& f, Value v) {
            const std::string p = q.bind(std::move(v));
            sets += (sets.empty() ? "" : ", ") + std::string(f.name) + " = " +
                    (f.kind == Kind::Time ? d.time_in(p) : p);
        };
        for (const auto& [name, v] : patch.items()) {
            const Field* f = e.field(name);
            if (!only.empty()) {
                if (std::find(only.begin(), only.end(), name) == only.end())
                    invalid("field " + shown(name) + " cannot be changed by this function");
            } else if (f == nullptr || f->has(AUTO | STAMP)) {
                continue;
            } else if (f->has(KEY)) {
                if (v != json(key)) invalid("field '" + name + "' cannot be changed");
                continue;
            }
            if (f->has(SIDE)) {
                side.emplace_back(f, to_value(*f, v));
                continue;
            }
            set(*f, to_value(*f, v));
            if (f->ref != nullptr) refs.emplace_back(f, q.params.size() - 1);
        }
        if (e.check) {  // the rule needs the whole record as it will be
            auto current = fetch(e, key, true, true);
            if (!current) not_found(e, key);
            json merged(*current);
            for (const auto& [name, v] : patch.items())
                if (e.field(name) != nullptr) merged[name] = v;
            e.check(merged);
        }
        for (const auto& [f, at] : refs) check_ref(*f, q.params[at]);
        if (sets.empty() && side.empty()) {  // nothing to change; still say whether it exists
            if (!exists(e, key)) not_found(e, key);
            return;
        }
        if (e.has_updated_at()) set(*e.field("updated_at"), now);
        if (sets.empty()) {
            if (!exists(e, key)) not_found(e, key);
        } else {
            const std::string sql = "UPDATE " + std::string(e.table) + " SET " + sets + " WHERE " +
                                    std::string(e.key) + " = " + q.bind(key);
            if (tx.exec(sql, q.params) == 0) not_found(e, key);
        }
        write_side(e, key, side);
    }

    void remove(const Entity& e, const std::string& key) {
        Sql q{d};
        const std::string sql = "DELETE FROM " + std::string(e.table) + " WHERE " +
                                std::string(e.key) + " = " + q.bind(key);
        if (tx.exec(sql, q.params) == 0) not_found(e, key);
    }

    // {"items":[...],"total":N}; `filters` holds the WHERE conditions. It is
    // copied, not extended: a rerun transaction must start from the same state.
    ojson list(const Entity& e, const Sql& filters, const moolai_query& query,
               const Order& sorted = {}) {
        const std::string source(e.table);
        const std::string where = filters.where_sql();
        int64_t total = 0;
        tx.exec("SELECT COUNT(*) FROM " + source + where, filters.params,
                [&](const Row& r) { total = cell_int(r.at(0)); });
        // The page's keys first, the columns only for those rows: with OFFSET
        // the database would otherwise compute every column of every skipped
        // row (PostgreSQL's time conversions made a deep page of 50,000 cost
        // ~50 ms; keys alone come from the primary key index).
        // A page in the back half is found from the other end (the count,
        // from the same snapshot, says where that is): the walk is at most
        // half the rows instead of all of them.
        const Projection p = project(e, d, false);
        const std::string key(e.key);
        const std::string order = sorted.sql.empty() ? std::string(e.order) : sorted.sql;
        const uint64_t limit = page_limit(query), offset = page_offset(query);
        const uint64_t rows = static_cast<uint64_t>(std::max<int64_t>(total, 0));
        std::string page = "SELECT " + key + " FROM " + source + where + " ORDER BY ";
        Sql q = filters;
        if (offset < rows && offset > rows / 2) {
            const uint64_t end = std::min(rows, offset + limit);  // one past the page's last row
            page += reverse_order(order);
            q.page(page, end - offset, rows - end);
        } else {
            page += order;
            q.page(page, limit, offset);
        }
        const std::string sql = "SELECT " + p.columns + " FROM " + source + " WHERE " + key +
                                " IN (" + page + ") ORDER BY " + order;
        ojson items = ojson::array();
        tx.exec(sql, q.params, [&](const Row& r) { items.push_back(to_record(p, r)); });
        ojson out{{"items", std::move(items)}, {"total", total}};
        if (!sorted.sort.empty()) {  // 1.3: tells the host its sort was applied
            out["sort"] = sorted.sort;
            out["order"] = sorted.descending ? "desc" : "asc";
        }
        return out;
    }

    ojson create(const Entity& e, const json& rec, bool secrets = false) {
        const Value key = insert(e, rec);
        auto out = fetch(e, key, secrets);
        if (!out) throw DbError(Fault::Internal, "inserted record not found");
        return std::move(*out);
    }
};

}  // namespace

// ---- plumbing -------------------------------------------------------------------

namespace {
// Runs every transaction twice: once rolled back, then for real. Switched on
// by MOOLAI_STORAGE_REPLAY_TRANSACTIONS=1 (the test suite does), it proves
// what Backend::transact demands of every operation: a transaction rerun
// after a lost connection gives the same result and no duplicate effects.
class ReplayBackend final : public Backend {
  public:
    explicit ReplayBackend(std::unique_ptr<Backend> inner) : inner_(std::move(inner)) {}
    const Dialect& dialect() const noexcept override { return inner_->dialect(); }
    void open() override { inner_->open(); }
    void close() noexcept override { inner_->close(); }
    void transact(Mode mode, const std::function<void(Tx&)>& work) override {
        struct Replay {};
        try {
            inner_->transact(mode, [&](Tx& tx) {
                work(tx);
                throw Replay{};  // roll the first run back
            });
        } catch (const Replay&) {
        }
        inner_->transact(mode, work);
    }
    bool can_notify() const noexcept override { return inner_->can_notify(); }
    void notify(const std::string& channel, const std::string& raw) override {
        inner_->notify(channel, raw);
    }
    void listen(const std::string& channel, Deliver deliver) override {
        inner_->listen(channel, std::move(deliver));
    }

  private:
    std::unique_ptr<Backend> inner_;
};

std::unique_ptr<Backend> maybe_replay(std::unique_ptr<Backend> backend, const sdk::Host& host) {
    const char* on = std::getenv("MOOLAI_STORAGE_REPLAY_TRANSACTIONS");
    if (on == nullptr || std::string_view(on) != "1") return backend;
    host.warn(
        "storage: MOOLAI_STORAGE_REPLAY_TRANSACTIONS=1, every transaction runs twice (testing "
        "aid)");
    return std::make_unique<ReplayBackend>(std::move(backend));
}

// Runs `body` in one transaction and returns what it built.
template <class Body>
ojson run(Backend& db, int64_t now, Mode mode, Body&& body) {
    ojson out;
    db.transact(mode, [&](Tx& tx) {
        Work w{tx, db.dialect(), now};
        out = body(w);
    });
    return out;
}
}  // namespace

StoragePlugin::StoragePlugin(sdk::Host host, std::unique_ptr<Backend> backend)
    : sdk::Plugin(host), db_(maybe_replay(std::move(backend), host)) {}

StoragePlugin::~StoragePlugin() = default;

Status StoragePlugin::start(Call&) {
    db_->open();
    return MOOLAI_OK;
}

void StoragePlugin::stop() noexcept {
    db_->close();
}

// ---- schema -----------------------------------------------------------------------

Status StoragePlugin::migrate(Call& call) {
    const Dialect& d = sql();
    auto lock = [&](Tx& tx) {
        if (!d.migration_lock().empty()) tx.exec(std::string(d.migration_lock()), {});
    };
    db_->transact(Mode::Write, [&](Tx& tx) {
        lock(tx);
        tx.exec(render_ddl(kMigrationsTable, d), {});
    });
    ojson applied = ojson::array();
    for (const Migration& m : migrations()) {
        bool done = false;  // set by the attempt that commits
        db_->transact(Mode::Write, [&](Tx& tx) {
            done = false;
            lock(tx);
            Sql q{d};
            bool present = false;
            tx.exec("SELECT 1 FROM schema_migrations WHERE version = " + q.bind(int64_t{m.version}),
                    q.params, [&](const Row&) { present = true; });
            if (present) return;
            for (const char* statement : m.statements) tx.exec(render_ddl(statement, d), {});
            Sql ins{d};
            tx.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (" +
                        ins.bind(int64_t{m.version}) + ", " + ins.bind(std::string(m.name)) + ", " +
                        ins.bind_time(now()) + ")",
                    ins.params);
            done = true;
        });
        if (done) applied.push_back(m.version);
    }
    int64_t version = 0;
    db_->transact(Mode::Read, [&](Tx& tx) {
        tx.exec("SELECT MAX(version) FROM schema_migrations", {},
                [&](const Row& r) { version = cell_int(r.at(0)); });
    });
    return reply(call, ojson{{"schema_version", version}, {"applied", applied}});
}

Status StoragePlugin::ping(Call& call) {
    try {
        db_->transact(Mode::Read, [](Tx& tx) { tx.exec("SELECT 1", {}); });
    } catch (const std::exception& e) {
        return call.fail(MOOLAI_E_UNAVAILABLE, e.what());
    }
    return MOOLAI_OK;
}

// ---- organizations --------------------------------------------------------------

Status StoragePlugin::org_create(Call& call, Str record_json) {
    const json rec = parse_object(record_json, "record_json");
    return reply(
        call, run(*db_, now(), Mode::Write, [&](Work& w) { return w.create(kOrganization, rec); }));
}

Status StoragePlugin::org_update(Call& call, Str organization_id, Str patch_json) {
    const std::string id = key_arg(kOrganization, organization_id);
    const json patch = parse_object(patch_json, "patch_json");
    return reply(call, run(*db_, now(), Mode::Write, [&](Work& w) {
                     w.update(kOrganization, id, patch);
                     return w.get(kOrganization, id);
                 }));
}

Status StoragePlugin::org_get(Call& call, Str organization_id) {
    const std::string id = key_arg(kOrganization, organization_id);
    return reply(call,
                 run(*db_, now(), Mode::Read, [&](Work& w) { return w.get(kOrganization, id); }));
}

Status StoragePlugin::org_list(Call& call, const moolai_query& query) {
    Sql q{sql()};
    q.search({"organization_id", "name"}, sdk::view(query.search));
    const Order o = order_of(kOrganization, query,
                             {{"organization_id"}, {"name"}, {"location"}, {"created_at"},
                              {"updated_at"}});
    return reply(call, run(*db_, now(), Mode::Read,
                           [&](Work& w) { return w.list(kOrganization, q, query, o); }));
}

Status StoragePlugin::org_delete(Call&, Str organization_id) {
    const std::string id = key_arg(kOrganization, organization_id);
    run(*db_, now(), Mode::Write, [&](Work& w) {
        w.remove(kOrganization, id);  // cascades to orchestrators and their messages
        return ojson();
    });
    return MOOLAI_OK;
}

// ---- orchestrators --------------------------------------------------------------

Status StoragePlugin::orch_create(Call& call, Str record_json) {
    const json rec = parse_object(record_json, "record_json");
    return reply(
        call, run(*db_, now(), Mode::Write, [&](Work& w) { return w.create(kOrchestrator, rec); }));
}

Status StoragePlugin::orch_update(Call& call, Str orchestrator_id, Str patch_json) {
    const std::string id = key_arg(kOrchestrator, orchestrator_id);
    const json patch = parse_object(patch_json, "patch_json");
    return reply(call, run(*db_, now(), Mode::Write, [&](Work& w) {
                     w.update(kOrchestrator, id, patch);
                     return w.get(kOrchestrator, id);
                 }));
}

Status StoragePlugin::orch_get(Call& call, Str orchestrator_id) {
    const std::string id = key_arg(kOrchestrator, orchestrator_id);
    return reply(call,
                 run(*db_, now(), Mode::Read, [&](Work& w) { return w.get(kOrchestrator, id); }));
}

Status StoragePlugin::orch_list(Call& call, const moolai_query& query) {
    Sql q{sql()};
    q.eq("organization_id", sdk::view(query.organization_id), "query.organization_id");
    const Str status = sdk::view(query.status);
    if (status == "independent") {
        q.where.emplace_back("is_independent = TRUE");
    } else if (!status.empty()) {  // a stored status, and not overridden by independence
        q.eq("status", status, "query.status");
        q.where.emplace_back("is_independent = FALSE");
    }
    q.search({"orchestrator_id", "name"}, sdk::view(query.search));
    const Order o = order_of(
        kOrchestrator, query,
        {{"orchestrator_id"},
         {"name"},
         {"organization_id"},
         {"organization_name"},
         {"location"},
         // as listed: independence overrides the stored status
         {"status",
          "CASE WHEN orchestrator_instances.is_independent = TRUE THEN 'independent' ELSE "
          "orchestrator_instances.status END"},
         {"last_seen"},
         {"created_at"}});
    return reply(call, run(*db_, now(), Mode::Read,
                           [&](Work& w) { return w.list(kOrchestrator, q, query, o); }));
}

Status StoragePlugin::orch_delete(Call&, Str orchestrator_id) {
    const std::string id = key_arg(kOrchestrator, orchestrator_id);
    run(*db_, now(), Mode::Write, [&](Work& w) {
        w.remove(kOrchestrator, id);  // cascades to its messages
        return ojson();
    });
    return MOOLAI_OK;
}

namespace {
// Thrown through the driver when the scan callback asks to stop.
struct ScanStopped {
    Status status;
};
}  // namespace

Status StoragePlugin::orch_scan(Call& call, moolai_orchestrator_row_fn fn, void* cookie) {
    const Dialect& d = sql();
    const std::string query =
        "SELECT o.orchestrator_id, o.organization_id, o.name, o.credential_hash, o.status, " +
        d.time_out("l.last_seen") +
        ", o.is_independent FROM orchestrator_instances o LEFT JOIN orchestrator_liveness l"
        " ON l.orchestrator_id = o.orchestrator_id ORDER BY o.orchestrator_id";
    auto str = [](const Cell& c) { return c ? sdk::str(*c) : moolai_str{nullptr, 0}; };
    bool delivered = false;  // a retried transaction must not deliver twice
    try {
        db_->transact(Mode::Read, [&](Tx& tx) {
            if (delivered) return;
            tx.exec(query, {}, [&](const Row& r) {
                moolai_orchestrator_row row{};
                row.struct_size = sizeof row;
                row.orchestrator_id = str(r[0]);
                row.organization_id = str(r[1]);
                row.name = str(r[2]);
                row.credential_hash = str(r[3]);
                row.status =
                    r[4] == std::string_view("active") ? MOOLAI_ORCH_ACTIVE : MOOLAI_ORCH_INACTIVE;
                row.last_seen_ms = cell_int(r[5]);
                row.is_independent = cell_bool(r[6]) ? 1u : 0u;
                const Status s = fn(cookie, &row);
                if (s != MOOLAI_OK) throw ScanStopped{s};
            });
            delivered = true;
        });
    } catch (const ScanStopped& stopped) {
        return call.fail(stopped.status, "orch_scan stopped: the row callback returned status " +
                                             std::to_string(stopped.status));
    }
    return MOOLAI_OK;
}

Status StoragePlugin::orch_set_independence(Call& call, Str orchestrator_id, bool is_independent) {
    const std::string id = key_arg(kOrchestrator, orchestrator_id);
    return reply(
        call, run(*db_, now(), Mode::Write, [&](Work& w) {
            // Read and write under a row lock, so two toggles racing
            // each report the old value they really replaced.
            Sql q{w.d};
            std::optional<bool> old;
            w.tx.exec("SELECT is_independent FROM orchestrator_instances WHERE orchestrator_id = " +
                          q.bind(id) + std::string(w.d.lock_rows()),
                      q.params, [&](const Row& r) { old = cell_bool(r.at(0)); });
            if (!old) not_found(kOrchestrator, id);
            if (*old != is_independent) {
                Sql u{w.d};
                w.tx.exec("UPDATE orchestrator_instances SET is_independent = " +
                              u.bind(is_independent) + ", updated_at = " + u.bind_time(w.now) +
                              " WHERE orchestrator_id = " + u.bind(id),
                          u.params);
            }
            return ojson{{"old", *old}, {"new", is_independent}};
        }));
}

Status StoragePlugin::orch_set_credential(Call&, Str orchestrator_id, Str credential_hash) {
    const std::string id = key_arg(kOrchestrator, orchestrator_id);
    const Field& f = *kOrchestrator.field("credential_hash");
    const Value hash = credential_hash.empty()
                           ? Value(nullptr)
                           : to_value(f, json(text_arg(credential_hash, "credential_hash")));
    run(*db_, now(), Mode::Write, [&](Work& w) {
        Sql q{w.d};
        const std::string statement =
            "UPDATE orchestrator_instances SET credential_hash = " + q.bind(hash) +
            ", updated_at = " + q.bind_time(w.now) + " WHERE orchestrator_id = " + q.bind(id);
        if (w.tx.exec(statement, q.params) == 0) not_found(kOrchestrator, id);
        return ojson();
    });
    return MOOLAI_OK;
}

std::vector<std::string> StoragePlugin::beat_statements(const moolai_heartbeat_row* rows,
                                                       uint64_t count, uint64_t row_size,
                                                       std::vector<Value>& params) const {
    // One row per orchestrator (the newest wins) keeps the single UPDATE
    // deterministic; ids no row can have are skipped like unknown ones.
    std::vector<Dialect::Beat> beats;
    std::unordered_map<std::string_view, size_t> seen;
    beats.reserve(static_cast<size_t>(std::min<uint64_t>(count, 1u << 20)));
    for (uint64_t i = 0; i < count; ++i) {
        const moolai_heartbeat_row& r = sdk::row_at(rows, i, row_size);
        if (r.status != MOOLAI_ORCH_ACTIVE && r.status != MOOLAI_ORCH_INACTIVE)
            invalid("heartbeat row " + std::to_string(i) +
                    ": status must be MOOLAI_ORCH_ACTIVE or MOOLAI_ORCH_INACTIVE");
        const Str id = sdk::view(r.orchestrator_id);
        if (id.empty() || !storable(id)) continue;
        const auto [it, fresh] = seen.emplace(id, beats.size());
        const int64_t seen_ms = clamp_time(r.last_seen_ms);
        if (fresh)
            beats.push_back({id, seen_ms, r.status});
        else if (beats[it->second].last_seen_ms <= seen_ms)
            beats[it->second] = {id, seen_ms, r.status};
    }
    if (beats.empty()) return {};
    // Rows locked in one order by every host sharing the database: two
    // batches that overlap wait for each other instead of deadlocking.
    std::sort(beats.begin(), beats.end(), [](const Dialect::Beat& a, const Dialect::Beat& b) {
        return a.orchestrator_id < b.orchestrator_id;
    });
    return sql().heartbeat_batch(beats, params);
}

Status StoragePlugin::heartbeats_write(Call&, const moolai_heartbeat_row* rows, uint64_t count,
                                       uint64_t row_size) {
    std::vector<Value> params;
    const std::vector<std::string> statements = beat_statements(rows, count, row_size, params);
    if (statements.empty()) return MOOLAI_OK;
    db_->transact(Mode::Write, [&](Tx& tx) {
        for (const std::string& statement : statements) tx.exec(statement, params);
    });
    return MOOLAI_OK;
}

// ---- messages --------------------------------------------------------------------

namespace {
const std::vector<std::string_view> kDeliveryFields = {
    "delivery_state", "delivery_attempts", "delivered_at", "acknowledged_at", "ended_at"};

// Delivery states after which nothing changes any more.
constexpr const char* kEndedStates = "('acknowledged', 'expired', 'cancelled')";
bool delivery_ended(std::string_view state) {
    return state == "acknowledged" || state == "expired" || state == "cancelled";
}
}  // namespace

Status StoragePlugin::msg_create(Call& call, Str record_json) {
    json rec = parse_object(record_json, "record_json");
    if (!rec.contains("id") || rec["id"].is_null()) rec["id"] = new_message_id();
    // status, delivery_state and delivery_attempts are storage-owned (AUTO):
    // a message is always born "pending" and undelivered.
    return reply(call,
                 run(*db_, now(), Mode::Write, [&](Work& w) { return w.create(kMessage, rec); }));
}

Status StoragePlugin::msg_get(Call& call, Str message_id) {
    const std::string id = key_arg(kMessage, message_id);
    return reply(call, run(*db_, now(), Mode::Read, [&](Work& w) { return w.get(kMessage, id); }));
}

Status StoragePlugin::msg_list(Call& call, const moolai_query& query) {
    Sql q{sql()};
    q.eq("orchestrator_id", sdk::view(query.orchestrator_id), "query.orchestrator_id");
    if (query.organization_id.len != 0)
        q.where.push_back(
            "orchestrator_id IN (SELECT orchestrator_id FROM orchestrator_instances WHERE "
            "organization_id = " +
            q.bind(text_arg(sdk::view(query.organization_id), "query.organization_id")) + ")");
    // Besides a review status, `status` takes two selectors of the delivery
    // lifecycle (plugin_api.h, msg_list): the host's redelivery and expiry
    // sweep ask storage for exactly the rows they act on, whatever the rows
    // around them are.
    const Str status = sdk::view(query.status);
    const int64_t at = now();
    if (status == "undelivered") {
        q.where.push_back("status = 'accepted'");
        q.where.push_back(std::string("delivery_state NOT IN ") + kEndedStates);
        q.where.push_back("(expires_at IS NULL OR expires_at > " + q.bind_time(at) + ")");
    } else if (status == "overdue") {
        q.where.push_back("status <> 'dismissed'");
        q.where.push_back(std::string("delivery_state NOT IN ") + kEndedStates);
        q.where.push_back("expires_at <= " + q.bind_time(at));
    } else {
        q.eq("status", status, "query.status");
    }
    q.eq("message_type", sdk::view(query.kind), "query.kind");
    q.search({"content"}, sdk::view(query.search));
    const Order o = order_of(kMessage, query,
                             {{"id"},
                              {"created_at"},
                              {"orchestrator_id"},
                              {"message_type"},
                              {"status"},
                              {"delivery_state"}});
    return reply(call, run(*db_, at, Mode::Read,
                           [&](Work& w) { return w.list(kMessage, q, query, o); }));
}

Status StoragePlugin::msg_set_status(Call& call, Str message_id, Str expected, Str status) {
    const std::string id = key_arg(kMessage, message_id);
    const Value next = to_value(*kMessage.field("status"), json(text_arg(status, "status")));
    return reply(
        call, run(*db_, now(), Mode::Write, [&](Work& w) {
            // One conditional UPDATE is the compare-and-set: no window
            // between reading the old status and writing the new one.
            int64_t changed = 0;
            if (storable(expected)) {
                Sql q{w.d};
                changed = w.tx.exec("UPDATE orchestrator_messages SET status = " + q.bind(next) +
                                        ", updated_at = " + q.bind_time(w.now) +
                                        " WHERE id = " + q.bind(id) +
                                        " AND status = " + q.bind(std::string(expected)),
                                    q.params);
            }
            ojson rec = w.get(kMessage, id);  // NOT_FOUND when missing
            if (changed == 0)
                throw sdk::Error(MOOLAI_E_CONFLICT, "message " + shown(id) + " is " +
                                                        shown(rec["status"].get<std::string>()) +
                                                        ", not " + shown(expected));
            return rec;
        }));
}

Status StoragePlugin::msg_update_delivery(Call& call, Str message_id, Str patch_json) {
    const std::string id = key_arg(kMessage, message_id);
    const json patch = parse_object(patch_json, "patch_json");
    return reply(call, run(*db_, now(), Mode::Write, [&](Work& w) {
                     // An ended delivery stays ended: a late "sent" must not
                     // revive a cancelled or expired message, and a cancel
                     // must not undo an acknowledgement. Checked on the row
                     // locked for this transaction, so hosts sharing one
                     // database cannot interleave here.
                     const auto next = patch.find("delivery_state");
                     if (next != patch.end()) {
                         auto current = w.fetch(kMessage, id, false, true);
                         if (!current) not_found(kMessage, id);
                         const std::string was = (*current)["delivery_state"].get<std::string>();
                         if (delivery_ended(was) && *next != json(was))
                             throw sdk::Error(MOOLAI_E_CONFLICT, "message " + shown(id) + " is " +
                                                                     shown(was) +
                                                                     ": its delivery has ended");
                     }
                     w.update(kMessage, id, patch, kDeliveryFields);
                     return w.get(kMessage, id);
                 }));
}

// ---- usage -------------------------------------------------------------------------

Status StoragePlugin::usage_insert(Call& call, Str record_json) {
    const json rec = parse_object(record_json, "record_json");
    return reply(call,
                 run(*db_, now(), Mode::Write, [&](Work& w) { return w.create(kUsage, rec); }));
}

Status StoragePlugin::usage_insert_batch(Call& call, Str records_json) {
    json recs;
    try {
        recs = json::parse(records_json.begin(), records_json.end());
    } catch (const json::parse_error& e) {
        invalid(std::string("records_json is not valid JSON: ") + e.what());
    }
    if (!recs.is_array()) invalid("records_json must be a JSON array of usage records");
    for (size_t i = 0; i < recs.size(); ++i)
        if (!recs[i].is_object())
            invalid("records_json[" + std::to_string(i) + "] must be a JSON object");
    return reply(call, run(*db_, now(), Mode::Write, [&](Work& w) {
                     size_t i = 0;
                     try {
                         // One transaction: a round of reports costs one commit.
                         for (; i < recs.size(); ++i) w.insert(kUsage, recs[i]);
                     } catch (const sdk::Error& e) {
                         if (e.status() != MOOLAI_E_INVALID) throw;
                         invalid("records_json[" + std::to_string(i) + "]: " + e.what());
                     }
                     return ojson{{"inserted", recs.size()}};
                 }));
}

Status StoragePlugin::usage_aggregate(Call& call, const moolai_query& query) {
    const Dialect& d = sql();
    const Str group = sdk::view(query.kind);
    std::string key;
    if (group == "organization")
        key = "COALESCE(organization_id, '')";
    else if (group == "orchestrator")
        key = "orchestrator_id";
    else if (group == "model")
        key = "model";
    else if (group == "day")
        key = d.day_of("period");
    else if (group == "hour")
        key = d.hour_of("period");
    else
        invalid("query.kind must be one of organization, orchestrator, model, day, hour");

    Sql q{d};
    q.eq("organization_id", sdk::view(query.organization_id), "query.organization_id");
    q.eq("orchestrator_id", sdk::view(query.orchestrator_id), "query.orchestrator_id");
    q.time_range("period", query);
    const std::string sums =
        "COALESCE(SUM(requests), 0), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), "
        "0), "
        "COALESCE(SUM(cost_usd), 0)";
    const std::string where = q.where_sql();
    auto totals = [](const Row& r, size_t at) {
        return ojson{{"requests", cell_int(r.at(at))},
                     {"input_tokens", cell_int(r.at(at + 1))},
                     {"output_tokens", cell_int(r.at(at + 2))},
                     {"cost_usd", cell_real(r.at(at + 3))}};
    };
    return reply(call, run(*db_, now(), Mode::Read, [&](Work& w) {
                     ojson total;
                     w.tx.exec("SELECT " + sums + " FROM usage_reports" + where, q.params,
                               [&](const Row& r) { total = totals(r, 0); });
                     std::string groups = "SELECT " + key + ", " + sums + " FROM usage_reports" +
                                          where + " GROUP BY 1 ORDER BY 1";
                     Sql paged = q;
                     paged.page(groups, page_limit(query), page_offset(query));
                     ojson items = ojson::array();
                     w.tx.exec(groups, paged.params, [&](const Row& r) {
                         ojson item{{"key", std::string(r.at(0).value_or(""))}};
                         item.update(totals(r, 1));
                         items.push_back(std::move(item));
                     });
                     return ojson{{"items", std::move(items)}, {"total", std::move(total)}};
                 }));
}

// ---- users and sessions --------------------------------------------------------------

Status StoragePlugin::user_create(Call& call, Str record_json) {
    const json rec = parse_object(record_json, "record_json");
    return reply(call,
                 run(*db_, now(), Mode::Write, [&](Work& w) { return w.create(kUser, rec); }));
}

Status StoragePlugin::user_get(Call& call, Str username) {
    const std::string id = key_arg(kUser, username);
    // The one output that carries password_hash: login needs it.
    return reply(call,
                 run(*db_, now(), Mode::Read, [&](Work& w) { return w.get(kUser, id, true); }));
}

Status StoragePlugin::user_update(Call& call, Str username, Str patch_json) {
    const std::string id = key_arg(kUser, username);
    const json patch = parse_object(patch_json, "patch_json");
    // 1.3: a new password, role or organization ends the user's sessions in
    // the same transaction, except the one whose token hash the patch names
    // as "keep_session", or all of them with "keep_sessions": true (the same
    // password hashed anew at login). Neither is a record field. Output:
    // the record plus "sessions_ended": N.
    const auto keep = patch.find("keep_session");
    if (keep != patch.end() && !keep->is_string()) invalid("keep_session must be a token hash");
    const std::string kept = keep != patch.end() ? keep->get<std::string>() : std::string();
    const auto keep_all = patch.find("keep_sessions");
    if (keep_all != patch.end() && !keep_all->is_boolean()) invalid("keep_sessions must be a boolean");
    const bool rehash = keep_all != patch.end() && keep_all->get<bool>();
    return reply(call, run(*db_, now(), Mode::Write, [&](Work& w) {
                     const auto before = w.fetch(kUser, id, false, true);
                     if (!before) not_found(kUser, id);
                     w.update(kUser, id, patch);
                     ojson after = w.get(kUser, id);
                     const bool ends = !rehash && (patch.contains("password_hash") ||
                                       after.value("role", ojson()) != before->value("role", ojson()) ||
                                       after.value("organization_id", ojson()) !=
                                           before->value("organization_id", ojson()));
                     int64_t ended = 0;
                     if (ends) {
                         Sql q{w.d};
                         std::string del = "DELETE FROM sessions WHERE username = " + q.bind(id);
                         if (!kept.empty()) del += " AND token_hash <> " + q.bind(kept);
                         ended = w.tx.exec(del, q.params);
                     }
                     after["sessions_ended"] = ended;
                     return after;
                 }));
}

Status StoragePlugin::user_list(Call& call, const moolai_query& query) {
    Sql q{sql()};
    q.eq("organization_id", sdk::view(query.organization_id), "query.organization_id");
    q.eq("role", sdk::view(query.status), "query.status");
    q.search({"username"}, sdk::view(query.search));
    const Order o =
        order_of(kUser, query, {{"username"}, {"role"}, {"organization_id"}, {"created_at"}});
    return reply(call, run(*db_, now(), Mode::Read,
                           [&](Work& w) { return w.list(kUser, q, query, o); }));
}

Status StoragePlugin::user_delete(Call&, Str username) {
    const std::string id = key_arg(kUser, username);
    run(*db_, now(), Mode::Write, [&](Work& w) {
        w.remove(kUser, id);  // cascades to the user's sessions
        return ojson();
    });
    return MOOLAI_OK;
}

Status StoragePlugin::session_create(Call& call, Str record_json) {
    const json rec = parse_object(record_json, "record_json");
    return reply(call,
                 run(*db_, now(), Mode::Write, [&](Work& w) { return w.create(kSession, rec); }));
}

Status StoragePlugin::session_get(Call& call, Str token_hash) {
    const std::string token = key_arg(kSession, token_hash);
    return reply(call, run(*db_, now(), Mode::Read, [&](Work& w) {
                     const Projection p = project(kSession, w.d, false, "s");
                     Sql q{w.d};
                     const std::string statement =
                         "SELECT " + p.columns +
                         ", u.role, u.organization_id FROM sessions s"
                         " JOIN users u ON u.username = s.username WHERE s.token_hash = " +
                         q.bind(token) + " AND s.expires_at > " + q.bind_time(w.now);
                     std::optional<ojson> out;
                     w.tx.exec(statement, q.params, [&](const Row& r) {
                         out = to_record(p, r);
                         (*out)["role"] = std::string(r.at(p.fields.size()).value_or(""));
                         const Cell& org = r.at(p.fields.size() + 1);
                         (*out)["organization_id"] =
                             org ? ojson(std::string(*org)) : ojson(nullptr);
                     });
                     if (!out) throw sdk::Error(MOOLAI_E_NOT_FOUND, "session not found or expired");
                     return std::move(*out);
                 }));
}

Status StoragePlugin::session_delete(Call&, Str token_hash) {
    const std::string token = key_arg(kSession, token_hash);
    run(*db_, now(), Mode::Write, [&](Work& w) {
        w.remove(kSession, token);
        return ojson();
    });
    return MOOLAI_OK;
}

Status StoragePlugin::session_purge(Call& call, int64_t now_ms) {
    return reply(call, run(*db_, now(), Mode::Write, [&](Work& w) {
                     Sql q{w.d};
                     const int64_t removed = w.tx.exec(
                         "DELETE FROM sessions WHERE expires_at <= " + q.bind_time(now_ms),
                         q.params);
                     return ojson{{"removed", removed}};
                 }));
}

// ---- audit ----------------------------------------------------------------------------

Status StoragePlugin::audit_append(Call& call, Str record_json) {
    const json rec = parse_object(record_json, "record_json");
    return reply(call, run(*db_, now(), Mode::Write, [&](Work& w) {
                     const int64_t id = append_chained(w.tx, w.d, [&] {
                         return std::get<int64_t>(w.insert(kAudit, rec));
                     });
                     auto out = w.fetch(kAudit, Value(id));
                     if (!out) throw DbError(Fault::Internal, "inserted audit entry not found");
                     return std::move(*out);
                 }));
}

Status StoragePlugin::audit_verify(Call& call) {
    return reply(call, run(*db_, now(), Mode::Read,
                           [&](Work& w) { return verify_audit_chain(w.tx, w.d); }));
}

Status StoragePlugin::audit_list(Call& call, const moolai_query& query) {
    Sql q{sql()};
    q.eq("organization_id", sdk::view(query.organization_id), "query.organization_id");
    q.eq("orchestrator_id", sdk::view(query.orchestrator_id), "query.orchestrator_id");
    q.eq("action", sdk::view(query.kind), "query.kind");
    q.search({"actor"}, sdk::view(query.search));
    q.time_range("time", query);
    const Order o = order_of(
        kAudit, query,
        {{"id"}, {"time"}, {"actor"}, {"action"}, {"organization_id"}, {"orchestrator_id"}});
    return reply(call, run(*db_, now(), Mode::Read,
                           [&](Work& w) { return w.list(kAudit, q, query, o); }));
}

}  // namespace moolai::storage
