#include "vault/clients.h"

#include <set>

#include "common/log.h"
#include "common/strings.h"
#include "crypto/hash.h"

namespace gh::vault {

namespace st = gh::storage;

Result<CreatedClient> ClientRegistry::Create(const TenantId& tenant, const std::string& raw_name,
                                             const std::vector<std::string>& grants) {
  std::string name(Trim(raw_name));
  if (name.empty() || name.size() > 100 || Printable(name, 100) != name)
    return Status::Unprocessable("name must be 1-100 printable characters",
                                 "invalid_client_metadata");
  std::set<std::string> unique;
  for (const auto& g : grants) {
    if (g != kGrantCiba && g != kGrantTokenExchange)
      return Status::Unprocessable("grant_types may hold 'ciba' and 'token_exchange'",
                                   "invalid_client_metadata");
    unique.insert(g);
  }
  if (unique.empty())
    return Status::Unprocessable("grant_types must name at least one grant",
                                 "invalid_client_metadata");
  std::string joined;
  for (const auto& g : unique) joined += (joined.empty() ? "" : " ") + g;
  CreatedClient out;
  out.secret = Secret(random_.Token(32));
  out.record = {
      "ghc_" + random_.Token(16), tenant,      name, crypto::Sha256Hex(out.secret.reveal()), joined,
      clock_.NowUnixMillis(),     std::nullopt};
  GH_RETURN_IF_ERROR(
      db_.Write([&](st::Tx& tx) { return st::oauth_clients::Insert(tx, out.record); }));
  log::Info("backend client created",
            {{"tenant_id", tenant.value()}, {"client_id", out.record.client_id}});
  return out;
}

Result<std::vector<st::OAuthClientRecord>> ClientRegistry::List(const TenantId& tenant) {
  std::vector<st::OAuthClientRecord> out;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(out, st::oauth_clients::List(tx, tenant));
    return Status::Ok();
  }));
  return out;
}

Status ClientRegistry::Revoke(const TenantId& tenant, const std::string& client_id) {
  bool revoked = false;
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(revoked,
                        st::oauth_clients::Revoke(tx, tenant, client_id, clock_.NowUnixMillis()));
    return Status::Ok();
  }));
  if (!revoked) return Status::NotFound("no such client", "client_not_found");
  return Status::Ok();
}

Result<st::OAuthClientRecord> ClientRegistry::Authenticate(const std::string& client_id,
                                                           const Secret& secret) {
  const Status invalid = Status::Unauthenticated("client authentication failed", "invalid_client");
  if (client_id.empty() || client_id.size() > 128 || secret.empty() || secret.reveal().size() > 256)
    return invalid;
  std::optional<st::OAuthClientRecord> rec;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(rec, st::oauth_clients::Find(tx, client_id));
    return Status::Ok();
  }));
  const std::string presented = crypto::Sha256Hex(secret.reveal());
  const bool match = rec && ConstantTimeEquals(presented, rec->secret_hash);
  if (!match || rec->revoked_at) return invalid;
  return *rec;
}

bool ClientRegistry::Allows(const st::OAuthClientRecord& client, std::string_view grant) {
  for (auto g : Split(client.grant_types, ' '))
    if (g == grant) return true;
  return false;
}

}  // namespace gh::vault
