#include "vault/token_exchange.h"

#include <set>

#include "common/log.h"
#include "common/strings.h"
#include "vault/clients.h"

namespace gh::vault {

namespace {

Status Refuse(std::string code, std::string message) {
  return Status::InvalidArgument(std::move(message), std::move(code));
}

}  // namespace

Awaitable<Result<ExchangeResult>> ExchangeForConnection(TokenVault& vault,
                                                        const storage::OAuthClientRecord& client,
                                                        const ExchangeRequest& r,
                                                        const Clock& clock) {
  if (!ClientRegistry::Allows(client, kGrantTokenExchange))
    co_return Refuse("unauthorized_client", "this client may not use token exchange");
  if (r.subject_token_type != kAccessTokenType)
    co_return Refuse("invalid_request",
                     "subject_token_type must be " + std::string(kAccessTokenType));
  if (!r.requested_token_type.empty() && r.requested_token_type != kAccessTokenType)
    co_return Refuse("invalid_request",
                     "requested_token_type must be " + std::string(kAccessTokenType));
  // A client acts within its own tenant: another tenant's user is not a valid subject here.
  if (r.subject_tenant != client.tenant_id)
    co_return Refuse("invalid_grant", "the subject token does not belong to this client's tenant");
  std::string target = r.audience;
  if (target.empty() && !r.resource.empty()) {
    const std::string prefix = "urn:gatehouse:connection:";
    target = r.resource.rfind(prefix, 0) == 0 ? r.resource.substr(prefix.size()) : r.resource;
  }
  if (target.empty()) co_return Refuse("invalid_request", "audience must name a connection");
  auto conn = vault.GetConnection(client.tenant_id, target);
  if (!conn.ok())
    co_return Refuse("invalid_target", "no such connection: " + Printable(target, 64));
  auto token = co_await vault.GetAccessToken(client.tenant_id, r.subject_user, target, false);
  if (!token.ok()) {
    const Status& st = token.status();
    if (st.error_code() == "account_not_connected" || st.error_code() == "reconsent_required")
      co_return Refuse("invalid_target", "the user has no usable account at '" + target + "' (" +
                                             st.error_code() + ")");
    co_return std::move(token).status();
  }
  if (!r.scope.empty()) {
    std::set<std::string_view> held;
    for (auto s : Split(token->scope, ' ')) held.insert(s);
    for (auto s : Split(r.scope, ' '))
      if (!s.empty() && !held.count(s))
        co_return Refuse("invalid_scope",
                         "scope '" + Printable(s, 64) + "' is not held by the account");
  }
  ExchangeResult out;
  out.access_token = token->token;
  out.token_type = ToLower(token->token_type) == "bearer" || token->token_type.empty()
                       ? "Bearer"
                       : token->token_type;
  out.scope = token->scope;
  if (token->expires_at > 0)
    out.expires_in = std::max<int64_t>(0, (token->expires_at - clock.NowUnixMillis()) / 1000);
  log::Info("token exchanged", {{"tenant_id", client.tenant_id.value()},
                                {"client_id", client.client_id},
                                {"user_id", r.subject_user.value()},
                                {"connection_id", target}});
  co_return out;
}

}  // namespace gh::vault
