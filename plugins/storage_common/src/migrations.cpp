// The schema, as numbered migrations shared by both backends.
//
// DDL tokens (Dialect::ddl):
//   %TEXT%   text; PostgreSQL adds COLLATE "C" so ordering, grouping and
//            ILIKE case folding are bytewise/ASCII exactly like SQLite's
//            BINARY collation and LIKE, whatever the server's locale.
//            Lengths are enforced by the shared validation, not VARCHAR(n),
//            so both backends reject the same input with the same message.
//   %TS%     timestamp: TIMESTAMPTZ / INTEGER Unix ms (exact, sortable).
//   %JSON%   JSONB / TEXT.      %MONEY%  NUMERIC / REAL.
//   %SERIAL% auto-increment primary key.   %NOW%  default "now".
//   %WEEK%   seven days, to add to a %TS% column.
#include "storage_common/schema.hpp"

namespace moolai::storage {

const char* const kMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name %TEXT% NOT NULL,"
    " applied_at %TS% NOT NULL)";

const std::vector<Migration>& migrations() {
    static const std::vector<Migration> list = {
        {1,
         "fleet: the design document's four tables, orchestrator credentials, message delivery",
         {
             "CREATE TABLE organizations ("
             " organization_id %TEXT% PRIMARY KEY,"
             " name %TEXT% NOT NULL,"
             " location %TEXT%,"
             " metadata %JSON% NOT NULL DEFAULT '{}',"
             " features %JSON% NOT NULL DEFAULT '{}',"
             " last_seen %TS%,"
             " status %TEXT% NOT NULL DEFAULT 'inactive',"
             " created_at %TS% NOT NULL DEFAULT %NOW%,"
             " updated_at %TS% NOT NULL DEFAULT %NOW%,"
             " is_active BOOLEAN NOT NULL DEFAULT TRUE,"
             " settings %JSON% NOT NULL DEFAULT '{}',"
             " is_independent BOOLEAN NOT NULL DEFAULT FALSE)",

             // Deleting an organization removes its orchestrators (and, by the
             // next cascade, their messages and connection rows).
             "CREATE TABLE orchestrator_instances ("
             " orchestrator_id %TEXT% PRIMARY KEY,"
             " organization_id %TEXT% REFERENCES organizations(organization_id) ON DELETE CASCADE,"
             " organization_name %TEXT%,"
             " name %TEXT%,"
             " location %TEXT%,"
             " status %TEXT% NOT NULL DEFAULT 'inactive',"
             " last_seen %TS%,"
             " health_status %TEXT% DEFAULT 'healthy',"
             " is_independent BOOLEAN NOT NULL DEFAULT FALSE,"
             " metadata %JSON% NOT NULL DEFAULT '{}',"
             " features %JSON% NOT NULL DEFAULT '{}',"
             " session_config %JSON% NOT NULL DEFAULT '{}',"
             " privacy_mode BOOLEAN NOT NULL DEFAULT FALSE,"
             " monitoring_enabled BOOLEAN NOT NULL DEFAULT TRUE,"
             " internal_url %TEXT%,"
             " database_url %TEXT%,"
             " redis_url %TEXT%,"
             " container_id %TEXT%,"
             " image_name %TEXT%,"
             " environment_variables %JSON% NOT NULL DEFAULT '{}',"
             " phoenix_endpoint %TEXT%,"
             " admin_email %TEXT%,"
             " support_email %TEXT%,"
             " website %TEXT%,"
             " last_activity %TS%,"
             " created_at %TS% NOT NULL DEFAULT %NOW%,"
             " updated_at %TS% NOT NULL DEFAULT %NOW%,"
             " credential_hash %TEXT%)",
             "CREATE INDEX orchestrator_instances_organization ON "
             "orchestrator_instances(organization_id)",
             "CREATE INDEX orchestrator_instances_status ON orchestrator_instances(status)",

             "CREATE TABLE orchestrator_messages ("
             " id %TEXT% PRIMARY KEY,"
             " orchestrator_id %TEXT% NOT NULL"
             "  REFERENCES orchestrator_instances(orchestrator_id) ON DELETE CASCADE,"
             " message_type %TEXT% NOT NULL,"
             " content %TEXT% NOT NULL,"
             " message_metadata %JSON% NOT NULL DEFAULT '{}',"
             " status %TEXT% NOT NULL DEFAULT 'pending'"
             "  CHECK (status IN ('pending', 'accepted', 'dismissed')),"
             " created_at %TS% NOT NULL DEFAULT %NOW%,"
             " updated_at %TS% NOT NULL DEFAULT %NOW%,"
             " delivery_state %TEXT% NOT NULL DEFAULT 'none'"
             "  CHECK (delivery_state IN ('none', 'queued', 'sent', 'acknowledged')),"
             " delivery_attempts INTEGER NOT NULL DEFAULT 0,"
             " delivered_at %TS%,"
             " acknowledged_at %TS%)",
             "CREATE INDEX orchestrator_messages_orchestrator"
             " ON orchestrator_messages(orchestrator_id, created_at)",
             "CREATE INDEX orchestrator_messages_created ON orchestrator_messages(created_at)",
             "CREATE INDEX orchestrator_messages_status ON orchestrator_messages(status)",
             "CREATE INDEX orchestrator_messages_delivery ON orchestrator_messages(delivery_state)",

             "CREATE TABLE orchestrator_connections ("
             " connection_id %TEXT% PRIMARY KEY,"
             " orchestrator_id %TEXT% NOT NULL"
             "  REFERENCES orchestrator_instances(orchestrator_id) ON DELETE CASCADE,"
             " status %TEXT% NOT NULL,"
             " last_seen %TS%,"
             " metadata %JSON% NOT NULL DEFAULT '{}',"
             " created_at %TS% NOT NULL DEFAULT %NOW%,"
             " updated_at %TS% NOT NULL DEFAULT %NOW%)",
             "CREATE INDEX orchestrator_connections_orchestrator"
             " ON orchestrator_connections(orchestrator_id)",
         }},
        {2,
         "users and sessions",
         {
             // No foreign key to organizations: deleting an organization must
             // not silently delete the people who administered it.
             "CREATE TABLE users ("
             " username %TEXT% PRIMARY KEY,"
             " password_hash %TEXT% NOT NULL,"
             " role %TEXT% NOT NULL CHECK (role IN ('superadmin', 'org_admin')),"
             " organization_id %TEXT%,"
             " created_at %TS% NOT NULL DEFAULT %NOW%,"
             " updated_at %TS% NOT NULL DEFAULT %NOW%,"
             " CHECK (role <> 'org_admin' OR organization_id IS NOT NULL))",
             "CREATE INDEX users_organization ON users(organization_id)",
             "CREATE TABLE sessions ("
             " token_hash %TEXT% PRIMARY KEY,"
             " username %TEXT% NOT NULL REFERENCES users(username) ON DELETE CASCADE,"
             " created_at %TS% NOT NULL DEFAULT %NOW%,"
             " expires_at %TS% NOT NULL)",
             "CREATE INDEX sessions_username ON sessions(username)",
             "CREATE INDEX sessions_expires ON sessions(expires_at)",
         }},
        {3,
         "usage reports",
         {
             // No foreign keys: cost history outlives the orchestrators it
             // describes.
             "CREATE TABLE usage_reports ("
             " id %SERIAL%,"
             " orchestrator_id %TEXT% NOT NULL,"
             " organization_id %TEXT%,"
             " period %TS% NOT NULL,"
             " model %TEXT% NOT NULL,"
             " requests BIGINT NOT NULL DEFAULT 0,"
             " input_tokens BIGINT NOT NULL DEFAULT 0,"
             " output_tokens BIGINT NOT NULL DEFAULT 0,"
             " cost_usd %MONEY% NOT NULL DEFAULT 0,"
             " received_at %TS% NOT NULL DEFAULT %NOW%)",
             "CREATE INDEX usage_reports_period ON usage_reports(period)",
             "CREATE INDEX usage_reports_organization ON usage_reports(organization_id, period)",
             "CREATE INDEX usage_reports_orchestrator ON usage_reports(orchestrator_id, period)",
         }},
        {4,
         "audit log",
         {
             "CREATE TABLE audit_log ("
             " id %SERIAL%,"
             " time %TS% NOT NULL DEFAULT %NOW%,"
             " actor %TEXT% NOT NULL,"
             " action %TEXT% NOT NULL,"
             " organization_id %TEXT%,"
             " orchestrator_id %TEXT%,"
             " old_value %TEXT%,"
             " new_value %TEXT%,"
             " detail %JSON% NOT NULL DEFAULT '{}')",
             "CREATE INDEX audit_log_time ON audit_log(time)",
             "CREATE INDEX audit_log_organization ON audit_log(organization_id, id)",
             "CREATE INDEX audit_log_orchestrator ON audit_log(orchestrator_id, id)",
         }},
        {5,
         "orchestrator liveness: last_seen in a narrow table of its own",
         {
             // Heartbeats rewrite last_seen about once per interval for every
             // connected orchestrator. In the wide orchestrator row every such
             // write made a new version of the whole row and kept PostgreSQL's
             // pages from staying all-visible, so listings and counts read the
             // heap under load. Here they touch a row of two columns; the
             // orchestrator row changes only when its status does (the
             // pattern of Kubernetes' node Leases).
             "CREATE TABLE orchestrator_liveness ("
             " orchestrator_id %TEXT% PRIMARY KEY"
             "  REFERENCES orchestrator_instances(orchestrator_id) ON DELETE CASCADE,"
             " last_seen %TS% NOT NULL)",
             "INSERT INTO orchestrator_liveness (orchestrator_id, last_seen)"
             " SELECT orchestrator_id, last_seen FROM orchestrator_instances"
             " WHERE last_seen IS NOT NULL",
             "ALTER TABLE orchestrator_instances DROP COLUMN last_seen",
         }},
        {6,
         "message delivery has an end: expires_at, ended_at, states expired and cancelled",
         {
             // The CHECK on delivery_state gains two values. SQLite cannot
             // alter a CHECK, so both backends rebuild the table the same way
             // (nothing references it; its indexes are made again below).
             "CREATE TABLE orchestrator_messages_v6 ("
             " id %TEXT% PRIMARY KEY,"
             " orchestrator_id %TEXT% NOT NULL"
             "  REFERENCES orchestrator_instances(orchestrator_id) ON DELETE CASCADE,"
             " message_type %TEXT% NOT NULL,"
             " content %TEXT% NOT NULL,"
             " message_metadata %JSON% NOT NULL DEFAULT '{}',"
             " status %TEXT% NOT NULL DEFAULT 'pending'"
             "  CHECK (status IN ('pending', 'accepted', 'dismissed')),"
             " created_at %TS% NOT NULL DEFAULT %NOW%,"
             " updated_at %TS% NOT NULL DEFAULT %NOW%,"
             " delivery_state %TEXT% NOT NULL DEFAULT 'none'"
             "  CHECK (delivery_state IN"
             "   ('none', 'queued', 'sent', 'acknowledged', 'expired', 'cancelled')),"
             " delivery_attempts INTEGER NOT NULL DEFAULT 0,"
             " delivered_at %TS%,"
             " acknowledged_at %TS%,"
             " expires_at %TS%,"
             " ended_at %TS%)",
             // Messages stored before expiry existed and still in delivery get
             // the default TTL (7 days) from their creation: none is left
             // without an end.
             "INSERT INTO orchestrator_messages_v6 (id, orchestrator_id, message_type, content,"
             " message_metadata, status, created_at, updated_at, delivery_state,"
             " delivery_attempts, delivered_at, acknowledged_at, expires_at)"
             " SELECT id, orchestrator_id, message_type, content, message_metadata, status,"
             " created_at, updated_at, delivery_state, delivery_attempts, delivered_at,"
             " acknowledged_at,"
             " CASE WHEN delivery_state <> 'acknowledged' AND status <> 'dismissed'"
             "  THEN created_at + %WEEK% END"
             " FROM orchestrator_messages",
             "DROP TABLE orchestrator_messages",
             "ALTER TABLE orchestrator_messages_v6 RENAME TO orchestrator_messages",
             "CREATE INDEX orchestrator_messages_orchestrator"
             " ON orchestrator_messages(orchestrator_id, created_at)",
             "CREATE INDEX orchestrator_messages_created ON orchestrator_messages(created_at)",
             "CREATE INDEX orchestrator_messages_status ON orchestrator_messages(status)",
             "CREATE INDEX orchestrator_messages_delivery ON orchestrator_messages(delivery_state)",
             // The expiry sweep's question: what is due by now.
             "CREATE INDEX orchestrator_messages_expires ON orchestrator_messages(expires_at)",
         }},
        {7,
         "a tamper-evident audit log: prev_hash and hash per row, the chain head",
         {
             // Rows written before this migration keep NULL hashes: the chain
             // starts at the first row appended after it (audit_chain.hpp).
             "ALTER TABLE audit_log ADD COLUMN prev_hash %TEXT%",
             "ALTER TABLE audit_log ADD COLUMN hash %TEXT%",
             "CREATE TABLE audit_chain ("
             " id INTEGER PRIMARY KEY CHECK (id = 1),"
             " head_id BIGINT,"
             " head_hash %TEXT%)",
             "INSERT INTO audit_chain (id) VALUES (1)",
         }},
        {8,
         "several hosts on one store: host leases, the leader, who holds which connection",
         {
             // The seed's connection table, one row per connected orchestrator
             // (connection_id = orchestrator_id), now says which host holds it.
             "ALTER TABLE orchestrator_connections ADD COLUMN host_id %TEXT%",
             "CREATE INDEX orchestrator_connections_host ON orchestrator_connections(host_id)",
             // Lease times are Unix ms: compared, never shown.
             "CREATE TABLE controller_hosts ("
             " host_id %TEXT% PRIMARY KEY,"
             " started_at BIGINT NOT NULL,"
             " lease_until BIGINT NOT NULL,"
             " info %TEXT% NOT NULL DEFAULT '{}')",
             "CREATE TABLE controller_leader ("
             " id INTEGER PRIMARY KEY CHECK (id = 1),"
             " host_id %TEXT%,"
             " lease_until BIGINT NOT NULL DEFAULT 0)",
             "INSERT INTO controller_leader (id) VALUES (1)",
             // Payloads too large for one notification wait here a while.
             "CREATE TABLE notification_spill ("
             " id %SERIAL%,"
             " channel %TEXT% NOT NULL,"
             " payload %TEXT% NOT NULL,"
             " created_at BIGINT NOT NULL)",
         }},
    };
    return list;
}

std::string render_ddl(std::string_view sql, const Dialect& dialect) {
    std::string out;
    while (!sql.empty()) {
        const size_t open = sql.find('%');
        const size_t close = open == std::string_view::npos ? open : sql.find('%', open + 1);
        if (close == std::string_view::npos) {
            out += sql;
            break;
        }
        out += sql.substr(0, open);
        out += dialect.ddl(sql.substr(open + 1, close - open - 1));
        sql.remove_prefix(close + 1);
    }
    return out;
}

}  // namespace moolai::storage
