// The storage conformance suite: ONE set of test cases, run against every
// storage plugin through the C ABI (abi_harness), so both backends are held
// to the same observable behaviour -- record shapes, orders, filters,
// statuses and error texts' subjects.
//
// The PostgreSQL instantiation needs DATABASE_* (scripts/with-postgres.sh
// sets them; ctest runs it that way) and is skipped without them.
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "abi_harness.hpp"

namespace moolai::test {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// A broken database socket must not kill the test process (libpq's own advice).
const bool kSigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

constexpr int64_t kT0 = 1795860000000;  // 2026-11-28T10:00:00Z
const char* const kT0Text = "2026-11-28T10:00:00Z";

enum class Backend { Sqlite, Postgres };

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr ? v : "";
}
bool postgres_configured() {
    return !env("DATABASE_HOST").empty();
}

// Expects MOOLAI_OK and returns the output as JSON (null when empty).
#define OK(expr)                                                                 \
    [&]() -> json {                                                              \
        const Result r_ = (expr);                                                \
        EXPECT_EQ(r_.status, MOOLAI_OK) << #expr << " failed: " << r_.error;     \
        return r_.output.empty() || r_.status != MOOLAI_OK ? json() : r_.json(); \
    }()
// Expects `status`, and an error text for every failure.
#define EXPECT_STATUS(expr, want)                                             \
    do {                                                                      \
        const Result r_ = (expr);                                             \
        EXPECT_EQ(r_.status, want) << #expr << ": " << r_.error << r_.output; \
        if ((want) != MOOLAI_OK) {                                            \
            EXPECT_FALSE(r_.error.empty()) << #expr;                          \
        }                                                                     \
    } while (0)

bool is_time(const json& j) {
    static const std::regex re(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$)");
    return j.is_string() && std::regex_match(j.get<std::string>(), re);
}

std::vector<std::string> ids(const json& listing, const char* key) {
    std::vector<std::string> out;
    for (const auto& item : listing.at("items")) out.push_back(item.at(key).get<std::string>());
    return out;
}

// Drops everything the plugin created: a fresh schema per test.
// Runs `sql` on the database of scripts/with-postgres.sh (DATABASE_*), on a
// connection of its own: what someone with direct access to it would do.
void postgres_exec(const std::string& sql) {
    const std::string host = env("DATABASE_HOST"), port = env("DATABASE_PORT"),
                      user = env("DATABASE_USER"), password = env("DATABASE_PASSWORD"),
                      db = env("DATABASE_NAME");
    const char* keys[] = {"host", "port", "user", "password", "dbname", nullptr};
    const char* values[] = {host.c_str(),     port.c_str(), user.c_str(),
                            password.c_str(), db.c_str(),   nullptr};
    PGconn* conn = PQconnectdbParams(keys, values, 0);
    ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    PGresult* r = PQexec(conn, sql.c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << sql << ": " << PQerrorMessage(conn);
    PQclear(r);
    PQfinish(conn);
}

void reset_postgres() {
    postgres_exec(
        "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public");
}

std::string plugin_path(Backend b) {
    return b == Backend::Sqlite ? MOOLAI_SQLITE_PLUGIN : MOOLAI_POSTGRES_PLUGIN;
}

fs::path make_temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "moolai-storage-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    return tmpl;
}

class Storage : public ::testing::TestWithParam<Backend> {
  protected:
    void SetUp() override {
        if (GetParam() == Backend::Postgres) {
            if (!postgres_configured())
                GTEST_SKIP() << "DATABASE_HOST unset: run via scripts/with-postgres.sh";
            reset_postgres();
        } else {
            dir_ = make_temp_dir();
        }
        db_ = open();
        ASSERT_TRUE(db_);
        const Result m = db_->migrate();
        ASSERT_EQ(m.status, MOOLAI_OK) << m.error;
        first_migration_ = m.json();
    }
    void TearDown() override {
        db_.reset();
        if (!dir_.empty()) fs::remove_all(dir_);
    }

    std::string config() const {
        if (GetParam() == Backend::Sqlite)
            return json{{"path", (dir_ / "moolai.db").string()}}.dump();
        return "{}";  // DATABASE_* from the environment
    }
    // Another instance on the same database.
    std::unique_ptr<StoragePlugin> open() const {
        auto p = std::make_unique<StoragePlugin>(plugin_path(GetParam()));
        const Result r = p->create(config());
        EXPECT_EQ(r.status, MOOLAI_OK) << r.error;
        return r.ok() ? std::move(p) : nullptr;
    }
    StoragePlugin& db() { return *db_; }

    void org(const std::string& id, const std::string& name = "Org") {
        OK(db().org_create(json{{"organization_id", id}, {"name", name}}.dump()));
    }
    void orch(const std::string& id, const std::string& org_id, const std::string& name = "Orch") {
        OK(db().orch_create(
            json{{"orchestrator_id", id}, {"organization_id", org_id}, {"name", name}}.dump()));
    }
    std::string message(const std::string& orch_id, const std::string& type = "recommendation",
                        const std::string& content = "text", const std::string& id = "") {
        json rec{{"orchestrator_id", orch_id}, {"message_type", type}, {"content", content}};
        if (!id.empty()) rec["id"] = id;
        return OK(db().msg_create(rec.dump())).value("id", "");
    }

    fs::path dir_;
    std::unique_ptr<StoragePlugin> db_;
    json first_migration_;
};

// ---- schema -----------------------------------------------------------------

TEST_P(Storage, MigrateAppliesEveryVersionOnceAndRecordsThem) {
    EXPECT_EQ(first_migration_["applied"], json({1, 2, 3, 4, 5, 6, 7, 8}));
    EXPECT_EQ(first_migration_["schema_version"], 8);
    const json again = OK(db().migrate());
    EXPECT_EQ(again["applied"], json::array());
    EXPECT_EQ(again["schema_version"], 8);
    // Recorded in the database: a new instance finds nothing to apply.
    auto other = open();
    ASSERT_TRUE(other);
    const json third = OK(other->migrate());
    EXPECT_EQ(third["applied"], json::array());
    EXPECT_EQ(third["schema_version"], 8);
    EXPECT_STATUS(db().ping(), MOOLAI_OK);
}

// ---- organizations --------------------------------------------------------------

TEST_P(Storage, OrganizationsCrud) {
    db().freeze_clock(kT0);
    const json created = OK(db().org_create(
        R"({"organization_id":"org-1","name":"Acme","location":"Berlin","metadata":{"tier":"gold","n":[1,2.5]},
            "settings":{"a":true},"is_active":true,"ignored_unknown_field":1})"));
    for (const char* key : {"organization_id", "name", "location", "metadata", "settings",
                            "is_active", "created_at", "updated_at", "status", "is_independent"})
        EXPECT_TRUE(created.contains(key)) << key;
    EXPECT_EQ(created["organization_id"], "org-1");
    EXPECT_EQ(created["name"], "Acme");
    EXPECT_EQ(created["location"], "Berlin");
    EXPECT_EQ(created["metadata"], json::parse(R"({"tier":"gold","n":[1,2.5]})"));
    EXPECT_TRUE(created["metadata"].is_object());
    EXPECT_EQ(created["settings"], json::parse(R"({"a":true})"));
    EXPECT_EQ(created["is_active"], true);
    EXPECT_EQ(created["is_independent"], false);
    EXPECT_EQ(created["status"], "inactive");
    EXPECT_EQ(created["features"], json::object());
    EXPECT_TRUE(created["last_seen"].is_null());
    EXPECT_EQ(created["created_at"], kT0Text);
    EXPECT_EQ(created["updated_at"], kT0Text);
    EXPECT_FALSE(created.contains("ignored_unknown_field"));
    EXPECT_EQ(OK(db().org_get("org-1")), created);

    const Result dup = db().org_create(R"({"organization_id":"org-1","name":"Other"})");
    EXPECT_EQ(dup.status, MOOLAI_E_CONFLICT);
    EXPECT_NE(dup.error.find("org-1"), std::string::npos) << dup.error;

    db().freeze_clock(kT0 + 5000);
    const json updated = OK(db().org_update(
        "org-1",
        R"({"name":"Acme GmbH","metadata":{"tier":"silver"},"status":"active","last_seen":"2026-11-28T09:00:00Z",
                    "created_at":"2000-01-01T00:00:00Z","organization_id":"org-1"})"));
    EXPECT_EQ(updated["name"], "Acme GmbH");
    EXPECT_EQ(updated["metadata"], json::parse(R"({"tier":"silver"})"));
    EXPECT_EQ(updated["location"], "Berlin");
    EXPECT_EQ(updated["status"], "active");
    EXPECT_EQ(updated["last_seen"], "2026-11-28T09:00:00Z");
    EXPECT_EQ(updated["created_at"], kT0Text);  // storage-owned: not patchable
    EXPECT_EQ(updated["updated_at"], "2026-11-28T10:00:05Z");
    EXPECT_EQ(OK(db().org_get("org-1")), updated);
    // An empty patch changes nothing but still answers NOT_FOUND correctly.
    EXPECT_EQ(OK(db().org_update("org-1", "{}")), updated);

    EXPECT_STATUS(db().org_update("org-1", R"({"organization_id":"org-2"})"), MOOLAI_E_INVALID);
    EXPECT_STATUS(db().org_update("missing", R"({"name":"x"})"), MOOLAI_E_NOT_FOUND);
    EXPECT_STATUS(db().org_update("missing", "{}"), MOOLAI_E_NOT_FOUND);
    EXPECT_STATUS(db().org_get("missing"), MOOLAI_E_NOT_FOUND);
    EXPECT_STATUS(db().org_delete("org-1"), MOOLAI_OK);
    EXPECT_STATUS(db().org_get("org-1"), MOOLAI_E_NOT_FOUND);
    EXPECT_STATUS(db().org_delete("org-1"), MOOLAI_E_NOT_FOUND);
}

// ---- orchestrators -------------------------------------------------------------

TEST_P(Storage, OrchestratorsCrud) {
    db().freeze_clock(kT0);
    org("org-1", "Acme");
    const json o = OK(db().orch_create(
        R"({"orchestrator_id":"orch-1","organization_id":"org-1","organization_name":"Acme","name":"Edge",
            "location":"eu","metadata":{"v":"1.2"},"credential_hash":"secret-hash","privacy_mode":true})"));
    for (const char* key :
         {"orchestrator_id", "organization_id", "organization_name", "name", "location", "status",
          "last_seen", "health_status", "is_independent", "metadata", "created_at", "updated_at"})
        EXPECT_TRUE(o.contains(key)) << key;
    EXPECT_FALSE(o.contains("credential_hash"));
    EXPECT_EQ(o["status"], "inactive");
    EXPECT_EQ(o["health_status"], "healthy");
    EXPECT_EQ(o["is_independent"], false);
    EXPECT_EQ(o["privacy_mode"], true);
    EXPECT_EQ(o["monitoring_enabled"], true);
    EXPECT_TRUE(o["last_seen"].is_null());
    EXPECT_TRUE(is_time(o["created_at"]));
    EXPECT_EQ(o["metadata"], json::parse(R"({"v":"1.2"})"));
    EXPECT_EQ(OK(db().orch_get("orch-1")), o);

    EXPECT_STATUS(db().orch_create(R"({"orchestrator_id":"orch-1"})"), MOOLAI_E_CONFLICT);
    const Result no_org =
        db().orch_create(R"({"orchestrator_id":"orch-2","organization_id":"nope"})");
    EXPECT_EQ(no_org.status, MOOLAI_E_NOT_FOUND);
    EXPECT_NE(no_org.error.find("organization_id"), std::string::npos) << no_org.error;
    // An orchestrator without an organization (a placeholder) is allowed.
    EXPECT_EQ(OK(db().orch_create(R"({"orchestrator_id":"orch-3"})"))["organization_id"], nullptr);

    db().freeze_clock(kT0 + 1000);
    const json u = OK(db().orch_update(
        "orch-1",
        R"({"status":"active","last_seen":"2026-11-28T10:00:01.250Z","health_status":"degraded","name":null})"));
    EXPECT_EQ(u["status"], "active");
    EXPECT_EQ(u["last_seen"], "2026-11-28T10:00:01Z");
    EXPECT_EQ(u["health_status"], "degraded");
    EXPECT_TRUE(u["name"].is_null());
    EXPECT_EQ(u["updated_at"], "2026-11-28T10:00:01Z");
    EXPECT_FALSE(u.contains("credential_hash"));
    EXPECT_STATUS(db().orch_update("orch-1", R"({"status":"independent"})"), MOOLAI_E_INVALID);
    EXPECT_STATUS(db().orch_update("orch-1", R"({"organization_id":"nope"})"), MOOLAI_E_NOT_FOUND);
    EXPECT_STATUS(db().orch_update("missing", R"({"name":"x"})"), MOOLAI_E_NOT_FOUND);
    EXPECT_STATUS(db().orch_get("missing"), MOOLAI_E_NOT_FOUND);
    EXPECT_STATUS(db().orch_delete("orch-1"), MOOLAI_OK);
    EXPECT_STATUS(db().orch_get("orch-1"), MOOLAI_E_NOT_FOUND);
    EXPECT_STATUS(db().orch_delete("orch-1"), MOOLAI_E_NOT_FOUND);
}

// ---- invalid input --------------------------------------------------------------

TEST_P(Storage, InvalidInputIsRejectedNamingTheField) {
    org("org-1");
    orch("orch-1", "org-1");
    const std::string id = message("orch-1");
    const std::string long_name(256, 'x');
    struct Case {
        std::function<Result()> call;
        const char* mentions;
    };
    const std::vector<Case> cases = {
        {[&] { return db().org_create(""); }, "record_json"},
        {[&] { return db().org_create("{"); }, "not valid JSON"},
        {[&] { return db().org_create(R"({"organization_id":"x","name":"y"} trailing)"); },
         "not valid JSON"},
        {[&] { return db().org_create("[]"); }, "JSON object"},
        {[&] { return db().org_create("\"text\""); }, "JSON object"},
        {[&] { return db().org_create("{}"); }, "organization_id"},
        {[&] { return db().org_create(R"({"organization_id":"x"})"); }, "name"},
        {[&] { return db().org_create(R"({"organization_id":5,"name":"y"})"); }, "organization_id"},
        {[&] { return db().org_create(R"({"organization_id":"","name":"y"})"); },
         "organization_id"},
        {[&] { return db().org_create(R"({"organization_id":"x","name":null})"); }, "name"},
        {[&] { return db().org_create(R"({"organization_id":"x","name":"y","metadata":"{}"})"); },
         "metadata"},
        {[&] { return db().org_create(R"({"organization_id":"x","name":"y","metadata":null})"); },
         "metadata"},
        {[&] { return db().org_create(R"({"organization_id":"x","name":"y","is_active":"yes"})"); },
         "is_active"},
        {[&] { return db().org_create(R"({"organization_id":"x","name":"y","status":"bogus"})"); },
         "status"},
        {[&] {
             return db().org_create(
                 R"({"organization_id":"x","name":"y","last_seen":"yesterday"})");
         },
         "last_seen"},
        {[&] {
             return db().org_create(
                 R"({"organization_id":"x","name":"y","last_seen":"2026-02-30T00:00:00Z"})");
         },
         "last_seen"},
        {[&] {
             return db().org_create(json{{"organization_id", "x"}, {"name", long_name}}.dump());
         },
         "name"},
        {[&] { return db().org_update("org-1", "[1]"); }, "patch_json"},
        {[&] { return db().org_update("org-1", R"({"name":7})"); }, "name"},
        {[&] { return db().orch_create(R"({"orchestrator_id":["a"]})"); }, "orchestrator_id"},
        {[&] { return db().orch_update("orch-1", R"({"is_independent":1})"); }, "is_independent"},
        {[&] {
             return db().msg_create(
                 R"({"orchestrator_id":"orch-1","message_type":"recommendation"})");
         },
         "content"},
        {[&] { return db().msg_create(R"({"orchestrator_id":"orch-1","content":"c"})"); },
         "message_type"},
        {[&] {
             return db().msg_create(R"({"orchestrator_id":1,"message_type":"m","content":"c"})");
         },
         "orchestrator_id"},
        {[&] { return db().msg_set_status(id, "pending", "archived"); }, "status"},
        {[&] { return db().msg_update_delivery(id, R"({"delivery_state":"lost"})"); },
         "delivery_state"},
        {[&] { return db().msg_update_delivery(id, R"({"delivery_attempts":-1})"); },
         "delivery_attempts"},
        {[&] { return db().msg_update_delivery(id, R"({"delivery_attempts":1.5})"); },
         "delivery_attempts"},
        {[&] { return db().msg_update_delivery(id, R"({"status":"accepted"})"); }, "status"},
        {[&] {
             return db().usage_insert(R"({"orchestrator_id":"o","period":"2026-11-28T10:00:00Z"})");
         },
         "model"},
        {[&] {
             return db().usage_insert(R"({"orchestrator_id":"o","model":"m","period":"noon"})");
         },
         "period"},
        {[&] {
             return db().usage_insert(
                 R"({"orchestrator_id":"o","model":"m","period":"2026-11-28T10:00:00Z","requests":-1})");
         },
         "requests"},
        {[&] {
             return db().usage_insert(
                 R"({"orchestrator_id":"o","model":"m","period":"2026-11-28T10:00:00Z","cost_usd":"1"})");
         },
         "cost_usd"},
        {[&] {
             return db().usage_aggregate(Query{0, 0, "", "", "", "", "week"});
         },
         "kind"},
        {[&] { return db().usage_aggregate(Query{}); }, "kind"},
        {[&] { return db().user_create(R"({"username":"u","password_hash":"h","role":"root"})"); },
         "role"},
        {[&] { return db().user_create(R"({"username":"u","role":"superadmin"})"); },
         "password_hash"},
        {[&] {
             return db().user_create(R"({"username":"u","password_hash":"h","role":"org_admin"})");
         },
         "organization_id"},
        {[&] { return db().session_create(R"({"token_hash":"t","username":"u"})"); }, "expires_at"},
        {[&] { return db().audit_append(R"({"action":"a"})"); }, "actor"},
        {[&] { return db().audit_append(R"({"actor":"a","action":"b","detail":[1]})"); }, "detail"},
        {[&] { return db().org_create(R"({"organization_id":"a\u0000b","name":"y"})"); },
         "organization_id"},
        {[&] {
             return db().org_create(
                 R"({"organization_id":"x","name":"y","metadata":{"k":"v\u0000"}})");
         },
         "metadata"},
        {[&] {
             return db().org_list(Query{0, 0, "", "", "", std::string("\xff\xfe"), ""});
         },
         "search"},
    };
    for (size_t i = 0; i < cases.size(); ++i) {
        const Result r = cases[i].call();
        EXPECT_EQ(r.status, MOOLAI_E_INVALID) << "case " << i << ": " << r.error;
        EXPECT_NE(r.error.find(cases[i].mentions), std::string::npos)
            << "case " << i << ": error '" << r.error << "' should mention '" << cases[i].mentions
            << "'";
    }
    // Nothing was stored by the rejected calls.
    EXPECT_EQ(OK(db().org_list())["total"], 1);
    EXPECT_EQ(OK(db().msg_get(id))["status"], "pending");
}

TEST_P(Storage, BadArgumentsNeverCrash) {
    org("org-1");
    orch("orch-1", "org-1");
    const std::string bad_utf8 = "\xff\xfe\xc0\xaf";
    const std::string with_nul("a\0b", 3);
    for (const std::string& key : {bad_utf8, with_nul, std::string()}) {
        EXPECT_STATUS(db().org_get(key), MOOLAI_E_NOT_FOUND);
        EXPECT_STATUS(db().orch_get(key), MOOLAI_E_NOT_FOUND);
        EXPECT_STATUS(db().orch_delete(key), MOOLAI_E_NOT_FOUND);
        EXPECT_STATUS(db().orch_set_independence(key, true), MOOLAI_E_NOT_FOUND);
        EXPECT_STATUS(db().msg_get(key), MOOLAI_E_NOT_FOUND);
        EXPECT_STATUS(db().user_get(key), MOOLAI_E_NOT_FOUND);
        EXPECT_STATUS(db().session_get(key), MOOLAI_E_NOT_FOUND);
        EXPECT_STATUS(db().org_update(key, "{}"), MOOLAI_E_NOT_FOUND);
    }
    EXPECT_STATUS(db().orch_set_credential("orch-1", bad_utf8), MOOLAI_E_INVALID);
    const std::string id = message("orch-1");
    EXPECT_STATUS(db().msg_set_status(id, bad_utf8, "accepted"), MOOLAI_E_CONFLICT);
    // JSON nesting: fine when shallow, refused when deep, never a stack overflow.
    std::string shallow = "1", deep = "1";
    for (int i = 0; i < 10; ++i) shallow = "[" + shallow + "]";
    for (int i = 0; i < 100; ++i) deep = "{\"k\":" + deep + "}";
    OK(db().org_create(R"({"organization_id":"x","name":"y","metadata":{"a":)" + shallow + "}}"));
    EXPECT_STATUS(db().org_create(R"({"organization_id":"z","name":"y","metadata":)" + deep + "}"),
                  MOOLAI_E_INVALID);
    const std::string abyss = std::string(200000, '[') + std::string(200000, ']');
    EXPECT_STATUS(db().org_create(abyss), MOOLAI_E_INVALID);
    // Extreme pages and times.
    EXPECT_EQ(OK(db().org_list(Query{UINT64_MAX, UINT64_MAX}))["items"], json::array());
    EXPECT_EQ(OK(db().org_list(Query{UINT64_MAX, UINT64_MAX}))["total"], 2);
    OK(db().audit_list(Query{0, 0, "", "", "", "", "", INT64_MIN, INT64_MAX}));
    OK(db().session_purge(INT64_MIN));
    OK(db().session_purge(INT64_MAX));
    // Heartbeat rows with unusable ids are skipped like unknown ones.
    moolai_heartbeat_row rows[2] = {};
    rows[0].orchestrator_id = moolai_str{bad_utf8.data(), bad_utf8.size()};
    rows[0].last_seen_ms = INT64_MAX;
    rows[0].status = MOOLAI_ORCH_ACTIVE;
    rows[1].orchestrator_id = moolai_str{nullptr, 0};
    rows[1].status = MOOLAI_ORCH_ACTIVE;
    EXPECT_STATUS(db().heartbeats_write(rows, 2, sizeof(moolai_heartbeat_row)), MOOLAI_OK);
    EXPECT_STATUS(db().heartbeats_write(nullptr, 0, sizeof(moolai_heartbeat_row)), MOOLAI_OK);
    rows[0].status = 7;
    EXPECT_STATUS(db().heartbeats_write(rows, 1, sizeof(moolai_heartbeat_row)), MOOLAI_E_INVALID);
    EXPECT_STATUS(db().ping(), MOOLAI_OK);
}

// ---- listings --------------------------------------------------------------------

TEST_P(Storage, ListingsPaginateWithTotalsInStableOrder) {
    std::vector<std::string> all;
    for (int i = 0; i < 120; ++i) {
        char id[16];
        std::snprintf(id, sizeof id, "org-%03d", i);
        all.push_back(id);
    }
    std::vector<std::string> shuffled = all;
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(42));
    for (const auto& id : shuffled) org(id);
    // Bytewise order on both backends, whatever PostgreSQL's locale: Z < _ < a < o.
    for (const char* id : {"alpha", "Zeta", "_x"}) org(id);

    const json first = OK(db().org_list());
    EXPECT_EQ(first["total"], 123);
    std::vector<std::string> expected = {"Zeta", "_x", "alpha"};
    expected.insert(expected.end(), all.begin(), all.begin() + 47);
    EXPECT_EQ(ids(first, "organization_id"), expected);  // default limit 50

    const json tail = OK(db().org_list(Query{103, 50}));
    EXPECT_EQ(tail["total"], 123);
    EXPECT_EQ(ids(tail, "organization_id"), std::vector<std::string>(all.begin() + 100, all.end()));
    EXPECT_EQ(OK(db().org_list(Query{3, 2}))["items"].size(), 2u);
    EXPECT_EQ(ids(OK(db().org_list(Query{3, 2})), "organization_id"),
              (std::vector<std::string>{"org-000", "org-001"}));
    const json past = OK(db().org_list(Query{500, 10}));
    EXPECT_EQ(past["items"], json::array());
    EXPECT_EQ(past["total"], 123);
    EXPECT_EQ(OK(db().org_list(Query{0, 5000}))["items"].size(), 123u);

    const json found = OK(db().org_list(Query{0, 0, "", "", "", "ORG-11", ""}));
    EXPECT_EQ(found["total"], 10);
    EXPECT_EQ(found["items"][0]["organization_id"], "org-110");
}

// A page in the back half is read from the other end (reversed ORDER BY);
// every window must still be exactly the slice of the whole listing, for an
// ascending order and for a mixed one with ties broken by the key.
TEST_P(Storage, EveryPageIsTheSliceOfTheWholeListingFromEitherEnd) {
    org("A");
    orch("o1", "A");
    for (int i = 0; i < 24; ++i) {
        db().freeze_clock(kT0 + (i / 5) * 1000);  // five messages per millisecond
        char id[16];
        std::snprintf(id, sizeof id, "m%02d", (i * 7) % 24);  // ids not in time order
        message("o1", i % 2 ? "monitoring" : "recommendation", "text", id);
    }
    for (int i = 0; i < 21; ++i) orch("x" + std::to_string(i), "A");
    using V = std::vector<std::string>;
    const V all_msgs = ids(OK(db().msg_list(Query{0, 1000})), "id");
    const V all_orchs = ids(OK(db().orch_list(Query{0, 1000})), "orchestrator_id");
    ASSERT_EQ(all_msgs.size(), 24u);
    ASSERT_EQ(all_orchs.size(), 22u);
    auto slice = [](const V& all, uint64_t offset, uint64_t limit) {
        if (offset >= all.size()) return V{};
        return V(all.begin() + static_cast<long>(offset),
                 all.begin() + static_cast<long>(std::min<uint64_t>(all.size(), offset + limit)));
    };
    for (uint64_t limit : {1, 2, 5, 7, 23, 50}) {
        for (uint64_t offset = 0; offset <= 26; ++offset) {
            const json msgs = OK(db().msg_list(Query{offset, limit}));
            EXPECT_EQ(ids(msgs, "id"), slice(all_msgs, offset, limit))
                << "messages offset " << offset << " limit " << limit;
            EXPECT_EQ(msgs["total"], 24);
            const json orchs = OK(db().orch_list(Query{offset, limit}));
            EXPECT_EQ(ids(orchs, "orchestrator_id"), slice(all_orchs, offset, limit))
                << "orchestrators offset " << offset << " limit " << limit;
        }
    }
    // With a filter the back half is counted within the filter.
    const V monitoring = ids(OK(db().msg_list(Query{0, 1000, "", "", "", "", "monitoring"})), "id");
    ASSERT_EQ(monitoring.size(), 12u);
    for (uint64_t offset = 0; offset <= 12; ++offset)
        EXPECT_EQ(ids(OK(db().msg_list(Query{offset, 3, "", "", "", "", "monitoring"})), "id"),
                  slice(monitoring, offset, 3))
            << "monitoring offset " << offset;
}

// 1.3: a listing ordered by the field the host names in query.sort, in
// either direction, NULLs last both ways, text without regard to ASCII
// case, ties broken by the key ascending; every page is the slice of the
// whole sorted listing, read from either end; the output says what it
// applied. An older host's query (struct_size of 1.0-1.2) keeps the
// default order and gets no "sort" in the output.
TEST_P(Storage, ListingsSortByANamedFieldWithTheKeyBreakingTies) {
    using V = std::vector<std::string>;
    // name: ties (three "beta"), ASCII case; location: NULL for some.
    const std::vector<std::pair<std::string, std::string>> rows = {
        {"o1", "beta"}, {"o2", "Alpha"}, {"o3", "beta"},  {"o4", "gamma"}, {"o5", "alpha2"},
        {"o6", "Beta"}, {"o7", "delta"}, {"o8", "beta"},  {"o9", "Zulu"},  {"o10", "echo"}};
    for (const auto& [id, name] : rows) {
        json rec{{"organization_id", id}, {"name", name}};
        if (id.size() == 2 && id[1] % 2 == 0) rec["location"] = "loc-" + name;
        OK(db().org_create(rec.dump()));
    }
    const json asc = OK(db().org_list(Query{0, 100}.sorted("name")));
    EXPECT_EQ(asc["sort"], "name");
    EXPECT_EQ(asc["order"], "asc");
    // LOWER first ("Alpha" < "alpha2"), then bytewise ("Beta" < "beta"), then the key.
    const V by_name = {"o2", "o5", "o6", "o1", "o3", "o8", "o7", "o10", "o4", "o9"};
    EXPECT_EQ(ids(asc, "organization_id"), by_name);
    const json desc = OK(db().org_list(Query{0, 100}.sorted("name", true)));
    EXPECT_EQ(desc["order"], "desc");
    // Descending by name; equal names still by key ascending.
    EXPECT_EQ(ids(desc, "organization_id"),
              (V{"o9", "o4", "o10", "o7", "o1", "o3", "o8", "o6", "o5", "o2"}));
    // NULL locations last in both directions.
    for (bool d : {false, true}) {
        const json loc = OK(db().org_list(Query{0, 100}.sorted("location", d)));
        const V got = ids(loc, "organization_id");
        ASSERT_EQ(got.size(), 10u);
        for (size_t i = 0; i < got.size(); ++i)
            EXPECT_EQ(loc["items"][i]["location"].is_null(), i >= 4) << loc.dump();
        EXPECT_EQ(V(got.end() - 6, got.end()), (V{"o1", "o10", "o3", "o5", "o7", "o9"}))
            << "ties among NULLs by key";
    }
    // Every page from either end is the slice of the whole.
    for (bool d : {false, true}) {
        for (const char* field : {"name", "location"}) {
            const V all = ids(OK(db().org_list(Query{0, 100}.sorted(field, d))), "organization_id");
            for (uint64_t limit : {1, 3, 4}) {
                for (uint64_t offset = 0; offset <= 11; ++offset) {
                    V want;
                    for (uint64_t i = offset; i < std::min<uint64_t>(all.size(), offset + limit); ++i)
                        want.push_back(all[i]);
                    EXPECT_EQ(ids(OK(db().org_list(Query{offset, limit}.sorted(field, d))),
                                  "organization_id"),
                              want)
                        << field << (d ? " desc" : " asc") << " offset " << offset << " limit "
                        << limit;
                }
            }
        }
    }
    // A field the listing cannot order by, named in the error.
    const Result bad = db().org_list(Query{}.sorted("metadata"));
    EXPECT_EQ(bad.status, MOOLAI_E_INVALID);
    EXPECT_NE(bad.error.find("name"), std::string::npos) << bad.error;
    EXPECT_STATUS(db().user_list(Query{}.sorted("password_hash")), MOOLAI_E_INVALID);
    EXPECT_STATUS(db().org_list(Query{}.sorted("name; DROP TABLE organizations")),
                  MOOLAI_E_INVALID);
    // An older host's query ends before sort: the default order, no echo.
    Query old = Query{0, 100}.sorted("name", true);
    old.struct_size = MOOLAI_QUERY_SIZE_1_0;
    const json plain = OK(db().org_list(old));
    EXPECT_FALSE(plain.contains("sort"));
    EXPECT_EQ(ids(plain, "organization_id"),
              (V{"o1", "o10", "o2", "o3", "o4", "o5", "o6", "o7", "o8", "o9"}));
    EXPECT_FALSE(OK(db().org_list(Query{0, 100}))["items"].empty());
    EXPECT_FALSE(OK(db().org_list(Query{0, 100})).contains("sort"));
}

// Orchestrators sort by status as listed ("independent" when flagged) and
// by last_seen, which lives in a side table; messages, users and audit by
// their own fields.
TEST_P(Storage, EveryListingSortsByItsFields) {
    using V = std::vector<std::string>;
    org("A");
    org("B");
    orch("x1", "B", "one");
    orch("x2", "A", "two");
    orch("x3", "A", "three");
    orch("x4", "B", "four");
    OK(db().orch_update("x1", R"({"status":"active"})"));
    OK(db().orch_update("x2", R"({"status":"active"})"));
    OK(db().orch_set_independence("x2", true));
    OK(db().orch_update("x3", R"({"status":"inactive"})"));
    OK(db().orch_update("x1", R"({"last_seen":"2026-11-28T10:00:05Z"})"));
    OK(db().orch_update("x3", R"({"last_seen":"2026-11-28T10:00:01Z"})"));
    OK(db().orch_update("x4", R"({"last_seen":"2026-11-28T10:00:09Z"})"));
    auto orchs = [&](const char* f, bool d) {
        return ids(OK(db().orch_list(Query{0, 100}.sorted(f, d))), "orchestrator_id");
    };
    // x4 is stored inactive (the default); x2 is stored active but listed independent.
    EXPECT_EQ(orchs("status", false), (V{"x1", "x3", "x4", "x2"}));  // active, inactive, independent
    EXPECT_EQ(orchs("status", true), (V{"x2", "x3", "x4", "x1"}));
    EXPECT_EQ(orchs("last_seen", false), (V{"x3", "x1", "x4", "x2"}));  // never seen: last
    EXPECT_EQ(orchs("last_seen", true), (V{"x4", "x1", "x3", "x2"}));
    EXPECT_EQ(orchs("organization_id", false), (V{"x2", "x3", "x1", "x4"}));
    EXPECT_EQ(orchs("name", true), (V{"x2", "x3", "x1", "x4"}));
    // With a filter, within the filter.
    EXPECT_EQ(ids(OK(db().orch_list(Query{0, 100, "B"}.sorted("last_seen", true))),
                  "orchestrator_id"),
              (V{"x4", "x1"}));
    EXPECT_STATUS(db().orch_list(Query{}.sorted("credential_hash")), MOOLAI_E_INVALID);

    db().freeze_clock(kT0);
    const std::string m1 = message("x1", "recommendation", "a", "m1");
    db().freeze_clock(kT0 + 1000);
    const std::string m2 = message("x3", "monitoring", "b", "m2");
    db().freeze_clock(kT0 + 2000);
    const std::string m3 = message("x2", "recommendation", "c", "m3");
    EXPECT_EQ(ids(OK(db().msg_list(Query{0, 100})), "id"), (V{"m3", "m2", "m1"}));  // default
    EXPECT_EQ(ids(OK(db().msg_list(Query{0, 100}.sorted("created_at"))), "id"),
              (V{"m1", "m2", "m3"}));
    EXPECT_EQ(ids(OK(db().msg_list(Query{0, 100}.sorted("message_type", true))), "id"),
              (V{"m1", "m3", "m2"}));
    EXPECT_EQ(ids(OK(db().msg_list(Query{0, 100}.sorted("orchestrator_id"))), "id"),
              (V{"m1", "m3", "m2"}));

    OK(db().user_create(
        R"({"username":"zed","password_hash":"h","role":"org_admin","organization_id":"A"})"));
    OK(db().user_create(R"({"username":"amy","password_hash":"h","role":"superadmin"})"));
    OK(db().user_create(
        R"({"username":"bo","password_hash":"h","role":"org_admin","organization_id":"B"})"));
    EXPECT_EQ(ids(OK(db().user_list(Query{}.sorted("role"))), "username"),
              (V{"bo", "zed", "amy"}));
    EXPECT_EQ(ids(OK(db().user_list(Query{}.sorted("organization_id", true))), "username"),
              (V{"bo", "zed", "amy"}));  // NULL last either way
    EXPECT_EQ(ids(OK(db().user_list(Query{}.sorted("username", true))), "username"),
              (V{"zed", "bo", "amy"}));

    for (const char* actor : {"carl", "anna", "bert"})
        OK(db().audit_append(json{{"actor", actor}, {"action", "x"}}.dump()));
    EXPECT_EQ(ids(OK(db().audit_list(Query{}.sorted("actor"))), "actor"), (V{"anna", "bert", "carl"}));
    EXPECT_EQ(ids(OK(db().audit_list(Query{}.sorted("actor", true))), "actor"),
              (V{"carl", "bert", "anna"}));
}

TEST_P(Storage, OrchestratorListFilters) {
    org("A");
    org("B");
    orch("a1", "A", "Edge Berlin");
    orch("a2", "A", "edge paris");
    orch("a3", "A", "Core");
    orch("b1", "B", "EDGE tokyo");
    orch("b2", "B", "100% pure_core");
    for (const char* id : {"a1", "a3", "b1"}) OK(db().orch_update(id, R"({"status":"active"})"));
    OK(db().orch_set_independence("a3", true));

    auto list = [&](Query q) { return ids(OK(db().orch_list(q)), "orchestrator_id"); };
    using V = std::vector<std::string>;
    EXPECT_EQ(list({}), (V{"a1", "a2", "a3", "b1", "b2"}));
    EXPECT_EQ(list({0, 0, "A"}), (V{"a1", "a2", "a3"}));
    EXPECT_EQ(list({0, 0, "", "", "active"}), (V{"a1", "b1"}));  // a3 is independent
    EXPECT_EQ(list({0, 0, "", "", "inactive"}), (V{"a2", "b2"}));
    EXPECT_EQ(list({0, 0, "", "", "independent"}), (V{"a3"}));
    EXPECT_EQ(list({0, 0, "", "", "bogus"}), V{});
    EXPECT_EQ(list({0, 0, "", "", "", "edge"}), (V{"a1", "a2", "b1"}));
    EXPECT_EQ(list({0, 0, "", "", "", "A2"}), (V{"a2"}));  // id, case-insensitive
    EXPECT_EQ(list({0, 0, "", "", "", "%"}), (V{"b2"}));   // LIKE wildcards are literal
    EXPECT_EQ(list({0, 0, "", "", "", "_"}), (V{"b2"}));
    EXPECT_EQ(list({0, 0, "A", "", "active", "edge"}), (V{"a1"}));
    EXPECT_EQ(list({0, 0, "B", "", "independent"}), V{});
    const json page = OK(db().orch_list({1, 1, "A"}));
    EXPECT_EQ(page["total"], 3);
    EXPECT_EQ(ids(page, "orchestrator_id"), V{"a2"});
    const json everything = OK(db().orch_list({}));
    for (const auto& item : everything["items"]) EXPECT_FALSE(item.contains("credential_hash"));
}

// ---- independence and credentials ---------------------------------------------------

TEST_P(Storage, IndependenceReportsOldAndNew) {
    db().freeze_clock(kT0);
    org("A");
    orch("o1", "A");
    db().freeze_clock(kT0 + 2000);
    EXPECT_EQ(OK(db().orch_set_independence("o1", true)),
              json::parse(R"({"old":false,"new":true})"));
    const json rec = OK(db().orch_get("o1"));
    EXPECT_EQ(rec["is_independent"], true);
    EXPECT_EQ(rec["updated_at"], "2026-11-28T10:00:02Z");
    EXPECT_EQ(OK(db().orch_set_independence("o1", true)),
              json::parse(R"({"old":true,"new":true})"));
    EXPECT_EQ(OK(db().orch_set_independence("o1", false)),
              json::parse(R"({"old":true,"new":false})"));
    EXPECT_EQ(OK(db().orch_get("o1"))["is_independent"], false);
    EXPECT_STATUS(db().orch_set_independence("missing", true), MOOLAI_E_NOT_FOUND);
}

TEST_P(Storage, CredentialIsSeenByScanAndNeverInRecords) {
    org("A");
    OK(db().orch_create(
        R"({"orchestrator_id":"o1","organization_id":"A","name":"One","credential_hash":"h1"})"));
    orch("o2", "A", "Two");
    std::vector<ScanRow> rows;
    OK(db().orch_scan(rows));
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].orchestrator_id, "o1");
    EXPECT_EQ(rows[0].organization_id, "A");
    EXPECT_EQ(rows[0].name, "One");
    EXPECT_EQ(rows[0].credential_hash, "h1");
    EXPECT_EQ(rows[0].status, MOOLAI_ORCH_INACTIVE);
    EXPECT_EQ(rows[0].last_seen_ms, 0);
    EXPECT_EQ(rows[0].is_independent, 0u);
    EXPECT_EQ(rows[1].credential_hash, "");

    OK(db().orch_set_credential("o2", "h2"));
    OK(db().orch_set_credential("o1", ""));
    rows.clear();
    OK(db().orch_scan(rows));
    EXPECT_EQ(rows[0].credential_hash, "");
    EXPECT_EQ(rows[1].credential_hash, "h2");
    EXPECT_FALSE(OK(db().orch_get("o2")).contains("credential_hash"));
    EXPECT_STATUS(db().orch_set_credential("missing", "h"), MOOLAI_E_NOT_FOUND);
    EXPECT_STATUS(db().orch_set_credential("o1", std::string(1025, 'h')), MOOLAI_E_INVALID);
}

TEST_P(Storage, ScanStopsWithTheCallbacksStatus) {
    org("A");
    for (const char* id : {"o1", "o2", "o3", "o4"}) orch(id, "A");
    OK(db().orch_set_independence("o2", true));
    std::vector<ScanRow> rows;
    EXPECT_STATUS(db().orch_scan(rows, 2, MOOLAI_E_CONFLICT), MOOLAI_E_CONFLICT);
    EXPECT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1].is_independent, 1u);
    rows.clear();
    OK(db().orch_scan(rows));
    EXPECT_EQ(rows.size(), 4u);
}

// ---- heartbeats ------------------------------------------------------------------------

// last_seen is kept apart from the orchestrator row (orchestrator_liveness),
// which must not show: it reads, writes, lists, scans and goes with its
// orchestrator like any other field.
TEST_P(Storage, LastSeenIsAFieldLikeAnyOtherWhereverItIsKept) {
    org("A");
    orch("o1", "A");
    orch("o2", "A");
    OK(db().orch_create(json{{"orchestrator_id", "o3"},
                             {"organization_id", "A"},
                             {"last_seen", "2026-11-28T09:00:00Z"}}
                            .dump()));
    EXPECT_EQ(OK(db().orch_get("o1"))["last_seen"], nullptr);
    EXPECT_EQ(OK(db().orch_get("o3"))["last_seen"], "2026-11-28T09:00:00Z");

    std::vector<moolai_heartbeat_row> rows(2);
    const std::string id1 = "o1", id2 = "o2";
    rows[0] = {{id1.data(), id1.size()}, kT0, MOOLAI_ORCH_ACTIVE, 0};
    rows[1] = {{id2.data(), id2.size()}, kT0 + 5000, MOOLAI_ORCH_INACTIVE, 0};
    EXPECT_STATUS(db().heartbeats_write(rows.data(), 2, sizeof(moolai_heartbeat_row)), MOOLAI_OK);
    // Again, later, status unchanged: last_seen moves, status stays.
    rows[0].last_seen_ms = kT0 + 60000;
    EXPECT_STATUS(db().heartbeats_write(rows.data(), 1, sizeof(moolai_heartbeat_row)), MOOLAI_OK);
    const json o1 = OK(db().orch_get("o1"));
    EXPECT_EQ(o1["last_seen"], "2026-11-28T10:01:00Z");
    EXPECT_EQ(o1["status"], "active");
    EXPECT_EQ(OK(db().orch_get("o2"))["status"], "inactive");

    const json listed = OK(db().orch_list({}));
    ASSERT_EQ(listed["items"].size(), 3u);
    EXPECT_EQ(listed["items"][1]["last_seen"], "2026-11-28T10:00:05Z");
    std::vector<ScanRow> scanned;
    OK(db().orch_scan(scanned));
    ASSERT_EQ(scanned.size(), 3u);
    EXPECT_EQ(scanned[0].last_seen_ms, kT0 + 60000);
    EXPECT_EQ(scanned[1].last_seen_ms, kT0 + 5000);

    // A patch sets it, or clears it, with or without other fields.
    OK(db().orch_update("o1", R"({"last_seen":"2026-11-28T11:00:00Z","name":"renamed"})"));
    EXPECT_EQ(OK(db().orch_get("o1"))["last_seen"], "2026-11-28T11:00:00Z");
    EXPECT_EQ(OK(db().orch_get("o1"))["name"], "renamed");
    OK(db().orch_update("o1", R"({"last_seen":null})"));
    EXPECT_EQ(OK(db().orch_get("o1"))["last_seen"], nullptr);
    EXPECT_STATUS(db().orch_update("nobody", R"({"last_seen":"2026-11-28T11:00:00Z"})"),
                  MOOLAI_E_NOT_FOUND);

    // It goes with its orchestrator: a new one of the same id starts unseen.
    OK(db().orch_delete("o2"));
    orch("o2", "A");
    EXPECT_EQ(OK(db().orch_get("o2"))["last_seen"], nullptr);
}

// Two hosts' batches over the same orchestrators, sent in opposite orders,
// at once: the plugin locks rows in key order, so they wait for each other
// and never deadlock (no retry for one in the log either).
TEST_P(Storage, OverlappingHeartbeatBatchesOfTwoHostsNeverDeadlock) {
    org("A");
    std::vector<std::string> ids;
    for (int i = 0; i < 300; ++i) {
        char id[16];
        std::snprintf(id, sizeof id, "dl-%04d", i);
        ids.push_back(id);
        orch(id, "A");
    }
    auto other = open();
    ASSERT_TRUE(other);
    const auto writer = [&](StoragePlugin& p, bool reversed, std::vector<moolai_status>& out) {
        std::vector<moolai_heartbeat_row> rows(ids.size());
        for (int round = 0; round < 30; ++round) {
            for (size_t i = 0; i < ids.size(); ++i) {
                const std::string& id = ids[reversed ? ids.size() - 1 - i : i];
                rows[i] = moolai_heartbeat_row{};
                rows[i].orchestrator_id = moolai_str{id.data(), id.size()};
                rows[i].last_seen_ms = kT0 + round;
                rows[i].status = round % 2 ? MOOLAI_ORCH_ACTIVE : MOOLAI_ORCH_INACTIVE;
            }
            out.push_back(p.heartbeats_write(rows.data(), rows.size(), sizeof rows[0]).status);
        }
    };
    std::vector<moolai_status> a, b;
    std::thread ta([&] { writer(db(), false, a); });
    std::thread tb([&] { writer(*other, true, b); });
    ta.join();
    tb.join();
    for (moolai_status st : a) EXPECT_EQ(st, MOOLAI_OK);
    for (moolai_status st : b) EXPECT_EQ(st, MOOLAI_OK);
    for (StoragePlugin* p : {&db(), other.get()})
        for (const std::string& line : p->log_lines())
            EXPECT_EQ(line.find("deadlock"), std::string::npos) << line;
}

TEST_P(Storage, HeartbeatBatchOfThousandRowsIsWrittenAndUnknownIdsSkipped) {
    org("A");
    constexpr int kCount = 1000;
    std::vector<std::string> names;
    for (int i = 0; i < kCount; ++i) {
        char id[16];
        std::snprintf(id, sizeof id, "hb-%04d", i);
        names.push_back(id);
        orch(id, "A");
    }
    OK(db().orch_set_independence("hb-0007", true));
    std::vector<std::string> ghosts;
    for (int i = 0; i < 10; ++i) ghosts.push_back("ghost-" + std::to_string(i));

    // Sent with a newer host's larger stride; a stale duplicate of hb-0000
    // comes after its newer row and must not win.
    std::vector<HeartbeatRowV2> rows;
    auto add = [&](const std::string& id, int64_t ms, uint32_t status) {
        HeartbeatRowV2 r{};
        r.v1.orchestrator_id = moolai_str{id.data(), id.size()};
        r.v1.last_seen_ms = ms;
        r.v1.status = status;
        r.appended_field = 0xdeadbeef;
        rows.push_back(r);
    };
    for (int i = 0; i < kCount; ++i) {
        add(names[i], kT0 + i, i % 3 == 0 ? MOOLAI_ORCH_INACTIVE : MOOLAI_ORCH_ACTIVE);
        if (i % 100 == 0) add(ghosts[static_cast<size_t>(i / 100)], kT0, MOOLAI_ORCH_ACTIVE);
    }
    add(names[0], kT0 - 60000, MOOLAI_ORCH_ACTIVE);
    EXPECT_STATUS(db().heartbeats_write(rows.data(), rows.size(), sizeof(HeartbeatRowV2)),
                  MOOLAI_OK);

    std::vector<ScanRow> scanned;
    OK(db().orch_scan(scanned));
    ASSERT_EQ(scanned.size(), static_cast<size_t>(kCount));  // no ghost was created
    for (int i = 0; i < kCount; ++i) {
        const ScanRow& r = scanned[static_cast<size_t>(i)];
        ASSERT_EQ(r.orchestrator_id, names[i]);
        EXPECT_EQ(r.last_seen_ms, kT0 + i) << r.orchestrator_id;
        EXPECT_EQ(r.status, i % 3 == 0 ? MOOLAI_ORCH_INACTIVE : MOOLAI_ORCH_ACTIVE)
            << r.orchestrator_id;
    }
    EXPECT_EQ(scanned[7].is_independent, 1u);  // heartbeats do not touch independence
    const json one = OK(db().orch_get("hb-0001"));
    EXPECT_EQ(one["last_seen"], kT0Text);
    EXPECT_EQ(one["status"], "active");
    EXPECT_EQ(OK(db().orch_get("hb-0000"))["status"], "inactive");
    EXPECT_STATUS(db().orch_get("ghost-0"), MOOLAI_E_NOT_FOUND);
    EXPECT_EQ(OK(db().orch_list({0, 0, "", "", "active"}))["total"],
              665);  // 666, less independent hb-0007

    // Listings cap a page at 1000 rows.
    orch("hb-extra", "A");
    const json capped = OK(db().orch_list(Query{0, 5000}));
    EXPECT_EQ(capped["total"], kCount + 1);
    EXPECT_EQ(capped["items"].size(), 1000u);
}

// ---- messages -----------------------------------------------------------------------------

TEST_P(Storage, MessagesCreateCompareAndSetAndDelivery) {
    db().freeze_clock(kT0);
    org("A");
    orch("o1", "A");
    const json m = OK(db().msg_create(
        R"({"orchestrator_id":"o1","message_type":"recommendation","content":"Enable cache","message_metadata":{"k":1},
            "source":"rest"})"));
    const std::string id = m["id"];
    EXPECT_EQ(id.rfind("msg-", 0), 0u) << id;
    EXPECT_EQ(m["orchestrator_id"], "o1");
    EXPECT_EQ(m["message_type"], "recommendation");
    EXPECT_EQ(m["content"], "Enable cache");
    EXPECT_EQ(m["message_metadata"], json::parse(R"({"k":1})"));
    EXPECT_EQ(m["status"], "pending");
    EXPECT_EQ(m["delivery_state"], "none");
    EXPECT_EQ(m["delivery_attempts"], 0);
    EXPECT_TRUE(m["delivered_at"].is_null());
    EXPECT_TRUE(m["acknowledged_at"].is_null());
    EXPECT_EQ(m["created_at"], kT0Text);
    EXPECT_EQ(m["updated_at"], kT0Text);
    EXPECT_EQ(OK(db().msg_get(id)), m);
    EXPECT_NE(message("o1"), id);  // ids are generated uniquely

    // Storage owns the review and delivery state of a new message.
    const json explicit_id = OK(db().msg_create(
        R"({"id":"m-1","orchestrator_id":"o1","message_type":"monitoring","content":"c","status":"accepted",
            "delivery_state":"sent","delivery_attempts":9})"));
    EXPECT_EQ(explicit_id["id"], "m-1");
    EXPECT_EQ(explicit_id["status"], "pending");
    EXPECT_EQ(explicit_id["delivery_state"], "none");
    EXPECT_EQ(explicit_id["delivery_attempts"], 0);
    EXPECT_STATUS(
        db().msg_create(R"({"id":"m-1","orchestrator_id":"o1","message_type":"m","content":"c"})"),
        MOOLAI_E_CONFLICT);
    EXPECT_STATUS(db().msg_create(R"({"orchestrator_id":"nope","message_type":"m","content":"c"})"),
                  MOOLAI_E_NOT_FOUND);

    db().freeze_clock(kT0 + 3000);
    const json accepted = OK(db().msg_set_status(id, "pending", "accepted"));
    EXPECT_EQ(accepted["status"], "accepted");
    EXPECT_EQ(accepted["updated_at"], "2026-11-28T10:00:03Z");
    const Result lost_race = db().msg_set_status(id, "pending", "dismissed");
    EXPECT_EQ(lost_race.status, MOOLAI_E_CONFLICT);
    EXPECT_NE(lost_race.error.find("accepted"), std::string::npos) << lost_race.error;
    EXPECT_EQ(OK(db().msg_get(id))["status"], "accepted");
    EXPECT_STATUS(db().msg_set_status("missing", "pending", "accepted"), MOOLAI_E_NOT_FOUND);
    EXPECT_EQ(OK(db().msg_set_status(id, "accepted", "dismissed"))["status"], "dismissed");

    const json queued = OK(db().msg_update_delivery(id, R"({"delivery_state":"queued"})"));
    EXPECT_EQ(queued["delivery_state"], "queued");
    EXPECT_EQ(queued["status"], "dismissed");
    const json sent = OK(db().msg_update_delivery(
        id,
        R"({"delivery_state":"sent","delivery_attempts":1,"delivered_at":"2026-11-28T10:00:05Z"})"));
    EXPECT_EQ(sent["delivery_state"], "sent");
    EXPECT_EQ(sent["delivery_attempts"], 1);
    EXPECT_EQ(sent["delivered_at"], "2026-11-28T10:00:05Z");
    const json acked = OK(db().msg_update_delivery(
        id, R"({"delivery_state":"acknowledged","acknowledged_at":"2026-11-28T12:00:06+02:00"})"));
    EXPECT_EQ(acked["acknowledged_at"], "2026-11-28T10:00:06Z");
    EXPECT_EQ(acked["delivered_at"], "2026-11-28T10:00:05Z");
    EXPECT_TRUE(
        OK(db().msg_update_delivery(id, R"({"delivered_at":null})"))["delivered_at"].is_null());
    EXPECT_STATUS(db().msg_update_delivery("missing", R"({"delivery_state":"queued"})"),
                  MOOLAI_E_NOT_FOUND);
}
// Delivery has an end: expires_at is stored as given, "undelivered" and
// "overdue" select what redelivery and the expiry sweep act on, and an ended
// delivery_state is never replaced.
TEST_P(Storage, MessageDeliveryEndsAndItsSelectors) {
    org("A");
    orch("o1", "A");
    db().freeze_clock(kT0);  // 2026-11-28T10:00:00Z
    auto make = [&](const std::string& id, const char* expires_at) {
        json rec = {{"id", id},
                    {"orchestrator_id", "o1"},
                    {"message_type", "recommendation"},
                    {"content", "c"}};
        if (expires_at != nullptr) rec["expires_at"] = expires_at;
        return OK(db().msg_create(rec.dump()));
    };
    EXPECT_EQ(make("live", "2026-11-28T10:00:10Z")["expires_at"], "2026-11-28T10:00:10Z");
    EXPECT_TRUE(make("forever", nullptr)["expires_at"].is_null());
    make("acked", "2026-11-28T10:00:05Z");
    make("pending", "2026-11-28T10:00:05Z");
    make("dismissed", "2026-11-28T10:00:05Z");
    for (const char* id : {"live", "forever", "acked"})
        OK(db().msg_set_status(id, "pending", "accepted"));
    OK(db().msg_set_status("dismissed", "pending", "dismissed"));
    OK(db().msg_update_delivery("live", R"({"delivery_state":"sent"})"));
    OK(db().msg_update_delivery("acked", R"({"delivery_state":"acknowledged"})"));

    using V = std::vector<std::string>;
    auto sorted = [&](const char* status) {
        V v = ids(OK(db().msg_list(Query{0, 1000, "", "o1", status})), "id");
        std::sort(v.begin(), v.end());
        return v;
    };
    EXPECT_EQ(sorted("undelivered"), (V{"forever", "live"}));
    EXPECT_EQ(sorted("overdue"), V{});
    db().freeze_clock(kT0 + 5000);  // the 10:00:05 ones are due, "acked" and "dismissed" not
    EXPECT_EQ(sorted("overdue"), V{"pending"});
    db().freeze_clock(kT0 + 10000);
    EXPECT_EQ(sorted("overdue"), (V{"live", "pending"}));
    EXPECT_EQ(sorted("undelivered"), V{"forever"}) << "past its expiry it is not resent";

    const json ended = OK(db().msg_update_delivery(
        "live", R"({"delivery_state":"expired","ended_at":"2026-11-28T10:00:10Z"})"));
    EXPECT_EQ(ended["delivery_state"], "expired");
    EXPECT_EQ(ended["ended_at"], "2026-11-28T10:00:10Z");
    EXPECT_EQ(sorted("overdue"), V{"pending"});
    OK(db().msg_update_delivery("forever", R"({"delivery_state":"cancelled"})"));
    EXPECT_EQ(sorted("undelivered"), V{});
    for (const char* id : {"live", "forever", "acked"}) {
        const Result r = db().msg_update_delivery(id, R"({"delivery_state":"sent"})");
        EXPECT_EQ(r.status, MOOLAI_E_CONFLICT) << id;
        EXPECT_NE(r.error.find("ended"), std::string::npos) << r.error;
    }
    EXPECT_EQ(db().msg_update_delivery("acked", R"({"delivery_state":"cancelled"})").status,
              MOOLAI_E_CONFLICT);
    // The same end again, or a field other than the state, is not a conflict.
    OK(db().msg_update_delivery("live", R"({"delivery_state":"expired"})"));
    OK(db().msg_update_delivery("acked", R"({"acknowledged_at":"2026-11-28T10:00:01Z"})"));
    EXPECT_EQ(OK(db().msg_get("acked"))["delivery_state"], "acknowledged");
}


TEST_P(Storage, MessageListFiltersAndNewestFirstOrder) {
    org("A");
    org("B");
    orch("o1", "A");
    orch("o2", "B");
    db().freeze_clock(kT0);
    message("o1", "recommendation", "alpha cache", "m1");
    db().freeze_clock(kT0 + 1000);
    message("o1", "monitoring", "CPU high", "m2");
    db().freeze_clock(kT0 + 2000);
    message("o2", "recommendation", "ALPHA beta", "m3");
    db().freeze_clock(kT0 + 3000);
    message("o2", "monitoring", "same time b", "m4b");
    message("o2", "monitoring", "same time a", "m4a");
    OK(db().msg_set_status("m1", "pending", "accepted"));

    auto list = [&](Query q) { return ids(OK(db().msg_list(q)), "id"); };
    using V = std::vector<std::string>;
    EXPECT_EQ(list({}), (V{"m4a", "m4b", "m3", "m2", "m1"}));  // newest first, then id
    EXPECT_EQ(list({0, 0, "", "o1"}), (V{"m2", "m1"}));
    EXPECT_EQ(list({0, 0, "B"}), (V{"m4a", "m4b", "m3"}));
    EXPECT_EQ(list({0, 0, "", "", "accepted"}), V{"m1"});
    EXPECT_EQ(list({0, 0, "", "", "pending"}), (V{"m4a", "m4b", "m3", "m2"}));
    EXPECT_EQ(list({0, 0, "", "", "", "", "monitoring"}), (V{"m4a", "m4b", "m2"}));
    EXPECT_EQ(list({0, 0, "", "", "", "alpha"}), (V{"m3", "m1"}));
    EXPECT_EQ(list({0, 0, "A", "", "", "", "monitoring"}), V{"m2"});
    const json page = OK(db().msg_list({1, 2}));
    EXPECT_EQ(page["total"], 5);
    EXPECT_EQ(ids(page, "id"), (V{"m4b", "m3"}));
}

// ---- usage -------------------------------------------------------------------------------

TEST_P(Storage, UsageAggregatesByEachGroupOverTimeRanges) {
    db().freeze_clock(kT0);
    const json first = OK(db().usage_insert(
        R"({"orchestrator_id":"o-1","organization_id":"A","period":"2026-11-27T23:30:00Z","model":"gpt-4",
            "requests":2,"input_tokens":200,"output_tokens":80,"cost_usd":0.25})"));
    EXPECT_TRUE(first["id"].is_number_integer());
    EXPECT_EQ(first["period"], "2026-11-27T23:30:00Z");
    EXPECT_EQ(first["received_at"], kT0Text);
    EXPECT_DOUBLE_EQ(first["cost_usd"].get<double>(), 0.25);
    for (
        const char* rec : {
            R"({"orchestrator_id":"o-1","organization_id":"A","period":"2026-11-28T10:00:00Z","model":"gpt-4","requests":3,"input_tokens":300,"output_tokens":120,"cost_usd":0.5})",
            R"({"orchestrator_id":"o-2","organization_id":"B","period":"2026-11-28T12:00:00Z","model":"claude","requests":1,"input_tokens":100,"output_tokens":50,"cost_usd":0.1})",
            R"({"orchestrator_id":"o-2","organization_id":"B","period":"2026-11-29T00:00:00Z","model":"gpt-4","requests":4,"input_tokens":400,"output_tokens":160,"cost_usd":1})",
            R"({"orchestrator_id":"o-3","period":"2026-11-29T05:00:00+02:00","model":"claude","requests":5,"input_tokens":10,"output_tokens":5})",
        })
        OK(db().usage_insert(rec));

    // {key: [requests, input, output, cost]}
    using Sums = std::map<std::string, std::vector<double>>;
    auto aggregate = [&](Query q) {
        const json out = OK(db().usage_aggregate(q));
        Sums sums;
        std::vector<std::string> order;
        for (const auto& item : out["items"]) {
            EXPECT_TRUE(item["requests"].is_number_integer());
            EXPECT_TRUE(item["cost_usd"].is_number());
            sums[item["key"]] = {item["requests"].get<double>(), item["input_tokens"].get<double>(),
                                 item["output_tokens"].get<double>(),
                                 item["cost_usd"].get<double>()};
            order.push_back(item["key"]);
        }
        EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
        const json& t = out["total"];
        sums["TOTAL"] = {t["requests"].get<double>(), t["input_tokens"].get<double>(),
                         t["output_tokens"].get<double>(), t["cost_usd"].get<double>()};
        return sums;
    };
    auto expect = [](const Sums& got, const Sums& want) {
        ASSERT_EQ(got.size(), want.size());
        for (const auto& [key, values] : want) {
            ASSERT_TRUE(got.count(key)) << key;
            for (size_t i = 0; i < 4; ++i)
                EXPECT_NEAR(got.at(key)[i], values[i], 1e-9) << key << " #" << i;
        }
    };
    Query q;
    q.kind = "organization";
    expect(aggregate(q), {{"", {5, 10, 5, 0}},
                          {"A", {5, 500, 200, 0.75}},
                          {"B", {5, 500, 210, 1.1}},
                          {"TOTAL", {15, 1010, 415, 1.85}}});
    q.kind = "orchestrator";
    expect(aggregate(q), {{"o-1", {5, 500, 200, 0.75}},
                          {"o-2", {5, 500, 210, 1.1}},
                          {"o-3", {5, 10, 5, 0}},
                          {"TOTAL", {15, 1010, 415, 1.85}}});
    q.kind = "model";
    expect(aggregate(q), {{"claude", {6, 110, 55, 0.1}},
                          {"gpt-4", {9, 900, 360, 1.75}},
                          {"TOTAL", {15, 1010, 415, 1.85}}});
    q.kind = "day";
    expect(aggregate(q), {{"2026-11-27", {2, 200, 80, 0.25}},
                          {"2026-11-28", {4, 400, 170, 0.6}},
                          {"2026-11-29", {9, 410, 165, 1}},
                          {"TOTAL", {15, 1010, 415, 1.85}}});
    q.kind = "hour";  // UTC hours: 05:00+02:00 is 03:00Z
    expect(aggregate(q), {{"2026-11-27T23:00:00Z", {2, 200, 80, 0.25}},
                          {"2026-11-28T10:00:00Z", {3, 300, 120, 0.5}},
                          {"2026-11-28T12:00:00Z", {1, 100, 50, 0.1}},
                          {"2026-11-29T00:00:00Z", {4, 400, 160, 1}},
                          {"2026-11-29T03:00:00Z", {5, 10, 5, 0}},
                          {"TOTAL", {15, 1010, 415, 1.85}}});
    q.kind = "day";
    // [from, to): the report at exactly `to` is out, the one at `from` is in.
    q.from_ms = kT0;
    q.to_ms = 1795910400000;  // 2026-11-29T00:00:00Z
    expect(aggregate(q), {{"2026-11-28", {4, 400, 170, 0.6}}, {"TOTAL", {4, 400, 170, 0.6}}});
    q.from_ms = 1795910400000;
    q.to_ms = 0;
    expect(aggregate(q), {{"2026-11-29", {9, 410, 165, 1}}, {"TOTAL", {9, 410, 165, 1}}});
    q = Query{};
    q.kind = "model";
    q.organization_id = "A";
    expect(aggregate(q), {{"gpt-4", {5, 500, 200, 0.75}}, {"TOTAL", {5, 500, 200, 0.75}}});
    q.organization_id.clear();
    q.orchestrator_id = "o-2";
    expect(aggregate(q), {{"claude", {1, 100, 50, 0.1}},
                          {"gpt-4", {4, 400, 160, 1}},
                          {"TOTAL", {5, 500, 210, 1.1}}});
    q.orchestrator_id = "nobody";
    const json none = OK(db().usage_aggregate(q));
    EXPECT_EQ(none["items"], json::array());
    EXPECT_EQ(none["total"]["requests"], 0);
    EXPECT_EQ(none["total"]["cost_usd"], 0);
}

TEST_P(Storage, UsageBatchIsOneTransactionAllOrNone) {
    db().freeze_clock(kT0);
    const std::string a =
        R"({"orchestrator_id":"o-1","organization_id":"A","period":"2026-11-28T10:00:00Z","model":"gpt-4","requests":2,"input_tokens":200,"output_tokens":80,"cost_usd":0.25})";
    const std::string b =
        R"({"orchestrator_id":"o-2","organization_id":"A","period":"2026-11-28T11:00:00Z","model":"claude","requests":3,"input_tokens":30,"output_tokens":10,"cost_usd":0.5})";
    const std::string bad = R"({"orchestrator_id":"o-3","model":"m","period":"noon"})";
    auto stored_requests = [&] {
        Query q;
        q.kind = "model";
        return OK(db().usage_aggregate(q))["total"]["requests"].get<int64_t>();
    };

    // A bad record after a good one: nothing is stored, the error names it.
    const Result refused = db().usage_insert_batch("[" + a + "," + bad + "," + b + "]");
    EXPECT_EQ(refused.status, MOOLAI_E_INVALID);
    EXPECT_NE(refused.error.find("records_json[1]"), std::string::npos) << refused.error;
    EXPECT_NE(refused.error.find("period"), std::string::npos) << refused.error;
    EXPECT_EQ(stored_requests(), 0);
    EXPECT_STATUS(db().usage_insert_batch(a), MOOLAI_E_INVALID);  // not an array
    EXPECT_STATUS(db().usage_insert_batch("[" + a + ",1]"), MOOLAI_E_INVALID);
    EXPECT_STATUS(db().usage_insert_batch("[{"), MOOLAI_E_INVALID);
    EXPECT_EQ(stored_requests(), 0);

    EXPECT_EQ(OK(db().usage_insert_batch("[" + a + "," + b + "]"))["inserted"], 2);
    EXPECT_EQ(stored_requests(), 5);
    EXPECT_EQ(OK(db().usage_insert_batch("[]"))["inserted"], 0);
    EXPECT_EQ(stored_requests(), 5);
    Query by_model;
    by_model.kind = "model";
    const json out = OK(db().usage_aggregate(by_model));
    ASSERT_EQ(out["items"].size(), 2u);
    EXPECT_DOUBLE_EQ(out["total"]["cost_usd"].get<double>(), 0.75);
}

// ---- users and sessions ------------------------------------------------------------------

TEST_P(Storage, UsersCrudFiltersAndSecretHashes) {
    org("org-u");
    const json alice = OK(db().user_create(
        R"({"username":"alice","password_hash":"$argon2id$v=19$A","role":"superadmin"})"));
    EXPECT_EQ(alice["username"], "alice");
    EXPECT_EQ(alice["role"], "superadmin");
    EXPECT_TRUE(alice["organization_id"].is_null());
    EXPECT_TRUE(is_time(alice["created_at"]));
    EXPECT_FALSE(alice.contains("password_hash"));
    OK(db().user_create(
        R"({"username":"bob","password_hash":"hb","role":"org_admin","organization_id":"org-u"})"));
    OK(db().user_create(
        R"({"username":"carol","password_hash":"hc","role":"org_admin","organization_id":"org-u"})"));
    EXPECT_STATUS(
        db().user_create(R"({"username":"alice","password_hash":"x","role":"superadmin"})"),
        MOOLAI_E_CONFLICT);
    EXPECT_STATUS(
        db().user_create(
            R"({"username":"dave","password_hash":"x","role":"org_admin","organization_id":"nope"})"),
        MOOLAI_E_NOT_FOUND);
    EXPECT_EQ(OK(db().user_get("alice"))["password_hash"], "$argon2id$v=19$A");

    const json all = OK(db().user_list());
    EXPECT_EQ(all["total"], 3);
    EXPECT_EQ(ids(all, "username"), (std::vector<std::string>{"alice", "bob", "carol"}));
    for (const auto& u : all["items"]) EXPECT_FALSE(u.contains("password_hash"));
    using V = std::vector<std::string>;
    EXPECT_EQ(ids(OK(db().user_list({0, 0, "org-u"})), "username"), (V{"bob", "carol"}));
    EXPECT_EQ(ids(OK(db().user_list({0, 0, "", "", "superadmin"})), "username"), V{"alice"});
    EXPECT_EQ(ids(OK(db().user_list({0, 0, "", "", "org_admin", "AR"})), "username"), V{"carol"});

    const json bob = OK(db().user_update("bob", R"({"password_hash":"hb2"})"));
    EXPECT_FALSE(bob.contains("password_hash"));
    EXPECT_EQ(OK(db().user_get("bob"))["password_hash"], "hb2");
    EXPECT_STATUS(db().user_update("alice", R"({"role":"org_admin"})"), MOOLAI_E_INVALID);
    EXPECT_STATUS(db().user_update("bob", R"({"organization_id":null})"), MOOLAI_E_INVALID);
    EXPECT_STATUS(db().user_update("alice", R"({"role":"root"})"), MOOLAI_E_INVALID);
    EXPECT_EQ(
        OK(db().user_update("alice", R"({"role":"org_admin","organization_id":"org-u"})"))["role"],
        "org_admin");
    EXPECT_STATUS(db().user_update("nobody", R"({"role":"superadmin"})"), MOOLAI_E_NOT_FOUND);
    EXPECT_STATUS(db().user_delete("carol"), MOOLAI_OK);
    EXPECT_STATUS(db().user_get("carol"), MOOLAI_E_NOT_FOUND);
    EXPECT_STATUS(db().user_delete("carol"), MOOLAI_E_NOT_FOUND);
}

TEST_P(Storage, SessionsExpirePurgeAndCascadeWithTheirUser) {
    db().freeze_clock(kT0);
    org("org-s");
    OK(db().user_create(
        R"({"username":"alice","password_hash":"h","role":"org_admin","organization_id":"org-s"})"));
    const json s = OK(db().session_create(
        R"({"token_hash":"t1","username":"alice","expires_at":"2026-11-28T11:00:00Z"})"));
    EXPECT_EQ(s["token_hash"], "t1");
    EXPECT_EQ(s["username"], "alice");
    EXPECT_EQ(s["created_at"], kT0Text);
    EXPECT_EQ(s["expires_at"], "2026-11-28T11:00:00Z");
    EXPECT_STATUS(
        db().session_create(
            R"({"token_hash":"t1","username":"alice","expires_at":"2026-11-28T11:00:00Z"})"),
        MOOLAI_E_CONFLICT);
    EXPECT_STATUS(
        db().session_create(
            R"({"token_hash":"tx","username":"nobody","expires_at":"2026-11-28T11:00:00Z"})"),
        MOOLAI_E_NOT_FOUND);

    const json got = OK(db().session_get("t1"));
    EXPECT_EQ(got["username"], "alice");
    EXPECT_EQ(got["role"], "org_admin");
    EXPECT_EQ(got["organization_id"], "org-s");
    EXPECT_EQ(got["expires_at"], "2026-11-28T11:00:00Z");

    OK(db().session_create(
        R"({"token_hash":"t2","username":"alice","expires_at":"2026-11-28T09:59:59Z"})"));
    EXPECT_STATUS(db().session_get("t2"), MOOLAI_E_NOT_FOUND);  // already expired
    db().freeze_clock(kT0 + 2 * 3600 * 1000);
    EXPECT_STATUS(db().session_get("t1"), MOOLAI_E_NOT_FOUND);  // expired by now
    db().freeze_clock(kT0);
    EXPECT_EQ(OK(db().session_purge(kT0))["removed"], 1);  // only t2
    EXPECT_EQ(OK(db().session_purge(kT0))["removed"], 0);
    OK(db().session_get("t1"));

    OK(db().session_create(
        R"({"token_hash":"t3","username":"alice","expires_at":"2026-11-28T12:00:00Z"})"));
    EXPECT_STATUS(db().session_delete("t3"), MOOLAI_OK);
    EXPECT_STATUS(db().session_get("t3"), MOOLAI_E_NOT_FOUND);
    EXPECT_STATUS(db().session_delete("t3"), MOOLAI_E_NOT_FOUND);

    // Deleting the user deletes its sessions: a new "alice" does not inherit t1.
    OK(db().user_delete("alice"));
    OK(db().user_create(R"({"username":"alice","password_hash":"h","role":"superadmin"})"));
    EXPECT_STATUS(db().session_get("t1"), MOOLAI_E_NOT_FOUND);
    EXPECT_EQ(OK(db().session_purge(INT64_MAX))["removed"], 0);
}

// 1.3: a new password, role or organization ends the user's sessions in
// the same transaction (but the one the patch keeps); other changes and
// other users' sessions are left alone.
TEST_P(Storage, UserUpdateEndsTheirSessionsOnANewPasswordOrRole) {
    db().freeze_clock(kT0);
    org("org-a");
    org("org-b");
    OK(db().user_create(
        R"({"username":"alice","password_hash":"h","role":"org_admin","organization_id":"org-a"})"));
    OK(db().user_create(R"({"username":"bob","password_hash":"h","role":"superadmin"})"));
    auto session = [&](const std::string& token, const std::string& user) {
        OK(db().session_create(json{{"token_hash", token},
                                    {"username", user},
                                    {"expires_at", "2026-11-28T12:00:00Z"}}
                                   .dump()));
    };
    session("a1", "alice");
    session("a2", "alice");
    session("a3", "alice");
    session("b1", "bob");

    // The same role and organization again: nothing ends.
    EXPECT_EQ(OK(db().user_update("alice", R"({"role":"org_admin","organization_id":"org-a"})"))
                  ["sessions_ended"],
              0);
    OK(db().session_get("a1"));

    // A new password, keeping the session it was set from.
    const json pw = OK(db().user_update("alice", R"({"password_hash":"h2","keep_session":"a1"})"));
    EXPECT_EQ(pw["sessions_ended"], 2);
    EXPECT_FALSE(pw.contains("password_hash"));
    EXPECT_FALSE(pw.contains("keep_session"));
    OK(db().session_get("a1"));
    EXPECT_STATUS(db().session_get("a2"), MOOLAI_E_NOT_FOUND);
    EXPECT_STATUS(db().session_get("a3"), MOOLAI_E_NOT_FOUND);
    OK(db().session_get("b1"));
    EXPECT_EQ(OK(db().user_get("alice"))["password_hash"], "h2");

    // The same password hashed anew (at login): every session stays.
    session("a2", "alice");
    const json rehash =
        OK(db().user_update("alice", R"({"password_hash":"h2-stronger","keep_sessions":true})"));
    EXPECT_EQ(rehash["sessions_ended"], 0);
    OK(db().session_get("a1"));
    OK(db().session_get("a2"));
    EXPECT_EQ(OK(db().user_get("alice"))["password_hash"], "h2-stronger");
    EXPECT_STATUS(db().user_update("alice", R"({"password_hash":"x","keep_sessions":"yes"})"),
                  MOOLAI_E_INVALID);
    OK(db().session_get("a2"));

    // Another organization ends them all.
    session("a4", "alice");
    EXPECT_EQ(OK(db().user_update("alice", R"({"organization_id":"org-b"})"))["sessions_ended"], 3);
    EXPECT_STATUS(db().session_get("a1"), MOOLAI_E_NOT_FOUND);
    EXPECT_STATUS(db().session_get("a4"), MOOLAI_E_NOT_FOUND);

    // A role change too; a refused change ends nothing.
    session("b2", "bob");
    EXPECT_STATUS(db().user_update("bob", R"({"role":"org_admin"})"), MOOLAI_E_INVALID);
    OK(db().session_get("b1"));
    EXPECT_STATUS(db().user_update("bob", R"({"password_hash":"x","keep_session":7})"),
                  MOOLAI_E_INVALID);
    OK(db().session_get("b1"));
    EXPECT_EQ(OK(db().user_update("bob", R"({"role":"org_admin","organization_id":"org-a"})"))
                  ["sessions_ended"],
              2);
    EXPECT_STATUS(db().session_get("b1"), MOOLAI_E_NOT_FOUND);
    EXPECT_STATUS(db().session_get("b2"), MOOLAI_E_NOT_FOUND);
    EXPECT_STATUS(db().user_update("nobody", R"({"password_hash":"x"})"), MOOLAI_E_NOT_FOUND);
}

// ---- audit --------------------------------------------------------------------------------

TEST_P(Storage, AuditAppendsAndListsNewestFirstWithFilters) {
    db().freeze_clock(kT0 + 60000);
    const json e1 = OK(db().audit_append(
        R"({"time":"2026-11-28T10:00:00Z","actor":"admin","action":"independence","organization_id":"A",
            "orchestrator_id":"o1","old_value":"false","new_value":"true","detail":{"ip":"10.0.0.1"}})"));
    EXPECT_TRUE(e1["id"].is_number_integer());
    EXPECT_EQ(e1["time"], kT0Text);
    EXPECT_EQ(e1["detail"], json::parse(R"({"ip":"10.0.0.1"})"));
    EXPECT_EQ(e1["old_value"], "false");
    const json e2 =
        OK(db().audit_append(R"({"actor":"system","action":"status","orchestrator_id":"o2"})"));
    EXPECT_EQ(e2["time"], "2026-11-28T10:01:00Z");  // now, when absent
    EXPECT_TRUE(e2["organization_id"].is_null());
    EXPECT_EQ(e2["detail"], json::object());
    EXPECT_GT(e2["id"].get<int64_t>(), e1["id"].get<int64_t>());
    // Older time than e2 but appended later: order is by id, not time.
    OK(db().audit_append(
        R"({"time":"2026-11-28T09:00:00Z","actor":"Admin2","action":"independence","organization_id":"B"})"));
    OK(db().audit_append(
        R"({"time":"2026-11-28T11:00:00Z","actor":"bob","action":"login","organization_id":"A"})"));

    auto actors = [&](Query q) { return ids(OK(db().audit_list(q)), "actor"); };
    using V = std::vector<std::string>;
    EXPECT_EQ(actors({}), (V{"bob", "Admin2", "system", "admin"}));
    EXPECT_EQ(OK(db().audit_list({}))["total"], 4);
    EXPECT_EQ(actors({0, 0, "A"}), (V{"bob", "admin"}));
    EXPECT_EQ(actors({0, 0, "", "o2"}), V{"system"});
    EXPECT_EQ(actors({0, 0, "", "", "", "", "independence"}), (V{"Admin2", "admin"}));
    EXPECT_EQ(actors({0, 0, "", "", "", "ADMIN"}), (V{"Admin2", "admin"}));
    EXPECT_EQ(actors({0, 0, "", "", "", "", "", kT0, kT0 + 60000}), V{"admin"});
    EXPECT_EQ(actors({0, 0, "", "", "", "", "", kT0, 0}), (V{"bob", "system", "admin"}));
    EXPECT_EQ(actors({0, 0, "", "", "", "", "", 0, kT0}), V{"Admin2"});
    EXPECT_EQ(actors({1, 2}), (V{"Admin2", "system"}));
}

// ---- the audit chain (1.3) --------------------------------------------------------------

constexpr const char* kGenesis = "0000000000000000000000000000000000000000000000000000000000000000";

std::string sha256_hex(const std::string& data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EXPECT_EQ(EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr), 1);
    std::string out;
    char hex[3];
    for (unsigned int i = 0; i < len; ++i) {
        std::snprintf(hex, sizeof hex, "%02x", md[i]);
        out += hex;
    }
    return out;
}

// docs/abi.md, "The audit chain", applied to a record as audit_list returns
// it: written from the document, not from the plugin's code.
std::string documented_hash(const json& rec) {
    json canonical = json::array();
    canonical.push_back(rec["id"]);
    for (const char* f : {"time", "actor", "action", "organization_id", "orchestrator_id", "old_value",
                          "new_value"})
        canonical.push_back(rec[f]);
    canonical.push_back(rec["detail"]);  // nlohmann's json sorts object keys
    return sha256_hex(rec["prev_hash"].get<std::string>() + "\n" + canonical.dump());
}

class AuditChain : public Storage {
  protected:
    // Runs `sql` on the database behind the plugin, as someone with direct
    // access to the database would.
    void raw_sql(const std::string& sql) {
        if (GetParam() == Backend::Postgres) {
            postgres_exec(sql);
            return;
        }
        sqlite3* conn = nullptr;
        ASSERT_EQ(sqlite3_open((dir_ / "moolai.db").c_str(), &conn), SQLITE_OK);
        sqlite3_busy_timeout(conn, 5000);
        char* error = nullptr;
        EXPECT_EQ(sqlite3_exec(conn, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
            << sql << ": " << (error ? error : "");
        sqlite3_free(error);
        sqlite3_close(conn);
    }
    // Appends n entries; returns their ids, oldest first.
    std::vector<int64_t> append(int n, const std::string& actor = "admin") {
        std::vector<int64_t> ids;
        for (int i = 0; i < n; ++i)
            ids.push_back(OK(db().audit_append(json{{"actor", actor},
                                                     {"action", "independence"},
                                                     {"orchestrator_id", "o" + std::to_string(i)},
                                                     {"old_value", "false"},
                                                     {"new_value", "true"},
                                                     {"detail", {{"z", i}, {"a", {1.5, "x"}}}}}
                                                    .dump()))["id"]
                              .get<int64_t>());
        return ids;
    }
    json verify() { return OK(db().audit_verify()); }
};

TEST_P(AuditChain, EveryAppendedRowLinksToThePreviousOneAsDocumented) {
    const std::vector<int64_t> ids = append(4);
    const json items = OK(db().audit_list())["items"];  // newest first
    ASSERT_EQ(items.size(), 4u);
    std::string prev = kGenesis;
    for (size_t i = items.size(); i-- > 0;) {
        const json& rec = items[i];
        EXPECT_EQ(rec["prev_hash"], prev) << rec;
        EXPECT_EQ(rec["hash"].get<std::string>().size(), 64u);
        EXPECT_EQ(rec["hash"], documented_hash(rec)) << rec;
        prev = rec["hash"];
    }
    const json v = verify();
    EXPECT_EQ(v["ok"], true) << v;
    EXPECT_EQ(v["rows"], 4);
    EXPECT_EQ(v["chained"], 4);
    EXPECT_EQ(v["unchained_before"], 0);
    EXPECT_TRUE(v["first_broken"].is_null());
    EXPECT_EQ(v["head"]["id"], ids.back());
    EXPECT_EQ(v["head"]["hash"], prev);
}

TEST_P(AuditChain, AnEmptyLogVerifies) {
    const json v = verify();
    EXPECT_EQ(v["ok"], true) << v;
    EXPECT_EQ(v["rows"], 0);
    EXPECT_TRUE(v["head"].is_null());
}

TEST_P(AuditChain, ARowChangedInTheDatabaseIsReported) {
    const std::vector<int64_t> ids = append(5);
    raw_sql("UPDATE audit_log SET actor = 'mallory' WHERE id = " + std::to_string(ids[2]));
    const json v = verify();
    EXPECT_EQ(v["ok"], false) << v;
    EXPECT_EQ(v["first_broken"]["id"], ids[2]) << v;
    EXPECT_NE(v["first_broken"]["reason"].get<std::string>().find("was changed after it was written"),
              std::string::npos)
        << v;
    EXPECT_EQ(v["rows"], 5);
}

TEST_P(AuditChain, AChangedDetailOrTimeIsReported) {
    const std::vector<int64_t> ids = append(3);
    raw_sql("UPDATE audit_log SET detail = '{\"z\":9}' WHERE id = " + std::to_string(ids[1]));
    EXPECT_EQ(verify()["first_broken"]["id"], ids[1]);
    raw_sql("UPDATE audit_log SET detail = '{\"z\":1,\"a\":[1.5,\"x\"]}' WHERE id = " +
            std::to_string(ids[1]));
    EXPECT_EQ(verify()["ok"], true) << "the original detail, spelt differently, verifies again";
    raw_sql("UPDATE audit_log SET time = " +
            std::string(GetParam() == Backend::Postgres ? "time - INTERVAL '1 hour'"
                                                        : "time - 3600000") +
            " WHERE id = " + std::to_string(ids[0]));
    EXPECT_EQ(verify()["first_broken"]["id"], ids[0]);
}

TEST_P(AuditChain, ARemovedRowIsReportedAtTheRowAfterIt) {
    const std::vector<int64_t> ids = append(5);
    raw_sql("DELETE FROM audit_log WHERE id = " + std::to_string(ids[2]));
    const json v = verify();
    EXPECT_EQ(v["ok"], false);
    EXPECT_EQ(v["first_broken"]["id"], ids[3]) << v;
    EXPECT_NE(v["first_broken"]["reason"].get<std::string>().find("were removed"),
              std::string::npos)
        << v;
}

TEST_P(AuditChain, RemovingTheOldestOrTheNewestRowsIsReported) {
    std::vector<int64_t> ids = append(4);
    raw_sql("DELETE FROM audit_log WHERE id = " + std::to_string(ids.back()));
    json v = verify();
    EXPECT_EQ(v["ok"], false);
    EXPECT_EQ(v["first_broken"]["id"], ids.back()) << v;
    EXPECT_NE(v["first_broken"]["reason"].get<std::string>().find("newest rows were removed"),
              std::string::npos)
        << v;

    raw_sql("DELETE FROM audit_log");
    v = verify();
    EXPECT_EQ(v["ok"], false) << "an emptied log is not a clean one";
    EXPECT_NE(v["first_broken"]["reason"].get<std::string>().find("no chained row is left"),
              std::string::npos)
        << v;

    ids = append(3);
    raw_sql("DELETE FROM audit_log WHERE id <> " + std::to_string(ids.back()));
    v = verify();
    EXPECT_EQ(v["first_broken"]["id"], ids.back()) << v;
    EXPECT_NE(v["first_broken"]["reason"].get<std::string>().find("genesis"), std::string::npos)
        << v;
}

TEST_P(AuditChain, ARowInsertedDirectlyIsReportedButOlderUnchainedRowsAreNot) {
    // Rows from before the chain existed (schema 6) have no hash.
    raw_sql("INSERT INTO audit_log (actor, action) VALUES ('old', 'login')");
    raw_sql("INSERT INTO audit_log (actor, action) VALUES ('old', 'login')");
    append(2);
    json v = verify();
    EXPECT_EQ(v["ok"], true) << v;
    EXPECT_EQ(v["unchained_before"], 2);
    EXPECT_EQ(v["chained"], 2);
    raw_sql("INSERT INTO audit_log (actor, action) VALUES ('mallory', 'login')");
    v = verify();
    EXPECT_EQ(v["ok"], false);
    EXPECT_NE(v["first_broken"]["reason"].get<std::string>().find("inserted directly"),
              std::string::npos)
        << v;
}

TEST_P(AuditChain, ConcurrentAppendsFromTwoInstancesKeepOneChain) {
    // Two plugin instances on one database stand for two controller hosts.
    auto other = open();
    ASSERT_TRUE(other);
    constexpr int kEach = 40;
    std::atomic<int> failures{0};
    auto writer = [&](StoragePlugin* s, const std::string& actor) {
        for (int i = 0; i < kEach; ++i)
            if (!s->audit_append(json{{"actor", actor}, {"action", "test"}}.dump()).ok()) ++failures;
    };
    std::thread a(writer, &db(), "a"), b(writer, other.get(), "b"), c(writer, other.get(), "c");
    writer(&db(), "d");
    a.join();
    b.join();
    c.join();
    EXPECT_EQ(failures.load(), 0);
    const json v = verify();
    EXPECT_EQ(v["ok"], true) << v;
    EXPECT_EQ(v["chained"], 4 * kEach);
}

TEST_P(AuditChain, VerifyWalksPastOnePage) {
    for (int i = 0; i < 3; ++i) append(400);  // the verifier reads 1,000 rows a page
    raw_sql("UPDATE audit_log SET new_value = 'x' WHERE id = (SELECT MAX(id) FROM audit_log)");
    const json v = verify();
    EXPECT_EQ(v["rows"], 1200);
    EXPECT_EQ(v["chained"], 1199) << v;
    EXPECT_EQ(v["ok"], false);
}

// ---- cascades ---------------------------------------------------------------------------

TEST_P(Storage, DeletesCascadeToOrchestratorsAndMessages) {
    org("A");
    org("B");
    orch("a1", "A");
    orch("a2", "A");
    orch("b1", "B");
    message("a1", "recommendation", "x", "m-a1");
    message("a2", "recommendation", "x", "m-a2");
    message("b1", "recommendation", "x", "m-b1");

    EXPECT_STATUS(db().orch_delete("a1"), MOOLAI_OK);
    EXPECT_STATUS(db().msg_get("m-a1"), MOOLAI_E_NOT_FOUND);
    OK(db().msg_get("m-a2"));

    EXPECT_STATUS(db().org_delete("A"), MOOLAI_OK);
    EXPECT_STATUS(db().orch_get("a2"), MOOLAI_E_NOT_FOUND);
    EXPECT_STATUS(db().msg_get("m-a2"), MOOLAI_E_NOT_FOUND);
    OK(db().orch_get("b1"));
    OK(db().msg_get("m-b1"));
    EXPECT_EQ(OK(db().orch_list())["total"], 1);
    EXPECT_EQ(OK(db().msg_list())["total"], 1);
}

// ---- concurrency ------------------------------------------------------------------------

TEST_P(Storage, EightThreadsMixingWritesAndReads) {
    org("org-c");
    constexpr int kThreads = 8, kRounds = 25;
    std::atomic<int> failures{0};
    std::mutex first_mu;
    std::string first_error;
    auto check = [&](const Result& r, const char* what) {
        if (r.ok()) return;
        if (failures++ == 0) {
            std::lock_guard<std::mutex> lock(first_mu);
            first_error = std::string(what) + ": " + r.error;
        }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kRounds; ++i) {
                const std::string id = "c-" + std::to_string(t) + "-" + std::to_string(i);
                check(db().orch_create(
                          json{{"orchestrator_id", id}, {"organization_id", "org-c"}}.dump()),
                      "orch_create");
                moolai_heartbeat_row hb{};
                hb.orchestrator_id = moolai_str{id.data(), id.size()};
                hb.last_seen_ms = kT0 + i;
                hb.status = MOOLAI_ORCH_ACTIVE;
                check(db().heartbeats_write(&hb, 1, sizeof hb), "heartbeats_write");
                check(db().orch_get(id), "orch_get");
                check(db().orch_list({0, 10, "org-c", "", "active"}), "orch_list");
                const Result m = db().msg_create(json{
                    {"orchestrator_id", id},
                    {"message_type", "monitoring"},
                    {"content", "load"}}.dump());
                check(m, "msg_create");
                if (m.ok())
                    check(db().msg_set_status(m.json()["id"].get<std::string>(), "pending",
                                              "accepted"),
                          "msg_set_status");
                check(db().audit_append(json{{"actor", id}, {"action", "test"}}.dump()),
                      "audit_append");
                check(db().usage_insert(json{
                          {"orchestrator_id", id},
                          {"period", kT0Text},
                          {"model", "m"},
                          {"requests", 1}}.dump()),
                      "usage_insert");
                check(db().msg_list({0, 5, "org-c"}), "msg_list");
                check(db().orch_set_independence(id, i % 2 == 0), "orch_set_independence");
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0) << first_error;
    constexpr int kTotal = kThreads * kRounds;
    EXPECT_EQ(OK(db().orch_list())["total"], kTotal);
    EXPECT_EQ(OK(db().msg_list({0, 0, "", "", "accepted"}))["total"], kTotal);
    EXPECT_EQ(OK(db().audit_list())["total"], kTotal);
    Query q;
    q.kind = "model";
    EXPECT_EQ(OK(db().usage_aggregate(q))["total"]["requests"], kTotal);
    EXPECT_EQ(OK(db().orch_list({0, 0, "", "", "independent"}))["total"],
              kThreads * ((kRounds + 1) / 2));
}

// ---- hostile strings ----------------------------------------------------------------------

TEST_P(Storage, HostileStringsRoundTrip) {
    const std::vector<std::string> hostile = {
        R"(q"uote)",
        "com,ma",
        R"(back\slash)",
        "{brace}",
        "[bracket]",
        "'single'",
        "ünïcödé",
        "日本語",
        "emoji🚀",
        "%_like",
        "sp ace",
        "tab\there",
        "new\nline",
        "semi;colon--",
        "NULL",
        R"("{a,b}")",
        R"(\\)",
        "$1",
        "?1",
        "\u00a0nbsp",
        "x\u202eRTL",
        R"({"json":1})",
        "a'); DROP TABLE organizations;--",
    };
    std::vector<std::string> orch_ids;
    for (size_t i = 0; i < hostile.size(); ++i) {
        const std::string& h = hostile[i];
        const std::string org_id = "org" + h, orch_id = "o" + h;
        const json o = OK(db().org_create(
            json{{"organization_id", org_id}, {"name", h}, {"metadata", {{h, h}}}}.dump()));
        EXPECT_EQ(o["organization_id"], org_id);
        EXPECT_EQ(o["metadata"][h], h);
        EXPECT_EQ(OK(db().org_get(org_id)), o);
        OK(db().orch_create(json{
            {"orchestrator_id", orch_id},
            {"organization_id", org_id},
            {"name", h},
            {"credential_hash",
             h}}.dump()));
        EXPECT_EQ(OK(db().orch_get(orch_id))["name"], h);
        orch_ids.push_back(orch_id);
        const json m = OK(db().msg_create(json{
            {"id", "m" + h},
            {"orchestrator_id", orch_id},
            {"message_type", h},
            {"content", h},
            {"message_metadata", {{"k", h}}}}.dump()));
        EXPECT_EQ(m["content"], h);
        EXPECT_EQ(OK(db().msg_set_status("m" + h, "pending", "accepted"))["id"], "m" + h);
        OK(db().user_create(json{
            {"username", "u" + h},
            {"password_hash", h},
            {"role", "org_admin"},
            {"organization_id",
             org_id}}.dump()));
        EXPECT_EQ(OK(db().user_get("u" + h))["password_hash"], h);
        OK(db().session_create(json{
            {"token_hash", "t" + h}, {"username", "u" + h}, {"expires_at", "2999-01-01T00:00:00Z"}}
                                   .dump()));
        EXPECT_EQ(OK(db().session_get("t" + h))["organization_id"], org_id);
        OK(db().audit_append(json{
            {"actor", h}, {"action", h}, {"old_value", h}, {"new_value", h}, {"detail", {{h, h}}}}
                                 .dump()));
        OK(db().usage_insert(json{
            {"orchestrator_id", orch_id},
            {"organization_id", org_id},
            {"period", kT0Text},
            {"model", h},
            {"requests", 1}}.dump()));
        EXPECT_EQ(OK(db().orch_list({0, 0, org_id}))["items"][0]["orchestrator_id"], orch_id);
        EXPECT_EQ(OK(db().audit_list({0, 0, "", "", "", "", h}))["items"][0]["detail"][h], h);
    }
    // Every id in one heartbeat batch.
    std::vector<moolai_heartbeat_row> rows;
    for (size_t i = 0; i < orch_ids.size(); ++i) {
        moolai_heartbeat_row r{};
        r.orchestrator_id = moolai_str{orch_ids[i].data(), orch_ids[i].size()};
        r.last_seen_ms = kT0 + static_cast<int64_t>(i);
        r.status = MOOLAI_ORCH_ACTIVE;
        rows.push_back(r);
    }
    OK(db().heartbeats_write(rows.data(), rows.size(), sizeof(moolai_heartbeat_row)));
    std::vector<ScanRow> scanned;
    OK(db().orch_scan(scanned));
    ASSERT_EQ(scanned.size(), hostile.size());
    for (const ScanRow& r : scanned) {
        const auto at = std::find(orch_ids.begin(), orch_ids.end(), r.orchestrator_id);
        ASSERT_NE(at, orch_ids.end()) << r.orchestrator_id;
        const size_t i = static_cast<size_t>(at - orch_ids.begin());
        EXPECT_EQ(r.last_seen_ms, kT0 + static_cast<int64_t>(i)) << r.orchestrator_id;
        EXPECT_EQ(r.credential_hash, hostile[i]);
        EXPECT_EQ(r.name, hostile[i]);
        EXPECT_EQ(r.status, MOOLAI_ORCH_ACTIVE);
    }
    // Search is a literal, ASCII-case-insensitive substring on both backends.
    auto fold = [](std::string s) {
        for (char& c : s)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        return s;
    };
    for (const std::string& h : hostile) {
        std::set<std::string> want;
        for (size_t i = 0; i < hostile.size(); ++i)
            if (fold(orch_ids[i]).find(fold(h)) != std::string::npos ||
                fold(hostile[i]).find(fold(h)) != std::string::npos)
                want.insert(orch_ids[i]);
        const auto got = ids(OK(db().orch_list({0, 0, "", "", "", h})), "orchestrator_id");
        EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), want) << "search " << h;
    }
    // Grouping keeps every model apart.
    Query q;
    q.kind = "model";
    EXPECT_EQ(OK(db().usage_aggregate(q))["items"].size(), hostile.size());
}

// ---- several hosts on one store (1.4) ---------------------------------------------

// Notifications reach every listener on the store, the sender included, in
// the order sent; a payload too large for one notification is read back
// whole from the spill table. SQLite's channel is its one process: another
// instance on the same file (another process in real life) is PostgreSQL's.
TEST_P(Storage, NotificationsReachEveryListenerInOrderLargeOnesWhole) {
    auto other = GetParam() == Backend::Postgres ? open() : nullptr;
    OK(db().listen("moolai_test"));
    if (other) OK(other->listen("moolai_test"));
    const std::string large(20000, 'x');
    for (const std::string& p : {std::string("one"), std::string("two"), large,
                                 std::string("{\"three\":3}")})
        OK(db().notify("moolai_test", p));
    const std::vector<std::pair<std::string, std::string>> want = {
        {"moolai_test", "one"}, {"moolai_test", "two"}, {"moolai_test", large},
        {"moolai_test", "{\"three\":3}"}};
    for (StoragePlugin* p : {&db(), other.get()}) {
        if (p == nullptr) continue;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (p->notifications().size() < want.size() &&
               std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        EXPECT_EQ(p->notifications(), want);
    }
    EXPECT_STATUS(db().notify("Bad-Channel", "x"), MOOLAI_E_INVALID);
    EXPECT_STATUS(db().listen(""), MOOLAI_E_INVALID);
    EXPECT_STATUS(db().notify("moolai_test", std::string(2, '\0')), MOOLAI_E_INVALID);
}

// One leader at a time: the first host's lease, kept while renewed, taken
// by another when it lapses or its host leaves; dead hosts are not listed.
TEST_P(Storage, OneHostLeadsAndTheLeadMovesWhenItsLeaseEnds) {
    auto other = open();
    ASSERT_TRUE(other);
    const int64_t t0 = 1790000000000;
    db().freeze_clock(t0);
    other->freeze_clock(t0);
    json a = OK(db().host_lease("host-a", 10000, R"({"rest_port":1})"));
    EXPECT_EQ(a["leader"], "host-a");
    json b = OK(other->host_lease("host-b", 10000, "{}"));
    EXPECT_EQ(b["leader"], "host-a") << b;
    ASSERT_EQ(b["hosts"].size(), 2u) << b;
    EXPECT_EQ(b["hosts"][0]["host_id"], "host-a");
    EXPECT_EQ(b["hosts"][0]["info"]["rest_port"], 1);
    EXPECT_EQ(b["hosts"][0]["lease_until"], t0 + 10000);
    // host-a stops renewing: past its lease, host-b takes the lead.
    db().freeze_clock(t0 + 10001);
    other->freeze_clock(t0 + 10001);
    b = OK(other->host_lease("host-b", 10000, "{}"));
    EXPECT_EQ(b["leader"], "host-b") << b;
    ASSERT_EQ(b["hosts"].size(), 1u) << b;
    // host-a is back: host-b keeps the lead while it renews.
    a = OK(db().host_lease("host-a", 10000, "{}"));
    EXPECT_EQ(a["leader"], "host-b") << a;
    // host-b leaves: the lead is free at once.
    b = OK(other->host_lease("host-b", 0, "{}"));
    EXPECT_TRUE(b["leader"].is_null()) << b;
    a = OK(db().host_lease("host-a", 10000, "{}"));
    EXPECT_EQ(a["leader"], "host-a") << a;
    EXPECT_EQ(a["hosts"].size(), 1u) << a;
    EXPECT_STATUS(db().host_lease("bad host id", 1000, "{}"), MOOLAI_E_INVALID);
    EXPECT_STATUS(db().host_lease("host-a", -1, "{}"), MOOLAI_E_INVALID);
    EXPECT_STATUS(db().host_lease("host-a", 1000, "[]"), MOOLAI_E_INVALID);
}

// 1.5: a heartbeat batch and the lease in one transaction. Both land, the
// answer is host_lease's; when one part is refused neither does.
TEST_P(Storage, ABatchWithTheLeaseWritesBothOrNeither) {
    org("acme");
    orch("o1", "acme");
    orch("o2", "acme");
    const int64_t t0 = 1790000000000;
    db().freeze_clock(t0);
    std::vector<moolai_heartbeat_row> rows(2);
    const std::string ids[2] = {"o1", "o2"};
    for (size_t i = 0; i < 2; ++i) {
        rows[i].orchestrator_id = moolai_str{ids[i].data(), ids[i].size()};
        rows[i].last_seen_ms = t0 - 1000;
        rows[i].status = MOOLAI_ORCH_ACTIVE;
    }
    json a = OK(db().heartbeats_write_leased(rows.data(), 2, sizeof(moolai_heartbeat_row),
                                             "host-a", 10000, R"({"rest_port":1})"));
    EXPECT_EQ(a["leader"], "host-a") << a;
    ASSERT_EQ(a["hosts"].size(), 1u) << a;
    EXPECT_EQ(a["hosts"][0]["lease_until"], t0 + 10000);
    EXPECT_EQ(a["hosts"][0]["info"]["rest_port"], 1);
    for (const std::string& id : ids) {
        const json o = OK(db().orch_get(id));
        EXPECT_EQ(o["status"], "active") << o;
        EXPECT_FALSE(o["last_seen"].is_null()) << o;
    }
    // An empty batch renews the lease alone.
    db().freeze_clock(t0 + 5000);
    a = OK(db().heartbeats_write_leased(nullptr, 0, sizeof(moolai_heartbeat_row), "host-a", 10000,
                                        "{}"));
    EXPECT_EQ(a["hosts"][0]["lease_until"], t0 + 15000) << a;
    // A refused row: host-b's lease is not written either.
    rows[1].status = 7;
    EXPECT_STATUS(db().heartbeats_write_leased(rows.data(), 2, sizeof(moolai_heartbeat_row),
                                               "host-b", 10000, "{}"),
                  MOOLAI_E_INVALID);
    a = OK(db().host_lease("host-a", 10000, "{}"));
    EXPECT_EQ(a["hosts"].size(), 1u) << a;
    // Leaving goes through host_lease; bad host ids and info are refused.
    EXPECT_STATUS(db().heartbeats_write_leased(nullptr, 0, sizeof(moolai_heartbeat_row), "host-a",
                                               0, "{}"),
                  MOOLAI_E_INVALID);
    EXPECT_STATUS(db().heartbeats_write_leased(nullptr, 0, sizeof(moolai_heartbeat_row), "bad id",
                                               1000, "{}"),
                  MOOLAI_E_INVALID);
    EXPECT_STATUS(db().heartbeats_write_leased(nullptr, 0, sizeof(moolai_heartbeat_row), "host-a",
                                               1000, "[]"),
                  MOOLAI_E_INVALID);
}

// The connection table: a claim names the holder (another host's claim
// takes it over), a release removes only one's own row, rows of a host
// whose lease ended are not listed, deleted orchestrators are skipped.
TEST_P(Storage, ConnectionsNameTheirHolderWhileItsLeaseLives) {
    org("acme");
    orch("o1", "acme");
    orch("o2", "acme");
    const int64_t t0 = 1790000000000;
    db().freeze_clock(t0);
    OK(db().host_lease("host-a", 10000, "{}"));
    OK(db().host_lease("host-b", 10000, "{}"));
    EXPECT_EQ(OK(db().connections_write("host-a", R"({"claim":["o1","o2","nobody"]})"))["claimed"],
              2);
    EXPECT_EQ(OK(db().connections_write("host-b", R"({"claim":["o2"]})"))["claimed"], 1);
    EXPECT_EQ(OK(db().connections_write("host-a", R"({"release":["o2"]})"))["released"], 0);
    json list = OK(db().connections_list())["items"];
    ASSERT_EQ(list.size(), 2u) << list;
    EXPECT_EQ(list[0]["orchestrator_id"], "o1");
    EXPECT_EQ(list[0]["host_id"], "host-a");
    EXPECT_EQ(list[0]["since"], t0);
    EXPECT_EQ(list[1]["host_id"], "host-b");
    // host-b's lease ends: its row is no longer anyone's connection.
    db().freeze_clock(t0 + 10001);
    OK(db().host_lease("host-a", 10000, "{}"));
    list = OK(db().connections_list())["items"];
    ASSERT_EQ(list.size(), 1u) << list;
    EXPECT_EQ(list[0]["orchestrator_id"], "o1");
    // Deleting the orchestrator removes its row; release_all the rest.
    OK(db().orch_delete("o1"));
    EXPECT_TRUE(OK(db().connections_list())["items"].empty());
    OK(db().connections_write("host-a", R"({"claim":["o2"]})"));
    EXPECT_EQ(OK(db().connections_write("host-a", R"({"release_all":true})"))["released"], 1);
    EXPECT_TRUE(OK(db().connections_list())["items"].empty());
    EXPECT_STATUS(db().connections_write("host-a", R"({"claim":[1]})"), MOOLAI_E_INVALID);
    EXPECT_STATUS(db().connections_write("host-a", "[]"), MOOLAI_E_INVALID);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, Storage, ::testing::Values(Backend::Sqlite));
INSTANTIATE_TEST_SUITE_P(Postgres, Storage, ::testing::Values(Backend::Postgres));
INSTANTIATE_TEST_SUITE_P(Sqlite, AuditChain, ::testing::Values(Backend::Sqlite));
INSTANTIATE_TEST_SUITE_P(Postgres, AuditChain, ::testing::Values(Backend::Postgres));

// ---- per-plugin: descriptors and config blocks -----------------------------------------------

TEST(StoragePlugins, DescriptorsDeclareConcurrentStorageWithASchema) {
    for (const auto& [path, name] :
         {std::pair<std::string, std::string>{MOOLAI_SQLITE_PLUGIN, "storage_sqlite"},
          {MOOLAI_POSTGRES_PLUGIN, "storage_postgres"}}) {
        StoragePlugin p(path);
        const moolai_plugin_descriptor& d = p.descriptor();
        EXPECT_EQ(std::string(d.name), name);
        EXPECT_EQ(d.capabilities, MOOLAI_CAP_STORAGE);
        EXPECT_EQ(d.threading, MOOLAI_THREADING_CONCURRENT);
        ASSERT_NE(d.config_schema, nullptr);
        const json schema = json::parse(d.config_schema);
        EXPECT_EQ(schema["type"], "object");
        EXPECT_EQ(schema["additionalProperties"], false);
    }
}

TEST(SqlitePlugin, DefaultsToMoolaiDataDirInWalMode) {
    const fs::path dir = make_temp_dir();
    const fs::path data = dir / "nested" / "data";
    ::setenv("MOOLAI_DATA_DIR", data.c_str(), 1);
    {
        StoragePlugin p(MOOLAI_SQLITE_PLUGIN);
        const Result r = p.create("{}");
        ::unsetenv("MOOLAI_DATA_DIR");
        ASSERT_EQ(r.status, MOOLAI_OK) << r.error;
        OK(p.migrate());
        OK(p.org_create(R"({"organization_id":"o","name":"n"})"));
        ASSERT_TRUE(fs::exists(data / "moolai.db"));
        // Bytes 18-19 of a SQLite header are 2 in WAL mode.
        std::ifstream f(data / "moolai.db", std::ios::binary);
        char header[20] = {};
        f.read(header, sizeof header);
        EXPECT_EQ(header[18], 2);
        EXPECT_EQ(header[19], 2);
    }
    fs::remove_all(dir);
}

TEST(SqlitePlugin, RejectsBadConfig) {
    for (const auto& [config, mentions] : std::vector<std::pair<std::string, std::string>>{
             {R"({"path":5})", "path"},
             {R"({"path":""})", "path"},
             {R"({"busy_timeout_ms":-1})", "busy_timeout_ms"},
             {R"({"busy_timeout_ms":"5"})", "busy_timeout_ms"},
             {R"({"bogus":1})", "bogus"},
             {"not json", "config"}}) {
        StoragePlugin p(MOOLAI_SQLITE_PLUGIN);
        const Result r = p.create(config);
        EXPECT_EQ(r.status, MOOLAI_E_INVALID) << config;
        EXPECT_NE(r.error.find(mentions), std::string::npos) << r.error;
    }
    StoragePlugin p(MOOLAI_SQLITE_PLUGIN);
    EXPECT_EQ(p.create(R"({"path":"/proc/no/such/dir/moolai.db"})").status, MOOLAI_E_UNAVAILABLE);
}

TEST(PostgresPlugin, RejectsBadConfig) {
    for (const auto& [config, mentions] : std::vector<std::pair<std::string, std::string>>{
             {R"({"port":"5432"})", "port"},
             {R"({"port":70000})", "port"},
             {R"({"pool_size":0})", "pool_size"},
             {R"({"connect_timeout_s":1.5})", "connect_timeout_s"},
             {R"({"host":1})", "host"},
             {R"({"sslmode":"require"})", "sslmode"}}) {
        StoragePlugin p(MOOLAI_POSTGRES_PLUGIN);
        const Result r = p.create(config);
        EXPECT_EQ(r.status, MOOLAI_E_INVALID) << config;
        EXPECT_NE(r.error.find(mentions), std::string::npos) << r.error;
    }
}

uint16_t closed_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(s);  // nobody listens there now
    return ntohs(a.sin_port);
}

TEST(PostgresPlugin, ClosedPortIsUnavailableQuickly) {
    StoragePlugin p(MOOLAI_POSTGRES_PLUGIN);
    const json config{{"host", "127.0.0.1"},
                      {"port", closed_port()},
                      {"user", "u"},
                      {"dbname", "d"},
                      {"connect_timeout_s", 2}};
    ASSERT_EQ(p.create(config.dump()).status, MOOLAI_OK);  // connections open lazily
    const auto start = std::chrono::steady_clock::now();
    EXPECT_STATUS(p.ping(), MOOLAI_E_UNAVAILABLE);
    EXPECT_STATUS(p.migrate(), MOOLAI_E_UNAVAILABLE);
    EXPECT_STATUS(p.org_get("x"), MOOLAI_E_UNAVAILABLE);
    EXPECT_STATUS(p.org_create(R"({"organization_id":"x","name":"y"})"), MOOLAI_E_UNAVAILABLE);
    std::vector<ScanRow> rows;
    EXPECT_STATUS(p.orch_scan(rows), MOOLAI_E_UNAVAILABLE);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(elapsed, std::chrono::seconds(5 * 5));  // five calls
    const auto one = std::chrono::steady_clock::now();
    EXPECT_STATUS(p.ping(), MOOLAI_E_UNAVAILABLE);
    EXPECT_LT(std::chrono::steady_clock::now() - one, std::chrono::seconds(5));
}

class PostgresServer : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!postgres_configured() || env("MOOLAI_TEST_PG_CTL").empty())
            GTEST_SKIP() << "needs scripts/with-postgres.sh";
        reset_postgres();
    }
    static int pg_ctl(const std::string& args) {
        return std::system((env("MOOLAI_TEST_PG_CTL") + " " + args + " >/dev/null 2>&1").c_str());
    }
};

TEST_F(PostgresServer, WrongPasswordIsUnavailable) {
    StoragePlugin p(MOOLAI_POSTGRES_PLUGIN);
    ASSERT_EQ(p.create(R"({"password":"wrong"})").status, MOOLAI_OK);
    EXPECT_STATUS(p.ping(), MOOLAI_E_UNAVAILABLE);
}

TEST_F(PostgresServer, RecoversAfterRestartAndOutage) {
    StoragePlugin p(MOOLAI_POSTGRES_PLUGIN);
    ASSERT_EQ(p.create("{}").status, MOOLAI_OK);
    OK(p.migrate());
    OK(p.org_create(R"({"organization_id":"o","name":"n"})"));
    // Fill the pool (4 by default) with idle connections, all of which die
    // with the restart; the next call must still get through.
    std::vector<std::thread> readers;
    for (int t = 0; t < 8; ++t)
        readers.emplace_back([&p] {
            for (int i = 0; i < 20; ++i) (void)p.org_list();
        });
    for (auto& th : readers) th.join();
    ASSERT_EQ(pg_ctl("restart"), 0);
    EXPECT_EQ(OK(p.org_get("o"))["name"], "n");
    OK(p.org_update("o", R"({"name":"m"})"));

    ASSERT_EQ(pg_ctl("stop"), 0);
    struct Restart {
        ~Restart() { pg_ctl("start"); }  // whatever happens, leave the server up
    } restart;
    const auto start = std::chrono::steady_clock::now();
    EXPECT_STATUS(p.org_get("o"), MOOLAI_E_UNAVAILABLE);
    EXPECT_STATUS(p.ping(), MOOLAI_E_UNAVAILABLE);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    ASSERT_EQ(pg_ctl("start"), 0);
    EXPECT_EQ(OK(p.org_get("o"))["name"], "m");
    EXPECT_STATUS(p.ping(), MOOLAI_OK);
}

}  // namespace
}  // namespace moolai::test
