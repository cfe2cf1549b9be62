#include "vault/presets.h"

namespace gh::vault {

const std::vector<ProviderPreset>& Presets() {
  // Endpoints as the providers document them. Microsoft's uses the multi-tenant "common" authority;
  // a tenant-specific authority is a custom connection (or an `issuer` to discover from).
  static const std::vector<ProviderPreset> kPresets = {
      {"google",
       "Google",
       "https://accounts.google.com",
       "https://accounts.google.com/o/oauth2/v2/auth",
       "https://oauth2.googleapis.com/token",
       "https://oauth2.googleapis.com/revoke",
       "openid email profile",
       {{"access_type", "offline"}, {"prompt", "consent"}, {"include_granted_scopes", "true"}},
       "client_secret_post"},
      {"microsoft",
       "Microsoft",
       "https://login.microsoftonline.com/common/v2.0",
       "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
       "https://login.microsoftonline.com/common/oauth2/v2.0/token",
       "",
       "openid email profile offline_access User.Read",
       {},
       "client_secret_post"},
      {"github",
       "GitHub",
       "",
       "https://github.com/login/oauth/authorize",
       "https://github.com/login/oauth/access_token",
       "",
       "read:user",
       {},
       "client_secret_post"},
      {"slack",
       "Slack",
       "https://slack.com",
       "https://slack.com/oauth/v2/authorize",
       "https://slack.com/api/oauth.v2.access",
       "",
       "",
       {},
       "client_secret_post"},
      {"salesforce",
       "Salesforce",
       "https://login.salesforce.com",
       "https://login.salesforce.com/services/oauth2/authorize",
       "https://login.salesforce.com/services/oauth2/token",
       "https://login.salesforce.com/services/oauth2/revoke",
       "api refresh_token openid",
       {},
       "client_secret_post"},
      {"atlassian",
       "Atlassian",
       "",
       "https://auth.atlassian.com/authorize",
       "https://auth.atlassian.com/oauth/token",
       "",
       "offline_access read:me",
       {{"audience", "api.atlassian.com"}, {"prompt", "consent"}},
       "client_secret_post"},
  };
  return kPresets;
}

const ProviderPreset* FindPreset(std::string_view name) {
  for (const auto& p : Presets())
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace gh::vault
