#include "audit/audit_log.h"

#include <fmt/format.h>

#include "crypto/hash.h"

namespace gh::audit {

namespace st = gh::storage;

std::string RecordHash(const st::AuditRow& r) {
  std::string in;
  auto field = [&](std::string_view v) { in += fmt::format("{}:{};", v.size(), v); };
  field(std::to_string(r.seq));
  field(std::to_string(r.at_ms));
  field(r.tenant_id);
  field(r.actor);
  field(r.action);
  field(r.target);
  field(r.outcome);
  field(r.detail);
  field(r.prev_hash);
  return crypto::Sha256Hex(in);
}

Status AuditLog::Append(const std::vector<AuditEntry>& entries) {
  if (entries.empty()) return Status::Ok();
  const int64_t now = clock_.NowUnixMillis();
  // Serialisable: the head read and the append are one step, across processes too.
  return db_.Write([&](st::Tx& tx) -> Status {
    GH_RETURN_IF_ERROR(st::audit_log::LockHead(tx));
    GH_ASSIGN_OR_RETURN(auto head, st::audit_log::Head(tx));
    int64_t seq = head ? head->first : 0;
    std::string prev = head ? head->second : kGenesisHash;
    std::vector<st::AuditRow> rows;
    rows.reserve(entries.size());
    for (const auto& e : entries) {
      st::AuditRow r{++seq,    now,      e.tenant_id, e.actor,
                     e.action, e.target, e.outcome,   e.detail.empty() ? "{}" : e.detail,
                     prev,     ""};
      r.hash = RecordHash(r);
      prev = r.hash;
      rows.push_back(std::move(r));
    }
    return st::audit_log::Append(tx, rows);
  });
}

Result<VerifyReport> VerifyAuditLog(st::Database& db) {
  VerifyReport rep;
  std::optional<std::pair<int64_t, std::string>> head;
  int64_t expect_seq = 1;
  std::string prev = kGenesisHash;
  // One snapshot for the whole walk, so concurrent appends do not look like damage.
  GH_RETURN_IF_ERROR(db.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(head, st::audit_log::Head(tx));
    int64_t after = 0;
    for (;;) {
      GH_ASSIGN_OR_RETURN(auto page, st::audit_log::ListAfter(tx, after, 1000));
      if (page.empty()) break;
      for (const auto& r : page) {
        auto broken = [&](std::string what) {
          rep.ok = false;
          rep.broken_at = expect_seq;
          rep.problem = std::move(what);
        };
        if (r.seq != expect_seq) {
          broken(fmt::format("record {} is missing (next is {})", expect_seq, r.seq));
          return Status::Ok();
        }
        if (r.prev_hash != prev) {
          broken(fmt::format(
              "record {} does not follow record {} (the previous record was changed or removed)",
              r.seq, r.seq - 1));
          return Status::Ok();
        }
        if (RecordHash(r) != r.hash) {
          broken(fmt::format("record {} was changed", r.seq));
          return Status::Ok();
        }
        prev = r.hash;
        ++expect_seq;
        ++rep.records;
        after = r.seq;
      }
    }
    return Status::Ok();
  }));
  if (!rep.ok) return rep;
  rep.head_seq = rep.records;
  rep.head_hash = rep.records ? prev : "";
  const int64_t head_seq = head ? head->first : 0;
  if (head_seq != rep.records || (head && head->second != prev)) {
    rep.ok = false;
    rep.broken_at = rep.records + 1;
    rep.problem =
        head_seq > rep.records
            ? fmt::format("the log ends at record {} but its head says {}: records were removed",
                          rep.records, head_seq)
            : "the chain's head does not match its last record";
  }
  return rep;
}

}  // namespace gh::audit
