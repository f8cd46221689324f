// Several controller hosts on one store (ABI 1.4): the notification channel
// between them, host leases with one leader, and which host holds which
// orchestrator's connection. docs/architecture.md, "Several hosts", tells
// how the host uses them.
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "storage_common/backend.hpp"
#include "storage_common/records.hpp"
#include "storage_common/storage_plugin.hpp"

namespace moolai::storage {

namespace {

constexpr size_t kMaxPayload = size_t{1} << 20;
constexpr int64_t kSpillKeepMs = 10 * 60 * 1000;   // a spilled payload is read within ms
constexpr int64_t kForgetHostMs = 60 * 60 * 1000;  // a host gone this long is forgotten
// Prefixes of what goes through the driver: the payload inline, or the id
// of its row in notification_spill.
constexpr char kInline = 'i';
constexpr char kSpilled = 's';

void check_channel(Str channel) {
    bool ok = !channel.empty() && channel.size() <= 40;
    for (char c : channel) ok = ok && ((c >= 'a' && c <= 'z') || c == '_');
    if (!ok) invalid("channel must match [a-z_]{1,40}, got " + shown(channel));
}

std::string host_arg(Str host_id) {
    bool ok = !host_id.empty() && host_id.size() <= 64;
    for (char c : host_id)
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-');
    if (!ok) invalid("host_id must match [A-Za-z0-9._:-]{1,64}, got " + shown(host_id));
    return std::string(host_id);
}

// Placeholders in order, with their values: "$1"/"?1", ...
struct Params {
    const Dialect& d;
    std::vector<Value> values;
    // Constructed in place: g++ 12 warns falsely on moving a Value.
    template <class T>
    std::string operator()(T&& v) {
        values.emplace_back(std::forward<T>(v));
        return d.placeholder(values.size());
    }
};

std::vector<std::string> id_list(const json& changes, const char* name) {
    std::vector<std::string> out;
    const auto it = changes.find(name);
    if (it == changes.end()) return out;
    if (!it->is_array()) invalid(std::string("changes_json.") + name + " must be an array");
    for (const json& id : *it) {
        if (!id.is_string() || id.get_ref<const std::string&>().empty() ||
            !storable(id.get_ref<const std::string&>()))
            invalid(std::string("changes_json.") + name + " must hold orchestrator ids (text)");
        out.push_back(id.get<std::string>());
    }
    return out;
}

}  // namespace

void Backend::notify(const std::string&, const std::string&) {
    throw sdk::Error(MOOLAI_E_UNSUPPORTED, "this storage driver cannot notify other hosts");
}

void Backend::listen(const std::string&, Deliver) {
    throw sdk::Error(MOOLAI_E_UNSUPPORTED, "this storage driver cannot listen for other hosts");
}

Status StoragePlugin::notify(Call& call, Str channel, Str payload) {
    check_channel(channel);
    if (payload.size() > kMaxPayload) invalid("payload is larger than 1 MiB");
    if (!storable(payload)) invalid("payload must be UTF-8 text without NUL characters");
    if (!db_->can_notify()) return call.fail(MOOLAI_E_UNSUPPORTED, "no notification channel");
    std::string raw;
    if (payload.size() + 1 <= Backend::kMaxRawNotification) {
        raw.reserve(payload.size() + 1);
        raw += kInline;
        raw += payload;
    } else {
        int64_t id = 0;
        const int64_t at = now();
        db_->transact(Mode::Write, [&](Tx& tx) {
            Params p{sql(), {}};
            tx.exec("DELETE FROM notification_spill WHERE created_at < " + p(at - kSpillKeepMs),
                    p.values);
            Params q{sql(), {}};
            tx.exec("INSERT INTO notification_spill (channel, payload, created_at) VALUES (" +
                        q(std::string(channel)) + ", " + q(std::string(payload)) + ", " + q(at) +
                        ") RETURNING id",
                    q.values, [&](const Row& r) { id = cell_int(r.at(0)); });
        });
        raw = kSpilled + std::to_string(id);
    }
    db_->notify(std::string(channel), raw);
    return MOOLAI_OK;
}

Status StoragePlugin::listen(Call& call, Str channel) {
    check_channel(channel);
    if (!db_->can_notify()) return call.fail(MOOLAI_E_UNSUPPORTED, "no notification channel");
    db_->listen(std::string(channel),
                [this](const std::string& ch, const std::string& raw) { deliver_raw(ch, raw); });
    return MOOLAI_OK;
}

void StoragePlugin::deliver_raw(const std::string& channel, const std::string& raw) noexcept {
    try {
        if (raw.empty()) {
            host().deliver_notification(channel, "");
        } else if (raw[0] == kInline) {
            host().deliver_notification(channel, std::string_view(raw).substr(1));
        } else if (raw[0] == kSpilled) {
            std::string payload;
            bool found = false;
            db_->transact(Mode::Read, [&](Tx& tx) {
                Params p{sql(), {}};
                tx.exec("SELECT payload FROM notification_spill WHERE id = " +
                            p(int64_t{std::stoll(raw.substr(1))}),
                        p.values, [&](const Row& r) {
                            payload = std::string(r.at(0).value_or(""));
                            found = true;
                        });
            });
            if (!found) {
                host().warn("a spilled notification on \"" + channel +
                            "\" was gone before it was read: the host resynchronises");
                payload.clear();
            }
            host().deliver_notification(channel, payload);
        }
    } catch (const std::exception& e) {
        host().warn("a notification on \"" + channel + "\" could not be read (" + e.what() +
                    "): the host resynchronises");
        host().deliver_notification(channel, "");
    }
}

namespace {
// host_lease's checked arguments.
struct LeaseArgs {
    std::string host;
    std::string info;
};
LeaseArgs lease_args(Str host_id, int64_t lease_ms, Str info_json) {
    LeaseArgs a{host_arg(host_id), info_json.empty() ? "{}" : std::string(info_json)};
    if (lease_ms < 0) invalid("lease_ms must be 0 (leaving) or positive");
    if (!json::accept(a.info) || !json::parse(a.info).is_object())
        invalid("info_json must be a JSON object");
    return a;
}
}  // namespace

std::string StoragePlugin::renew_lease(Tx& tx, const std::string& host, int64_t lease_ms,
                                       const std::string& info, int64_t at) const {
    const int64_t until = at + lease_ms;
    const Dialect& d = sql();
    const auto exec = [&](const std::string& text, Params& p) { tx.exec(text, p.values); };
    if (lease_ms == 0) {
        Params a{d, {}}, b{d, {}}, c{d, {}};
        exec("DELETE FROM controller_hosts WHERE host_id = " + a(host), a);
        exec("DELETE FROM orchestrator_connections WHERE host_id = " + b(host), b);
        exec(
            "UPDATE controller_leader SET host_id = NULL, lease_until = 0 WHERE id = 1 AND "
            "host_id = " +
                c(host),
            c);
    } else {
        Params a{d, {}};
        exec("INSERT INTO controller_hosts (host_id, started_at, lease_until, info) VALUES (" +
                 a(host) + ", " + a(at) + ", " + a(until) + ", " + a(info) +
                 ") ON CONFLICT (host_id) DO UPDATE SET lease_until = excluded.lease_until, "
                 "info = excluded.info",
             a);
        // The leader lease: taken when free or expired, kept by its holder.
        // One row, updated under its row lock: two hosts never both win.
        Params b{d, {}};
        const std::string me = b(host);
        exec("UPDATE controller_leader SET host_id = " + me + ", lease_until = " + b(until) +
                 " WHERE id = 1 AND (host_id = " + me +
                 " OR host_id IS NULL OR lease_until < " + b(at) + ")",
             b);
    }
    Params f{d, {}}, g{d, {}};
    const int64_t forget = at - kForgetHostMs;
    exec(
        "DELETE FROM orchestrator_connections WHERE host_id IN (SELECT host_id FROM "
        "controller_hosts WHERE lease_until < " +
            f(forget) + ")",
        f);
    exec("DELETE FROM controller_hosts WHERE lease_until < " + g(forget), g);

    Params l{d, {}};
    ojson leader = nullptr;
    tx.exec("SELECT host_id FROM controller_leader WHERE id = 1 AND lease_until >= " + l(at),
            l.values, [&](const Row& r) {
                if (r.at(0)) leader = std::string(*r.at(0));
            });
    Params h{d, {}};
    ojson hosts = ojson::array();
    tx.exec("SELECT host_id, lease_until, info FROM controller_hosts WHERE lease_until >= " +
                h(at) + " ORDER BY host_id",
            h.values, [&](const Row& r) {
                ojson info_out = ojson::object();
                if (r.at(2)) info_out = ojson::parse(*r.at(2), nullptr, false);
                if (info_out.is_discarded()) info_out = ojson::object();
                hosts.push_back(ojson{{"host_id", std::string(r.at(0).value_or(""))},
                                      {"lease_until", cell_int(r.at(1))},
                                      {"info", std::move(info_out)}});
            });
    return dump(ojson{{"leader", std::move(leader)}, {"hosts", std::move(hosts)}});
}

Status StoragePlugin::host_lease(Call& call, Str host_id, int64_t lease_ms, Str info_json) {
    const LeaseArgs a = lease_args(host_id, lease_ms, info_json);
    const int64_t at = now();
    std::string out;
    db_->transact(Mode::Write,
                  [&](Tx& tx) { out = renew_lease(tx, a.host, lease_ms, a.info, at); });
    (void)call.output(out);
    return MOOLAI_OK;
}

// The batch's rows first, in key order (as heartbeats_write), the lease
// rows last: every transaction takes its locks in that order, so a batch
// with its lease and another host's plain lease renewal never deadlock.
Status StoragePlugin::heartbeats_write_leased(Call& call, const moolai_heartbeat_row* rows,
                                              uint64_t count, uint64_t row_size, Str host_id,
                                              int64_t lease_ms, Str info_json) {
    if (lease_ms <= 0) invalid("lease_ms must be positive (a host leaves through host_lease)");
    const LeaseArgs a = lease_args(host_id, lease_ms, info_json);
    std::vector<Value> params;
    const std::vector<std::string> statements = beat_statements(rows, count, row_size, params);
    const int64_t at = now();
    std::string out;
    db_->transact(Mode::Write, [&](Tx& tx) {
        for (const std::string& statement : statements) tx.exec(statement, params);
        out = renew_lease(tx, a.host, lease_ms, a.info, at);
    });
    (void)call.output(out);
    return MOOLAI_OK;
}

Status StoragePlugin::connections_write(Call& call, Str host_id, Str changes_json) {
    const std::string host = host_arg(host_id);
    json changes;
    try {
        changes = json::parse(changes_json.begin(), changes_json.end());
    } catch (const json::parse_error& e) {
        invalid(std::string("changes_json is not valid JSON: ") + e.what());
    }
    if (!changes.is_object()) invalid("changes_json must be a JSON object");
    const std::vector<std::string> claims = id_list(changes, "claim");
    const std::vector<std::string> releases = id_list(changes, "release");
    const auto all = changes.find("release_all");
    if (all != changes.end() && !all->is_boolean())
        invalid("changes_json.release_all must be a boolean");
    const bool release_all = all != changes.end() && all->get<bool>();
    const int64_t at = now();
    int64_t claimed = 0, released = 0;
    db_->transact(Mode::Write, [&](Tx& tx) {
        claimed = released = 0;
        const Dialect& d = sql();
        if (release_all) {
            Params p{d, {}};
            released += tx.exec("DELETE FROM orchestrator_connections WHERE host_id = " + p(host),
                                p.values);
        }
        for (const std::string& id : releases) {
            Params p{d, {}};
            released +=
                tx.exec("DELETE FROM orchestrator_connections WHERE connection_id = " + p(id) +
                            " AND host_id = " + p(host),
                        p.values);
        }
        // A reconnecting fleet claims thousands at once: 500 a statement.
        for (size_t first = 0; first < claims.size(); first += 500) {
            Params p{d, {}};
            const std::string when = d.time_in(p(at));
            const std::string holder = p(host);
            std::string in;
            for (size_t i = first; i < std::min(claims.size(), first + 500); ++i)
                in += (in.empty() ? "" : ", ") + p(claims[i]);
            // Unknown (deleted) orchestrators are skipped by the SELECT.
            claimed += tx.exec(
                "INSERT INTO orchestrator_connections (connection_id, orchestrator_id, status, "
                "host_id, created_at, updated_at) SELECT orchestrator_id, orchestrator_id, "
                "'connected', " +
                    holder + ", " + when + ", " + when +
                    " FROM orchestrator_instances WHERE orchestrator_id IN (" + in +
                    ") ON CONFLICT (connection_id) DO UPDATE SET host_id = excluded.host_id, "
                    "status = excluded.status, created_at = excluded.created_at, updated_at = "
                    "excluded.updated_at",
                p.values);
        }
    });
    (void)call.output(dump(ojson{{"claimed", claimed}, {"released", released}}));
    return MOOLAI_OK;
}

Status StoragePlugin::connections_list(Call& call) {
    const int64_t at = now();
    ojson items = ojson::array();
    db_->transact(Mode::Read, [&](Tx& tx) {
        items = ojson::array();
        Params p{sql(), {}};
        tx.exec("SELECT c.orchestrator_id, c.host_id, " + sql().time_out("c.created_at") +
                    " FROM orchestrator_connections c JOIN controller_hosts h ON h.host_id = "
                    "c.host_id WHERE h.lease_until >= " +
                    p(at) + " ORDER BY c.orchestrator_id",
                p.values, [&](const Row& r) {
                    items.push_back(ojson{{"orchestrator_id", std::string(r.at(0).value_or(""))},
                                          {"host_id", std::string(r.at(1).value_or(""))},
                                          {"since", cell_int(r.at(2))}});
                });
    });
    (void)call.output(dump(ojson{{"items", std::move(items)}}));
    return MOOLAI_OK;
}

}  // namespace moolai::storage
