// Routes of the token vault (connections, connected accounts, the OAuth callback, trusted backend
// clients, HTTP API tools) and of asynchronous approval (CIBA's /bc-authorize, the OAuth token
// endpoint, the user's approvals and live feed, approval policies). The services are borrowed from
// main/, which owns them.
#pragma once

#include "api/services.h"
#include "approvals/service.h"
#include "approvals/user_feed.h"
#include "tools/http_api_tool.h"
#include "vault/clients.h"
#include "vault/vault.h"

namespace gh::api {

struct VaultCibaServices {
  Services& core;
  vault::TokenVault& vault;
  vault::ClientRegistry& clients;
  approvals::ApprovalService& approvals;
  approvals::UserFeed& feed;
  tools::HttpToolCatalog& http_tools;
};

void RegisterVaultRoutes(pipeline::Router& router, VaultCibaServices& s);
void RegisterCibaRoutes(pipeline::Router& router, VaultCibaServices& s);

}  // namespace gh::api
