#include "identity/api_keys.h"

#include <algorithm>

#include "common/log.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "storage/limits_repository.h"
#include "storage/repositories.h"

namespace gh::identity {

namespace st = gh::storage;

namespace {

constexpr std::string_view kKeyPrefix = "gh_";
constexpr size_t kKeyRandomBytes = 32;
constexpr size_t kKeyLength = 3 + 43;        // "gh_" + base64url of 32 bytes, unpadded
constexpr size_t kDisplayPrefixLength = 11;  // "gh_" + 8 characters: 48 of the 256 bits
constexpr size_t kMaxNameLength = 100;

bool IsBase64Url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

ApiKeyInfo InfoFrom(const st::ApiKeyRecord& r) {
  return {r.id, r.name, r.prefix, r.user_id, r.created_at, r.last_used_at, r.revoked_at};
}

Status NotFound() { return Status::NotFound("no such API key", "api_key_not_found"); }

}  // namespace

ApiKeyService::ApiKeyService(st::Database& db, const Clock& clock, Random& random,
                             ApiKeyOptions options, const tenancy::Directory* directory)
    : db_(db),
      clock_(clock),
      random_(random),
      options_(std::move(options)),
      directory_(directory),
      cache_(clock, options_.cache_ttl, options_.cache_capacity) {}

bool ApiKeyService::LooksLikeApiKey(std::string_view token) {
  return token.starts_with(kKeyPrefix);
}

std::string ApiKeyService::HashKey(std::string_view key) { return crypto::Sha256Hex(key); }

Result<CreatedApiKey> ApiKeyService::Create(const Principal& who, std::string_view raw_name) {
  if (who.api_key)
    return Status::PermissionDenied("an API key cannot create API keys; sign in to create one",
                                    "access_token_required");
  std::string name(Trim(raw_name));
  const bool printable = std::none_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
  if (name.empty() || name.size() > kMaxNameLength || !printable)
    return Status::InvalidArgument("name must be 1 to 100 printable characters", "invalid_name")
        .WithDetail("param", "name");

  std::string key = std::string(kKeyPrefix) + Base64UrlEncode(random_.Bytes(kKeyRandomBytes));
  st::ApiKeyRecord rec{random_.Uuid(),
                       who.tenant_id,
                       who.user_id,
                       name,
                       key.substr(0, kDisplayPrefixLength),
                       HashKey(key),
                       clock_.NowUnixMillis(),
                       {},
                       {}};
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(int64_t active,
                        st::api_keys::CountActiveForUser(tx, who.tenant_id, who.user_id));
    if (active >= static_cast<int64_t>(options_.max_active_keys_per_user))
      return Status::Conflict("you have too many active API keys; revoke one first",
                              "too_many_api_keys")
          .WithDetail("limit", static_cast<int64_t>(options_.max_active_keys_per_user));
    return st::api_keys::Insert(tx, rec);
  }));
  log::Info(
      "api key created",
      {{"tenant_id", who.tenant_id.value()}, {"user_id", who.user_id.value()}, {"key_id", rec.id}});
  return CreatedApiKey{InfoFrom(rec), Secret(std::move(key))};
}

Result<std::vector<ApiKeyInfo>> ApiKeyService::List(const Principal& who, bool whole_tenant) const {
  if (whole_tenant && !who.IsTenantAdmin())
    return Status::PermissionDenied("only the tenant's admins can list every key of the tenant");
  std::vector<st::ApiKeyRecord> rows;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    if (whole_tenant) {
      GH_ASSIGN_OR_RETURN(rows, st::api_keys::ListForTenant(tx, who.tenant_id));
    } else {
      GH_ASSIGN_OR_RETURN(rows, st::api_keys::ListForUser(tx, who.tenant_id, who.user_id));
    }
    return Status::Ok();
  }));
  std::vector<ApiKeyInfo> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(InfoFrom(r));
  return out;
}

Status ApiKeyService::Revoke(const Principal& who, const std::string& id) {
  if (id.empty() || id.size() > 64) return NotFound();
  const int64_t now = clock_.NowUnixMillis();
  std::string hash;
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto rec, st::api_keys::Get(tx, who.tenant_id, id));
    // Another user's key is, for a non-admin, as absent as another tenant's.
    if (!rec || (rec->user_id != who.user_id && !who.IsTenantAdmin())) return NotFound();
    hash = rec->key_hash;
    return st::api_keys::Revoke(tx, who.tenant_id, id, now).status();
  }));
  // Committed: the principal this process resolved for the key (cached by the key's hash) may not
  // be served again, nor the one another replica resolved (told through the database; see Heard).
  // Only this key's entry goes: a revocation does not send every replica back to the database
  // for every other key.
  cache_.Invalidate(hash);
  if (Status told = db_.Announce({std::string(kRevokedTopic), hash}); !told.ok())
    log::Warn("a revocation could not be announced to the other replicas",
              {{"key_id", id}, {"error", told.message()}});
  log::Info(
      "api key revoked",
      {{"tenant_id", who.tenant_id.value()}, {"by_user_id", who.user_id.value()}, {"key_id", id}});
  return Status::Ok();
}

void ApiKeyService::Heard(const st::Announcement& change) {
  if (change.topic.empty() || (change.topic == kRevokedTopic && change.key.empty())) {
    cache_.InvalidateAll();
  } else if (change.topic == kRevokedTopic) {
    cache_.Invalidate(change.key);  // the revoked key's hash
  }
}

Result<Principal> ApiKeyService::Authenticate(std::string_view key) {
  const Status invalid = Status::Unauthenticated("the API key is not valid", "invalid_api_key");
  if (key.size() != kKeyLength || !LooksLikeApiKey(key) ||
      !std::all_of(key.begin() + kKeyPrefix.size(), key.end(), IsBase64Url))
    return invalid;
  const std::string hash = HashKey(key);
  const uint64_t users_generation = directory_ ? directory_->users_generation() : 0;
  if (auto hit = cache_.Get(hash); hit && hit->users_generation == users_generation) {
    TouchLastUsed(*hit);
    return hit->principal;
  }
  const uint64_t generation = cache_.generation();  // before the read: see TtlCache::Put
  GH_ASSIGN_OR_RETURN(std::optional<Resolved> resolved, Lookup(hash));
  if (!resolved) return invalid;
  resolved->users_generation = users_generation;
  TouchLastUsed(*resolved);
  cache_.Put(hash, *resolved, generation);
  return std::move(resolved->principal);
}

Result<std::optional<ApiKeyService::Resolved>> ApiKeyService::Lookup(const std::string& hash) {
  std::optional<st::ApiKeyRecord> rec;
  std::optional<st::UserRecord> user;
  std::optional<st::TenantRecord> tenant;
  std::vector<std::string> groups;
  bool operator_in_db = false;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(rec, st::api_keys::FindByHash(tx, hash));
    if (!rec || rec->revoked_at) return Status::Ok();
    GH_ASSIGN_OR_RETURN(user, st::users::Get(tx, rec->tenant_id, rec->user_id));
    GH_ASSIGN_OR_RETURN(tenant, st::tenants::Get(tx, rec->tenant_id));
    if (!user || !tenant) return Status::Ok();
    GH_ASSIGN_OR_RETURN(groups, st::users::Groups(tx, rec->tenant_id, rec->user_id));
    GH_ASSIGN_OR_RETURN(operator_in_db, st::operators::Contains(tx, user->email));
    return Status::Ok();
  }));
  if (!rec || rec->revoked_at || !user || !tenant) return std::optional<Resolved>();

  Resolved r;
  Principal& p = r.principal;
  p.user_id = rec->user_id;
  p.tenant_id = rec->tenant_id;
  p.email = user->email;
  p.subscription_tier = tenant->tier;
  p.groups = std::move(groups);
  const auto& ops = options_.platform_operators;
  if (operator_in_db || std::find(ops.begin(), ops.end(), user->email) != ops.end())
    p.groups.push_back("platform-operators");
  p.token_id = rec->id;
  p.expires_at = 0;
  p.api_key = true;
  r.key_id = rec->id;
  r.tenant_id = rec->tenant_id;
  r.last_used_at = std::make_shared<std::atomic<int64_t>>(rec->last_used_at.value_or(0));
  return std::optional<Resolved>(std::move(r));
}

void ApiKeyService::TouchLastUsed(const Resolved& r) {
  const int64_t now = clock_.NowUnixMillis();
  int64_t seen = r.last_used_at->load();
  if (seen != 0 && seen > now - options_.last_used_resolution_ms) return;
  // One request per interval (per process) writes it: the one that moves the shared value on.
  if (!r.last_used_at->compare_exchange_strong(seen, now)) return;
  // Bookkeeping only: a failure here must not refuse a valid key.
  Status touched = db_.WriteReadCommitted([&](st::Tx& tx) -> Status {
    return st::api_keys::TouchLastUsed(tx, r.tenant_id, r.key_id, now,
                                       options_.last_used_resolution_ms)
        .status();
  });
  if (!touched.ok())
    log::Warn("api key last_used_at not updated",
              {{"key_id", r.key_id}, {"error", touched.message()}});
}

}  // namespace gh::identity
