// AdminService: administration of tenants, for two roles. A tenant admin manages the tenant's
// users (list with usage, role, removal, per-user caps within the plan), invitations and time zone;
// every call is scoped to the admin's own tenant. A platform operator creates tenants, changes a
// tenant's plan, suspends and resumes tenants. The HTTP API and the `gatehouse admin` CLI both go
// through here. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "storage/database.h"
#include "storage/limits_repository.h"
#include "storage/records.h"
#include "tenancy/directory.h"
#include "tenancy/plan_store.h"
#include "tenancy/quota.h"

namespace gh::tenancy {

struct UserSummary {
  storage::UserRecord user;
  std::vector<std::string> groups;
  storage::UserCaps caps;
  UsageSnapshot usage;
};

struct InvitationSummary {
  std::string id;  // a prefix of the code's hash: names the invitation without revealing it
  std::string role;
  int64_t created_at = 0;
  int64_t expires_at = 0;
  bool used = false;
  bool revoked = false;
};

class AdminService {
 public:
  // `directory` (may be null: nothing is cached) is told of every change to a tenant or a user, so
  // this process's caches see it at once.
  AdminService(storage::Database& db, const Clock& clock, Random& random, PlanStore& plans,
               QuotaService& quota, Directory* directory = nullptr)
      : db_(db),
        clock_(clock),
        random_(random),
        plans_(plans),
        quota_(quota),
        directory_(directory) {}

  // --- tenant admins (the tenant is always the caller's own) ---
  Result<std::vector<UserSummary>> ListUsers(const storage::TenantRecord& tenant, const Plan& plan);
  Status SetRole(const TenantId& tenant, const UserId& actor, const UserId& user,
                 const std::string& role);
  Status RemoveUser(const TenantId& tenant, const UserId& actor, const UserId& user);
  Status SetUserCaps(const TenantId& tenant, const Plan& plan, const UserId& user,
                     const storage::UserCaps& caps);
  Result<std::vector<InvitationSummary>> ListInvitations(const TenantId& tenant);
  Status RevokeInvitation(const TenantId& tenant, const std::string& invitation_id);
  Status SetTimezone(const TenantId& tenant, const std::string& timezone);

  // --- platform operators ---
  Result<std::vector<storage::TenantRecord>> ListTenants();
  Result<storage::TenantRecord> CreateTenant(const std::string& name, const std::string& tier,
                                             const std::string& timezone);
  Status SetTenantPlan(const TenantId& tenant, const std::string& tier);
  Status SetTenantStatus(const TenantId& tenant, const std::string& status);
  Result<std::optional<storage::TenantRecord>> GetTenant(const TenantId& tenant);

 private:
  void ForgetUser(const TenantId& tenant, const UserId& user);
  void ForgetTenant(const TenantId& tenant);

  storage::Database& db_;
  const Clock& clock_;
  Random& random_;
  PlanStore& plans_;
  QuotaService& quota_;
  Directory* directory_;
};

}  // namespace gh::tenancy
