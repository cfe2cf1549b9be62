// AuditLog: an append-only log of administrative actions, authorization denials and tool
// executions. Each record carries the SHA-256 of its content and of the previous record's hash,
// so changing or removing a record breaks the chain from there on; the chain's head (last seq and
// hash) is kept apart, so removing the last records shows too. VerifyAuditLog walks the chain
// (`gatehouse admin audit verify`). Tamper-evident, not tamper-proof: someone who can rewrite the
// whole table from the changed record onwards can forge a chain, so keep a copy of the head the
// verifier prints somewhere else if that matters.
//
// Appends are serialised by the database (one write transaction reads the head and appends), so
// processes sharing a database extend one chain. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "storage/database.h"
#include "storage/metering_repository.h"

namespace gh::audit {

struct AuditEntry {
  std::string tenant_id;      // empty for platform-wide actions
  std::string actor;          // "user:<id>", "cli", "system"
  std::string action;         // e.g. "admin.request", "authz.denied", "tool.executed"
  std::string target;         // what it was done to (a route, a tool, a tenant)
  std::string outcome;        // e.g. "200", "denied", "ok", "error"
  std::string detail = "{}";  // JSON object; never secrets
};

// The hash of a record: SHA-256 (hex) over its seq, time, fields, detail and prev_hash, each
// length-prefixed so no two different records share an input.
std::string RecordHash(const storage::AuditRow& row);
// prev_hash of the first record.
inline constexpr const char* kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

class AuditLog {
 public:
  AuditLog(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  // Appends the entries, in order, in one transaction.
  Status Append(const std::vector<AuditEntry>& entries);

 private:
  storage::Database& db_;
  const Clock& clock_;
};

struct VerifyReport {
  bool ok = true;
  int64_t records = 0;
  int64_t head_seq = 0;
  std::string head_hash;
  std::optional<int64_t> broken_at;  // the first seq where the chain does not hold
  std::string problem;               // what is wrong there
};

Result<VerifyReport> VerifyAuditLog(storage::Database& db);

}  // namespace gh::audit
