// Provider presets: the endpoints, default scopes and quirks of common OAuth providers, so a tenant
// admin only supplies a client id and secret. A preset's fields are defaults; anything the admin
// gives explicitly wins. Immutable data; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gh::vault {

struct ProviderPreset {
  std::string name;          // google | microsoft | github | slack | salesforce | atlassian
  std::string display_name;  // "Google"
  std::string issuer;        // for OIDC discovery, when the provider offers it (informational)
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string revocation_endpoint;  // empty: no RFC 7009 revocation
  std::string default_scopes;
  std::vector<std::pair<std::string, std::string>> auth_params;  // e.g. access_type=offline
  std::string token_auth_method;  // client_secret_basic | client_secret_post
};

// nullptr when there is no such preset.
const ProviderPreset* FindPreset(std::string_view name);
const std::vector<ProviderPreset>& Presets();

}  // namespace gh::vault
