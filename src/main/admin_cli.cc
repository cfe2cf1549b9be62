#include "main/admin_cli.h"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <iostream>

#include "audit/audit_log.h"
#include "common/clock.h"
#include "common/random.h"
#include "identity/api_keys.h"
#include "main/app.h"
#include "main/vault_wiring.h"
#include "storage/database.h"
#include "storage/limits_repository.h"
#include "tenancy/admin_service.h"
#include "tenancy/directory.h"
#include "tenancy/plan_json.h"
#include "tenancy/plan_store.h"
#include "tenancy/quota.h"

namespace gh::app {

namespace bj = boost::json;

void AddAdminCommands(CLI::App& admin, AdminCommand& cmd) {
  admin.require_subcommand(1);
  auto leaf = [&cmd](CLI::App* parent, const std::string& group, const std::string& name,
                     const std::string& help) {
    CLI::App* sub = parent->add_subcommand(name, help);
    sub->callback([&cmd, group, name] { cmd.path = {group, name}; });
    return sub;
  };
  CLI::App* tenants = admin.add_subcommand("tenants", "Manage tenants");
  tenants->require_subcommand(1);
  leaf(tenants, "tenants", "list", "List every tenant");
  auto* create = leaf(tenants, "tenants", "create", "Create a tenant");
  create->add_option("name", cmd.args, "Tenant name")->required();
  create->add_option("--tier", cmd.tier, "Subscription tier")->required();
  create->add_option("--timezone", cmd.timezone, "IANA time zone (default UTC)");
  auto* set_plan = leaf(tenants, "tenants", "set-plan", "Change a tenant's plan");
  set_plan->add_option("tenant_id", cmd.args, "Tenant id")->required();
  set_plan->add_option("--tier", cmd.tier, "Subscription tier")->required();
  for (const char* action : {"suspend", "resume"}) {
    auto* a = leaf(tenants, "tenants", action,
                   std::string(action) == "suspend" ? "Suspend a tenant" : "Resume a tenant");
    a->add_option("tenant_id", cmd.args, "Tenant id")->required();
  }
  CLI::App* plans = admin.add_subcommand("plans", "Manage plans");
  plans->require_subcommand(1);
  leaf(plans, "plans", "list", "List the plans in effect");
  auto* set = leaf(plans, "plans", "set", "Create or edit a plan");
  set->add_option("name", cmd.args, "Plan name")->required();
  set->add_option("--json", cmd.json, "Fields to set, e.g. '{\"messages_per_day\":100}'")
      ->required();
  CLI::App* keys = admin.add_subcommand("keys", "Manage encryption keys");
  keys->require_subcommand(1);
  leaf(keys, "keys", "rotate-master",
       "Re-wrap the tenant data keys and signing keys under a new master key");
  CLI::App* audit = admin.add_subcommand("audit", "The hash-chained audit log");
  audit->require_subcommand(1);
  leaf(audit, "audit", "verify",
       "Check that no audit record was changed or removed (exit 1 if one was)");
  CLI::App* ops = admin.add_subcommand("operators", "Manage platform operators");
  ops->require_subcommand(1);
  leaf(ops, "operators", "list", "List platform operators");
  for (const char* action : {"add", "remove"}) {
    auto* a = leaf(ops, "operators", action,
                   std::string(action) == "add" ? "Make an email a platform operator"
                                                : "Remove a platform operator");
    a->add_option("email", cmd.args, "Email")->required();
  }
}

namespace {

int Refused(const Status& st) {
  std::cerr << "gatehouse admin: " << st.message() << "\n";
  return st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kUnprocessable ? 2
                                                                                              : 1;
}

void PrintTenant(const storage::TenantRecord& t) {
  std::cout << bj::serialize(bj::object{{"tenant_id", t.id.value()},
                                        {"name", t.name},
                                        {"subscription_tier", t.tier},
                                        {"status", t.status},
                                        {"timezone", t.timezone}})
            << "\n";
}

// `admin audit verify`: walks the chain; exit 0 when intact, 1 naming the first broken record.
int VerifyAudit(storage::Database& db) {
  auto rep = audit::VerifyAuditLog(db);
  if (!rep.ok()) return Refused(rep.status());
  if (!rep->ok) {
    std::cerr << "audit log broken at record " << rep->broken_at.value_or(0) << ": " << rep->problem
              << "\n";
    return 1;
  }
  std::cout << "audit log intact: " << rep->records << " records";
  if (rep->records) std::cout << ", head " << rep->head_seq << " " << rep->head_hash;
  std::cout << "\n";
  return 0;
}

}  // namespace

int RunAdmin(const Config& cfg, const AdminCommand& cmd) {
  if (cmd.path.at(0) == "keys") return RotateMasterKeyCommand(cfg);
  Clock& clock = SystemClock::Instance();
  Random& random = OsRandom::Instance();
  auto db_or = OpenStorage(cfg);
  if (!db_or.ok()) return Refused(db_or.status());
  auto db = std::move(db_or).value();
  tenancy::PlanStore plans(cfg.plans, *db, clock);
  if (Status st = plans.Load(); !st.ok()) return Refused(st);
  tenancy::QuotaService quota(*db, clock);
  // Reports what the commands change to the running servers on the database (PostgreSQL), which
  // forget it at once instead of within their cache's TTL.
  tenancy::Directory directory(*db, clock);
  tenancy::AdminService admin(*db, clock, random, plans, quota, &directory);
  const std::string& group = cmd.path.at(0);
  const std::string& name = cmd.path.at(1);
  const std::string arg = cmd.args.empty() ? "" : cmd.args.front();
  if (group == "audit") return VerifyAudit(*db);
  if (name != "list") {  // an administrative action: recorded (as attempted) before it runs
    Status st = audit::AuditLog(*db, clock)
                    .Append({{group == "tenants" && name != "create" ? arg : "", "cli",
                              "cli." + group + "." + name, arg, "attempted", "{}"}});
    if (!st.ok()) return Refused(st);
  }

  if (group == "tenants") {
    if (name == "list") {
      auto all = admin.ListTenants();
      if (!all.ok()) return Refused(all.status());
      for (const auto& t : *all) PrintTenant(t);
      return 0;
    }
    if (name == "create") {
      auto t = admin.CreateTenant(arg, cmd.tier, cmd.timezone.empty() ? "UTC" : cmd.timezone);
      if (!t.ok()) return Refused(t.status());
      PrintTenant(*t);
      return 0;
    }
    Status st = name == "set-plan" ? admin.SetTenantPlan(TenantId(arg), cmd.tier)
                                   : admin.SetTenantStatus(
                                         TenantId(arg), name == "suspend" ? "suspended" : "active");
    if (!st.ok()) return Refused(st);
    auto t = admin.GetTenant(TenantId(arg));
    if (t.ok() && *t) PrintTenant(**t);
    return 0;
  }
  if (group == "plans") {
    if (name == "list") {
      for (const auto& [n, p] : plans.Current()->plans())
        std::cout << bj::serialize(tenancy::PlanToJson(p)) << "\n";
      return 0;
    }
    boost::system::error_code jec;
    bj::value v = bj::parse(cmd.json, jec);
    if (jec || !v.is_object())
      return Refused(Status::InvalidArgument("--json must be a JSON object"));
    auto current = plans.Current();
    tenancy::Plan plan = current->Find(arg) ? *current->Find(arg)
                                            : tenancy::PlanCatalog::Defaults().plans().at("basic");
    plan.name = arg;
    if (Status st = tenancy::ApplyPlanJson(v.get_object(), plan); !st.ok()) return Refused(st);
    if (Status st = plans.Put(plan); !st.ok()) return Refused(st);
    std::cout << bj::serialize(tenancy::PlanToJson(plan)) << "\n";
    return 0;
  }
  if (group == "operators") {
    std::string email = arg;
    for (auto& c : email) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    Status st = db->Write([&](storage::Tx& tx) -> Status {
      if (name == "add") return storage::operators::Add(tx, email, clock.NowUnixMillis());
      if (name == "remove") return storage::operators::Remove(tx, email);
      GH_ASSIGN_OR_RETURN(auto list, storage::operators::List(tx));
      for (const auto& e : list) std::cout << e << "\n";
      for (const auto& e : cfg.platform_operators) std::cout << e << " (from configuration)\n";
      return Status::Ok();
    });
    if (!st.ok()) return Refused(st);
    if (name != "list") {
      // A platform operator's API keys resolve to principals the servers cache: forgotten there.
      if (Status told = db->Announce({std::string(identity::ApiKeyService::kRevokedTopic), ""});
          !told.ok())
        std::cerr << "warning: the running servers were not told (they see it within their cache "
                     "TTL): "
                  << told.message() << "\n";
      std::cout << (name == "add" ? "added " : "removed ") << email << "\n";
    }
    return 0;
  }
  return 2;
}

}  // namespace gh::app
