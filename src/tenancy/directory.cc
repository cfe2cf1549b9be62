#include "tenancy/directory.h"

#include "common/log.h"
#include "storage/repositories.h"

namespace gh::tenancy {

namespace st = gh::storage;

Directory::Directory(st::Database& db, const Clock& clock, DirectoryOptions options)
    : db_(db),
      tenants_(clock, options.ttl, options.capacity),
      caps_(clock, options.ttl, options.capacity),
      settings_(clock, options.ttl, options.capacity) {}

Result<std::optional<st::TenantRecord>> Directory::Tenant(const TenantId& id) {
  if (auto hit = tenants_.Get(id)) return std::optional<st::TenantRecord>(std::move(*hit));
  const uint64_t generation = tenants_.generation();
  std::optional<st::TenantRecord> tenant;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(tenant, st::tenants::Get(tx, id));
    return Status::Ok();
  }));
  if (tenant) tenants_.Put(id, *tenant, generation);
  return tenant;
}

Result<st::UserCaps> Directory::Caps(const TenantId& tenant, const UserId& user) {
  auto key = std::make_pair(tenant, user);
  if (auto hit = caps_.Get(key)) return std::move(*hit);
  const uint64_t generation = caps_.generation();
  st::UserCaps caps;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(caps, st::user_caps::Get(tx, tenant, user));
    return Status::Ok();
  }));
  caps_.Put(key, caps, generation);
  return caps;
}

Result<std::optional<st::TenantSettingsRecord>> Directory::Settings(const TenantId& tenant) {
  if (auto hit = settings_.Get(tenant)) return std::move(*hit);
  const uint64_t generation = settings_.generation();
  std::optional<st::TenantSettingsRecord> settings;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(settings, st::tenant_settings::Get(tx, tenant));
    return Status::Ok();
  }));
  settings_.Put(tenant, settings, generation);
  return settings;
}

namespace {
constexpr char kTenant[] = "tenant";
constexpr char kUser[] = "user";
constexpr char kSettings[] = "settings";
}  // namespace

void Directory::Tell(st::Announcement change) {
  Status told = db_.Announce(change);
  if (!told.ok())  // the other replicas see the change within the TTL instead
    log::Warn("a change could not be announced to the other replicas",
              {{"topic", change.topic}, {"error", told.message()}});
}

void Directory::ForgetSettings(const TenantId& tenant) {
  settings_.Invalidate(tenant);
  Tell({kSettings, tenant.value()});
}

void Directory::ForgetTenant(const TenantId& id) {
  tenants_.Invalidate(id);
  Tell({kTenant, id.value()});
}

void Directory::ForgetUser(const TenantId& tenant, const UserId& user) {
  users_generation_.fetch_add(1);
  caps_.Invalidate(std::make_pair(tenant, user));
  Tell({kUser, tenant.value() + "\t" + user.value()});
}

void Directory::Heard(const st::Announcement& change) {
  if (change.topic.empty()) {  // anything may have changed
    users_generation_.fetch_add(1);
    tenants_.InvalidateAll();
    caps_.InvalidateAll();
    settings_.InvalidateAll();
  } else if (change.topic == kTenant) {
    tenants_.Invalidate(TenantId(change.key));
  } else if (change.topic == kSettings) {
    settings_.Invalidate(TenantId(change.key));
  } else if (change.topic == kUser) {
    const size_t tab = change.key.find('\t');
    if (tab == std::string::npos) return;
    users_generation_.fetch_add(1);
    caps_.Invalidate(
        std::make_pair(TenantId(change.key.substr(0, tab)), UserId(change.key.substr(tab + 1))));
  }
}

}  // namespace gh::tenancy
