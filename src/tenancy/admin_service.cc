#include "tenancy/admin_service.h"

#include <fmt/format.h>

#include "common/strings.h"
#include "common/timezone.h"
#include "storage/repositories.h"

namespace gh::tenancy {

namespace st = gh::storage;

namespace {
Status NoSuchUser() { return Status::NotFound("no such user in this tenant", "user_not_found"); }
}  // namespace

Result<std::vector<UserSummary>> AdminService::ListUsers(const st::TenantRecord& tenant,
                                                         const Plan& plan) {
  std::vector<UserSummary> out;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto users, st::users::List(tx, tenant.id));
    for (auto& u : users) {
      UserSummary s;
      GH_ASSIGN_OR_RETURN(s.groups, st::users::Groups(tx, tenant.id, u.id));
      GH_ASSIGN_OR_RETURN(s.caps, st::user_caps::Get(tx, tenant.id, u.id));
      s.user = std::move(u);
      s.user.password_hash.clear();
      out.push_back(std::move(s));
    }
    return Status::Ok();
  }));
  for (auto& s : out) {
    GH_ASSIGN_OR_RETURN(Limits limits, quota_.LimitsFor(tenant, s.user.id, plan));
    GH_ASSIGN_OR_RETURN(s.usage, quota_.Usage(tenant.id, s.user.id, limits));
  }
  return out;
}

void AdminService::ForgetUser(const TenantId& tenant, const UserId& user) {
  if (directory_) directory_->ForgetUser(tenant, user);
}

void AdminService::ForgetTenant(const TenantId& tenant) {
  if (directory_) directory_->ForgetTenant(tenant);
}

Status AdminService::SetRole(const TenantId& tenant, const UserId& actor, const UserId& user,
                             const std::string& role) {
  if (role != "admin" && role != "user")
    return Status::Unprocessable("role must be admin or user", "invalid_role");
  const std::string admins = tenant.value() + "-admins";
  const Status done = db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto u, st::users::Get(tx, tenant, user));
    if (!u) return NoSuchUser();
    if (role == "admin") {
      GH_RETURN_IF_ERROR(st::users::AddGroup(tx, tenant, user, admins));
    } else {
      GH_ASSIGN_OR_RETURN(auto groups, st::users::Groups(tx, tenant, user));
      bool is_admin = std::find(groups.begin(), groups.end(), admins) != groups.end();
      if (is_admin) {
        GH_ASSIGN_OR_RETURN(int64_t count, st::user_admin::CountAdmins(tx, tenant));
        if (count <= 1) return Status::Conflict("a tenant keeps at least one admin", "last_admin");
      }
      GH_RETURN_IF_ERROR(st::user_admin::RemoveGroup(tx, tenant, user, admins));
    }
    (void)actor;
    return st::users::SetRole(tx, tenant, user, role);
  });
  if (done.ok()) ForgetUser(tenant, user);
  return done;
}

Status AdminService::RemoveUser(const TenantId& tenant, const UserId& actor, const UserId& user) {
  if (actor == user) return Status::Conflict("you cannot remove yourself", "cannot_remove_self");
  const Status done = db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto u, st::users::Get(tx, tenant, user));
    if (!u) return NoSuchUser();
    return st::user_admin::RemoveUser(tx, tenant, user, clock_.NowUnixMillis());
  });
  if (done.ok()) ForgetUser(tenant, user);
  return done;
}

Status AdminService::SetUserCaps(const TenantId& tenant, const Plan& plan, const UserId& user,
                                 const st::UserCaps& caps) {
  auto within = [](const char* name, const std::optional<int64_t>& cap,
                   const std::optional<int64_t>& limit) -> Status {
    if (cap && *cap < 0)
      return Status::Unprocessable(fmt::format("{} must not be negative", name), "invalid_limit");
    if (cap && limit && *cap > *limit)
      return Status::Unprocessable(
                 fmt::format("{} of {} exceeds the plan's {}", name, *cap, *limit),
                 "cap_exceeds_plan")
          .WithDetail("field", std::string(name));
    return Status::Ok();
  };
  GH_RETURN_IF_ERROR(within("messages_per_day", caps.messages_per_day, plan.messages_per_day));
  GH_RETURN_IF_ERROR(
      within("messages_per_month", caps.messages_per_month, plan.messages_per_month));
  GH_RETURN_IF_ERROR(within("tokens_per_month", caps.tokens_per_month, plan.tokens_per_month));
  GH_RETURN_IF_ERROR(within("budget_micros_per_month", caps.budget_micros_per_month,
                            plan.budget_micros_per_month));
  const Status done = db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto u, st::users::Get(tx, tenant, user));
    if (!u) return NoSuchUser();
    return st::user_caps::Set(tx, tenant, user, caps);
  });
  if (done.ok()) ForgetUser(tenant, user);
  return done;
}

Result<std::vector<InvitationSummary>> AdminService::ListInvitations(const TenantId& tenant) {
  std::vector<InvitationSummary> out;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto invs, st::invitations::List(tx, tenant));
    for (const auto& i : invs)
      out.push_back({i.code_hash.substr(0, 16), i.role, i.created_at, i.expires_at,
                     i.used_by.has_value(), i.revoked});
    return Status::Ok();
  }));
  return out;
}

Status AdminService::RevokeInvitation(const TenantId& tenant, const std::string& id) {
  if (id.size() != 16 || id.find_first_not_of("0123456789abcdef") != std::string::npos)
    return Status::NotFound("no such invitation", "invitation_not_found");
  return db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto invs, st::invitations::List(tx, tenant));
    for (const auto& i : invs)
      if (i.code_hash.rfind(id, 0) == 0) return st::invitations::Revoke(tx, tenant, i.code_hash);
    return Status::NotFound("no such invitation", "invitation_not_found");
  });
}

Status AdminService::SetTimezone(const TenantId& tenant, const std::string& timezone) {
  auto tz = TimeZone::Load(timezone);
  if (!tz.ok()) return Status::Unprocessable(tz.status().message(), "invalid_timezone");
  const Status done =
      db_.Write([&](st::Tx& tx) { return st::user_admin::SetTimezone(tx, tenant, timezone); });
  if (done.ok()) ForgetTenant(tenant);
  return done;
}

Result<std::vector<st::TenantRecord>> AdminService::ListTenants() {
  std::vector<st::TenantRecord> out;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(out, st::tenants::ListAll(tx));
    return Status::Ok();
  }));
  return out;
}

Result<std::optional<st::TenantRecord>> AdminService::GetTenant(const TenantId& tenant) {
  std::optional<st::TenantRecord> out;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(out, st::tenants::Get(tx, tenant));
    return Status::Ok();
  }));
  return out;
}

Result<st::TenantRecord> AdminService::CreateTenant(const std::string& raw_name,
                                                    const std::string& tier,
                                                    const std::string& timezone) {
  std::string name(Trim(raw_name));
  std::string slug = Slugify(name);
  if (slug.empty() || name.size() > 100)
    return Status::Unprocessable(
        "tenant name must have letters or digits and at most 100 characters",
        "invalid_tenant_name");
  if (!plans_.Current()->Find(tier))
    return Status::Unprocessable("unknown subscription tier '" + tier + "'", "invalid_tier");
  if (timezone != "UTC") {
    auto tz = TimeZone::Load(timezone);
    if (!tz.ok()) return Status::Unprocessable(tz.status().message(), "invalid_timezone");
  }
  st::TenantRecord rec{TenantId(), name, tier, "active", timezone, clock_.NowUnixMillis()};
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    for (int n = 1;; ++n) {
      std::string candidate = n == 1 ? slug : fmt::format("{}-{}", slug, n);
      GH_ASSIGN_OR_RETURN(auto taken, st::tenants::Get(tx, TenantId(candidate)));
      if (!taken) {
        rec.id = TenantId(candidate);
        break;
      }
    }
    return st::tenants::Insert(tx, rec);
  }));
  (void)random_;
  return rec;
}

Status AdminService::SetTenantPlan(const TenantId& tenant, const std::string& tier) {
  if (!plans_.Current()->Find(tier))
    return Status::Unprocessable("unknown subscription tier '" + tier + "'", "invalid_tier");
  const Status done = db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto t, st::tenants::Get(tx, tenant));
    if (!t) return Status::NotFound("no such tenant", "tenant_not_found");
    return st::tenants::SetTier(tx, tenant, tier);
  });
  if (done.ok()) ForgetTenant(tenant);
  return done;
}

Status AdminService::SetTenantStatus(const TenantId& tenant, const std::string& status) {
  const Status done = db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto t, st::tenants::Get(tx, tenant));
    if (!t) return Status::NotFound("no such tenant", "tenant_not_found");
    return st::tenants::SetStatus(tx, tenant, status);
  });
  if (done.ok()) ForgetTenant(tenant);
  return done;
}

}  // namespace gh::tenancy
