// Repositories for plans and limits: stored plan definitions, per-user caps, rate-limit state
// (GCRA's theoretical arrival time), platform operators, and user administration.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "storage/database.h"
#include "storage/records.h"

namespace gh::storage {

struct StoredPlan {
  std::string name;
  std::string definition;  // JSON
  int64_t updated_at = 0;
  int64_t version = 0;
};

struct UserCaps {
  std::optional<int64_t> messages_per_day;
  std::optional<int64_t> messages_per_month;
  std::optional<int64_t> tokens_per_month;
  std::optional<int64_t> budget_micros_per_month;
  bool any() const {
    return messages_per_day || messages_per_month || tokens_per_month || budget_micros_per_month;
  }
};

namespace plans {
Status Upsert(Tx& tx, const StoredPlan& p);
Result<std::vector<StoredPlan>> List(Tx& tx);
Result<int64_t> MaxVersion(Tx& tx);
}  // namespace plans

namespace user_caps {
Result<UserCaps> Get(Tx& tx, const TenantId& tenant, const UserId& user);
Status Set(Tx& tx, const TenantId& tenant, const UserId& user, const UserCaps& caps);
Status Delete(Tx& tx, const TenantId& tenant, const UserId& user);
}  // namespace user_caps

namespace rate_limits {
// Generic cell rate algorithm, atomically: admits a request at `now_ms` when the bucket's
// theoretical arrival time allows it, advancing it by `interval_ms`. `tolerance_ms` is the burst
// allowance. Returns 0 when admitted, else the milliseconds to wait.
Result<int64_t> Admit(Tx& tx, const TenantId& tenant, const std::string& bucket, int64_t now_ms,
                      int64_t interval_ms, int64_t tolerance_ms);
}  // namespace rate_limits

namespace operators {
Status Add(Tx& tx, const std::string& email, int64_t now);
Status Remove(Tx& tx, const std::string& email);
Result<std::vector<std::string>> List(Tx& tx);
Result<bool> Contains(Tx& tx, const std::string& email);
}  // namespace operators

namespace user_admin {
// Removes a user's account and credentials; their past messages and usage stay for the record.
Status RemoveUser(Tx& tx, const TenantId& tenant, const UserId& user, int64_t now);
Status RemoveGroup(Tx& tx, const TenantId& tenant, const UserId& user, const std::string& group);
Result<int64_t> CountAdmins(Tx& tx, const TenantId& tenant);
Status SetTimezone(Tx& tx, const TenantId& tenant, const std::string& timezone);
}  // namespace user_admin

}  // namespace gh::storage
