// Directory: the tenant rows, per-user caps and tenant settings that every chat request reads
// (tenant filter, limits, the agent's system prompt), served from a short-lived in-process cache
// (common/ttl_cache.h) instead of a database read per request.
//
// Freshness. Writers in this process call ForgetTenant / ForgetUser / ForgetSettings after their
// transaction committed (AdminService: plan, status, time zone, caps, role, removal;
// IdentityService: groups; the tenant settings API: the prompt template),
// so this process sees its own changes at once. The Forget calls also announce the change to the
// other processes on the database (storage::Database::Announce: a NOTIFY on PostgreSQL), whose
// listener hands it to their Directory's Heard: another replica forgets it as soon as the
// notification arrives. A change it cannot hear of — made by `gatehouse admin` beside a SQLite
// server, or announced while its listener was reconnecting (it then forgets everything) — is seen
// within `ttl` (default 2 s). Limits themselves are never cached: the counters are always updated
// in the database (tenancy/quota.h).
//
// ForgetUser also advances users_generation(), which caches of resolved credentials compare
// (identity::ApiKeyService drops principals resolved before a role, group or removal change).
// Thread-safe.
#pragma once

#include <atomic>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/ids.h"
#include "common/ttl_cache.h"
#include "storage/database.h"
#include "storage/limits_repository.h"
#include "storage/records.h"
#include "storage/tenant_settings_repository.h"

namespace gh::tenancy {

struct DirectoryOptions {
  Duration ttl = std::chrono::seconds(2);  // zero: read the database every time
  size_t capacity = 100'000;               // entries per cache
};

class Directory {
 public:
  Directory(storage::Database& db, const Clock& clock, DirectoryOptions options = {});

  // The tenant's row; nullopt when there is no such tenant (absence is not cached).
  Result<std::optional<storage::TenantRecord>> Tenant(const TenantId& id);
  // The user's caps within the plan (none set: all empty).
  Result<storage::UserCaps> Caps(const TenantId& tenant, const UserId& user);
  // The tenant's agent settings (nullopt: never saved; cached too).
  Result<std::optional<storage::TenantSettingsRecord>> Settings(const TenantId& tenant);

  // After a committed change to the tenant's row.
  void ForgetTenant(const TenantId& id);
  // After a committed change to the user: caps, role, groups, removal.
  void ForgetUser(const TenantId& tenant, const UserId& user);
  uint64_t users_generation() const { return users_generation_.load(); }
  // After a committed change to the tenant's settings.
  void ForgetSettings(const TenantId& tenant);
  // A change another process announced (see storage::Database::Listen): forgotten here too, not
  // announced again. {"", ""}: everything is forgotten.
  void Heard(const storage::Announcement& change);

 private:
  struct UserKeyHash {
    size_t operator()(const std::pair<TenantId, UserId>& k) const noexcept {
      return std::hash<TenantId>()(k.first) * 31 + std::hash<UserId>()(k.second);
    }
  };

  void Tell(storage::Announcement change);

  storage::Database& db_;
  TtlCache<TenantId, storage::TenantRecord> tenants_;
  TtlCache<std::pair<TenantId, UserId>, storage::UserCaps, UserKeyHash> caps_;
  TtlCache<TenantId, std::optional<storage::TenantSettingsRecord>> settings_;
  std::atomic<uint64_t> users_generation_{0};
};

}  // namespace gh::tenancy
