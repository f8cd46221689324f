// The audit log's hash chain: linking appended rows and checking the chain.
#include "storage_common/audit_chain.hpp"

#include <openssl/evp.h>

#include <limits>
#include <optional>

namespace moolai::storage {

namespace {

constexpr int64_t kVerifyPage = 1000;

// The columns a row's hash covers, in canonical order, then its links.
std::string row_columns(const Dialect& d) {
    return "id, " + d.time_out("time") +
           ", actor, action, organization_id, orchestrator_id, old_value, new_value, detail,"
           " prev_hash, hash";
}

std::optional<std::string> text(const Cell& c) {
    return c ? std::optional<std::string>(std::string(*c)) : std::nullopt;
}

// The canonical JSON of a row as stored: a compact array of id, time (as
// audit_list writes it: RFC 3339, whole seconds, UTC), actor, action, organization_id, orchestrator_id, old_value,
// new_value (strings or null) and detail (its JSON value with object keys
// sorted) -- the fields exactly as audit_list outputs them, so the chain can
// be checked from a listing alone. detail is re-serialised because the databases keep JSON in
// their own spelling; a detail that no longer parses is hashed as its text,
// so it reads as changed rather than stopping the check.
std::string canonical(const Row& r) {
    json a = json::array();
    a.push_back(cell_int(r.at(0)));
    a.push_back(format_time(cell_int(r.at(1))));
    for (size_t i = 2; i <= 7; ++i) {
        if (r.at(i))
            a.push_back(std::string(*r.at(i)));
        else
            a.push_back(nullptr);
    }
    json detail = nullptr;
    if (r.at(8)) {
        detail = json::parse(*r.at(8), nullptr, false);
        if (detail.is_discarded()) detail = std::string(*r.at(8));
    }
    a.push_back(std::move(detail));
    return a.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string row_hash(std::string_view prev_hash, const Row& r) {
    std::string input(prev_hash);
    input += '\n';
    input += canonical(r);
    return sha256_hex(input);
}

}  // namespace

std::string sha256_hex(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1)
        throw DbError(Fault::Internal, "SHA-256 failed (OpenSSL EVP_Digest)");
    static const char* const kHex = "0123456789abcdef";
    std::string out;
    out.reserve(2 * len);
    for (unsigned int i = 0; i < len; ++i) {
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 0xf];
    }
    return out;
}

int64_t append_chained(Tx& tx, const Dialect& d, const std::function<int64_t()>& insert) {
    // The head is locked before the insert: ids then grow in chain order,
    // which is the order the verifier walks.
    bool found = false;
    std::string prev(kAuditGenesis);
    tx.exec("SELECT head_hash FROM audit_chain WHERE id = 1" + std::string(d.lock_rows()), {},
            [&](const Row& r) {
                found = true;
                if (r.at(0)) prev = std::string(*r.at(0));
            });
    if (!found)
        throw DbError(Fault::Internal,
                      "the audit_chain table has no head row (schema migration 7 made it); "
                      "restore it from a backup or re-run the migrations on a copy");
    const int64_t id = insert();
    std::optional<std::string> hash;
    tx.exec("SELECT " + row_columns(d) + " FROM audit_log WHERE id = " + d.placeholder(1), {id},
            [&](const Row& r) { hash = row_hash(prev, r); });
    if (!hash) throw DbError(Fault::Internal, "the audit row just inserted was not found");
    tx.exec("UPDATE audit_log SET prev_hash = " + d.placeholder(1) + ", hash = " +
                d.placeholder(2) + " WHERE id = " + d.placeholder(3),
            {prev, *hash, id});
    tx.exec("UPDATE audit_chain SET head_id = " + d.placeholder(1) +
                ", head_hash = " + d.placeholder(2) + " WHERE id = 1",
            {id, *hash});
    return id;
}

ojson verify_audit_chain(Tx& tx, const Dialect& d) {
    std::optional<int64_t> head_id;
    std::optional<std::string> head_hash;
    tx.exec("SELECT head_id, head_hash FROM audit_chain WHERE id = 1", {}, [&](const Row& r) {
        if (r.at(0)) head_id = cell_int(r.at(0));
        head_hash = text(r.at(1));
    });

    int64_t rows = 0, chained = 0, unchained_before = 0, last_id = 0;
    std::string last_hash(kAuditGenesis);
    ojson broken = nullptr;
    auto fail = [&](int64_t id, std::string reason) {
        if (broken.is_null()) broken = ojson{{"id", id}, {"reason", std::move(reason)}};
    };
    const std::string page = "SELECT " + row_columns(d) + " FROM audit_log WHERE id > " +
                             d.placeholder(1) + " ORDER BY id LIMIT " +
                             std::to_string(kVerifyPage);
    for (int64_t after = std::numeric_limits<int64_t>::min();;) {
        int64_t seen = 0;
        tx.exec(page, {after}, [&](const Row& r) {
            ++seen;
            ++rows;
            const int64_t id = cell_int(r.at(0));
            after = id;
            if (!broken.is_null()) return;
            const std::optional<std::string> prev = text(r.at(9)), hash = text(r.at(10));
            if (!hash) {
                if (chained == 0) {
                    ++unchained_before;  // written before the log was chained
                    return;
                }
                fail(id, "row " + std::to_string(id) + " has no hash but follows chained row " +
                             std::to_string(last_id) +
                             ": it was inserted directly or its hash was removed");
                return;
            }
            if (prev.value_or("") != last_hash) {
                fail(id, chained == 0
                             ? "row " + std::to_string(id) +
                                   " is the oldest chained row but does not start from the "
                                   "genesis hash: older chained rows were removed"
                             : "row " + std::to_string(id) +
                                   "'s prev_hash does not match the hash of row " +
                                   std::to_string(last_id) +
                                   ": rows between them were removed, or row " +
                                   std::to_string(last_id) + "'s hash was changed");
                return;
            }
            if (row_hash(*prev, r) != *hash) {
                fail(id, "row " + std::to_string(id) +
                             "'s contents do not match its hash: it was changed after it was "
                             "written");
                return;
            }
            last_hash = *hash;
            last_id = id;
            ++chained;
        });
        if (seen < kVerifyPage) break;
    }
    if (broken.is_null()) {
        if (chained == 0 && head_id) {
            fail(*head_id, "the chain head records row " + std::to_string(*head_id) +
                               " but no chained row is left: chained rows were removed");
        } else if (chained > 0 && (head_id.value_or(0) != last_id || head_hash != last_hash)) {
            if (head_id.value_or(0) > last_id)
                fail(*head_id, "the chain head records row " + std::to_string(*head_id) +
                                   " but the newest chained row is " + std::to_string(last_id) +
                                   ": the newest rows were removed");
            else
                fail(last_id, "the chain head does not match the newest chained row " +
                                  std::to_string(last_id) +
                                  ": the head or that row's hash was changed");
        }
    }
    ojson head = nullptr;
    if (head_id) head = ojson{{"id", *head_id}, {"hash", head_hash.value_or("")}};
    return ojson{{"ok", broken.is_null()},
                 {"rows", rows},
                 {"chained", chained},
                 {"unchained_before", unchained_before},
                 {"head", std::move(head)},
                 {"first_broken", std::move(broken)}};
}

}  // namespace moolai::storage
