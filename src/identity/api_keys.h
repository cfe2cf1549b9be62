// ApiKeyService: per-user API keys, a second way to authenticate besides access tokens, for SDKs
// and agent frameworks that take one long-lived key (the OpenAI-compatible API).
//
// A key is `gh_` + base64url(32 random bytes): 256 bits from the injected Random. Only its SHA-256
// is stored, with a short non-secret prefix for display; the key itself is returned once, by
// Create, and never again (nor logged). A presented key resolves to the same Principal an access
// token would give its user — groups, role and platform-operator status read from the database
// (cached briefly, see below). Revoked keys, unknown keys and keys whose user was removed are all
// refused alike (401 `invalid_api_key`).
//
// Scope: a user creates, lists and revokes their own keys; a tenant admin may also list and revoke
// every key of their tenant (never see them: no secret exists to show). Another tenant's key is
// reported exactly like a missing one (404 `api_key_not_found`). Creating a key needs an access
// token: a key cannot mint further keys that would outlive its own revocation.
//
// Resolved keys are cached in this process (issue 4, "Performance": the lookup was a database
// read on every request), keyed by the key's SHA-256, for `cache_ttl` (default 2 s):
//   - Revoke empties the cache before it returns: a key revoked through this process is refused
//     from the next request on;
//   - a change to the key's user made through this process — removal, role, groups (reported to
//     the tenancy::Directory) — drops every principal resolved before it, likewise at once;
//   - Revoke also announces the revocation to the other processes on the database
//     (storage::Database::Announce, a NOTIFY on PostgreSQL): another replica's listener hands it
//     to Heard, which empties that replica's cache as soon as the notification arrives; a user
//     change reaches it the same way, through its tenancy::Directory's users_generation;
//   - a change that cannot be heard (made by `gatehouse admin` beside a SQLite server, or
//     announced while a replica's listener was reconnecting, after which it forgets everything)
//     reaches this process within cache_ttl;
//   - only successes are cached; unknown, revoked and malformed keys are looked up every time.
// last_used_at is updated at most once a minute per key (a conditional UPDATE). Thread-safe; knows
// nothing of HTTP.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "common/secret.h"
#include "common/ttl_cache.h"
#include "identity/principal.h"
#include "storage/api_key_repository.h"
#include "storage/database.h"
#include "tenancy/directory.h"

namespace gh::identity {

struct ApiKeyInfo {
  std::string id;
  std::string name;
  std::string prefix;  // e.g. "gh_Ab12Cd34": enough to recognise a key, not to use it
  UserId user_id;
  int64_t created_at = 0;  // unix milliseconds
  std::optional<int64_t> last_used_at;
  std::optional<int64_t> revoked_at;
};

struct CreatedApiKey {
  ApiKeyInfo info;
  Secret key;  // the whole key: shown to its owner this once
};

struct ApiKeyOptions {
  size_t max_active_keys_per_user = 100;
  int64_t last_used_resolution_ms = 60'000;     // last_used_at is written at most this often
  std::vector<std::string> platform_operators;  // emails (config); the database list counts too
  Duration cache_ttl =
      std::chrono::seconds(2);  // resolved keys; zero: read the database every time
  size_t cache_capacity = 10'000;
};

class ApiKeyService {
 public:
  // `directory` (may be null) reports changes to users made through this process; without it only
  // Revoke and the TTL bound how long a cached principal lives.
  ApiKeyService(storage::Database& db, const Clock& clock, Random& random,
                ApiKeyOptions options = {}, const tenancy::Directory* directory = nullptr);

  // True when `token` has the shape of one of our keys (so it is not tried as a JWT).
  static bool LooksLikeApiKey(std::string_view token);
  // The stored form of a key: hex SHA-256.
  static std::string HashKey(std::string_view key);

  // A new key for the caller. Name: 1-100 printable characters (400 `invalid_name`); refused
  // when the caller authenticated with an API key (403 `access_token_required`) or holds
  // `max_active_keys_per_user` active keys already (409 `too_many_api_keys`).
  Result<CreatedApiKey> Create(const Principal& who, std::string_view name);
  // The caller's keys, newest first; with `whole_tenant` (tenant admins only, else 403) all of the
  // tenant's keys. Revoked keys are listed with their revoked_at.
  Result<std::vector<ApiKeyInfo>> List(const Principal& who, bool whole_tenant) const;
  // Revokes one of the caller's keys, or (tenant admin) any key of the tenant. 404
  // `api_key_not_found` for unknown ids, other users' keys (non-admins) and other tenants' keys;
  // revoking a revoked key again is OK.
  Status Revoke(const Principal& who, const std::string& id);

  // Resolves a presented key to its user's Principal (token_id = the key id, api_key = true,
  // expires_at = 0). 401 `invalid_api_key` when it is malformed, unknown, revoked, or its user or
  // tenant is gone.
  Result<Principal> Authenticate(std::string_view key);
  // A change another process announced (storage::Database::Listen): a revocation forgets that
  // key (its hash is the announcement's key; none: every key, e.g. a platform operator changed),
  // {"", ""} (anything may have changed) empties the cache.
  void Heard(const storage::Announcement& change);
  static constexpr std::string_view kRevokedTopic = "api_key_revoked";

 private:
  // What a presented key resolved to.
  struct Resolved {
    Principal principal;
    std::string key_id;
    TenantId tenant_id;
    uint64_t users_generation = 0;  // the directory's, when this was read
    // Shared by the cached copies, so one request per interval writes last_used_at.
    std::shared_ptr<std::atomic<int64_t>> last_used_at;  // 0: never
  };
  Result<std::optional<Resolved>> Lookup(const std::string& hash);
  void TouchLastUsed(const Resolved& r);

  storage::Database& db_;
  const Clock& clock_;
  Random& random_;
  ApiKeyOptions options_;
  const tenancy::Directory* directory_;
  TtlCache<std::string, Resolved> cache_;  // by hex SHA-256 of the key
};

}  // namespace gh::identity
