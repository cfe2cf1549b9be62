// VaultWiring: owns and wires the token vault and asynchronous approvals for `gatehouse serve` —
// the keyring, the vault, trusted backend clients, HTTP API tools (installed in the tool registry
// as the tenants' tool source), the approval service (installed as the registry's approval gate),
// the user feed and the runner that resumes conversations after decisions. Kept out of app.cc so
// the wiring there stays a few lines.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "agent/tool.h"
#include "api/services.h"
#include "api/vault_ciba_api.h"
#include "approvals/runner.h"
#include "approvals/service.h"
#include "approvals/user_feed.h"
#include "chat/chat_service.h"
#include "http/client.h"
#include "http/server.h"
#include "main/config.h"
#include "pipeline/router.h"
#include "tools/http_api_tool.h"
#include "vault/clients.h"
#include "vault/keyring.h"
#include "vault/vault.h"

namespace gh::app {

class VaultWiring {
 public:
  VaultWiring(const Config& cfg, storage::Database& db, const Clock& clock, Random& random,
              const Secret& master_key, std::shared_ptr<http::HttpClient> client,
              agent::ToolRegistry& tools, chat::ChatService& chat,
              std::function<tenancy::PlanCatalogPtr()> plans);

  void RegisterRoutes(pipeline::Router& router, api::Services& services);
  // Once the issuer is known: the OAuth redirect URI, and the runner starts (resuming work left
  // by a previous run).
  void Start(http::Server& server, const std::string& issuer);
  // Ends the live feeds and stops the runner, so the server's drain does not wait for them.
  void Shutdown();

 private:
  approvals::UserFeed feed_;
  vault::Keyring keyring_;
  vault::TokenVault vault_;
  vault::ClientRegistry clients_;
  std::shared_ptr<approvals::ApprovalService> approvals_;
  std::shared_ptr<tools::HttpToolCatalog> http_tools_;
  approvals::ApprovalRunner runner_;
  std::unique_ptr<api::VaultCibaServices> api_;
};

// `gatehouse admin keys rotate-master`: re-wraps every tenant data key and re-seals the token
// signing keys under a new master key, in one transaction; sealed tokens are not touched. With a
// key file, the new key is written to master.key.next first and moved over master.key once the
// database committed (re-running after an interruption finishes the job). With
// GATEHOUSE_MASTER_KEY, the new key comes from GATEHOUSE_NEW_MASTER_KEY and the operator swaps the
// variables. Run it with the servers stopped (or restart them right after). Returns the exit code.
int RotateMasterKeyCommand(const Config& cfg);

}  // namespace gh::app
