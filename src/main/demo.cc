#include "main/demo.h"

#include <fmt/format.h>

#include <iostream>

#include "common/log.h"
#include "storage/repositories.h"

namespace gh::app {

Status SeedDemo(identity::IdentityService& identity, storage::Database& db, Random& random,
                const std::string& base_url) {
  struct Account {
    const char* tenant;
    const char* tier;
    const char* email;
    const char* role;
  };
  static constexpr Account kAccounts[] = {
      {"Acme Corp", "premium", "admin@acme.example", "admin"},
      {"Acme Corp", "premium", "user@acme.example", "user"},
      {"Globex", "basic", "admin@globex.example", "admin"},
      {"Globex", "basic", "user@globex.example", "user"},
  };
  bool exists = false;
  GH_RETURN_IF_ERROR(db.Read([&](storage::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto t, storage::tenants::Get(tx, TenantId("acme-corp")));
    exists = t.has_value();
    return Status::Ok();
  }));
  if (exists) {
    log::Info("demo content already present; logins were printed when it was created");
    return Status::Ok();
  }
  std::string table;
  for (const Account& a : kAccounts) {
    // Strong random passwords: a demo must not ship guessable credentials.
    std::string password = "Demo-" + random.Token(9) + "-7";
    auto reg = identity.CreateVerifiedUser(a.tenant, a.tier, a.email, Secret(password), a.role);
    if (!reg.ok()) return std::move(reg).status().Annotate("seeding demo content");
    table += fmt::format("  {:<22} {:<24} {:<6} {:<8} {}\n", a.tenant, a.email, a.role, a.tier,
                         password);
  }
  std::cout << "\nGatehouse demo content created. These logins are shown only this once:\n\n"
            << fmt::format("  {:<22} {:<24} {:<6} {:<8} {}\n", "tenant", "email", "role", "plan",
                           "password")
            << table << "\nOpen " << base_url << " and log in.\n\n"
            << std::flush;
  return Status::Ok();
}

}  // namespace gh::app
