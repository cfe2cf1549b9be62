#include "main/vault_wiring.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/strings.h"
#include "crypto/master_key.h"
#include "main/app.h"

namespace gh::app {

namespace {

vault::VaultOptions VaultOptionsFrom(const Config& cfg) {
  vault::VaultOptions o;
  o.allow_insecure_http = cfg.vault_allow_insecure_http;
  o.refresh_skew_seconds = cfg.vault_refresh_skew_seconds;
  o.flow_ttl_seconds = cfg.vault_flow_ttl_seconds;
  return o;
}

approvals::ApprovalOptions ApprovalOptionsFrom(const Config& cfg) {
  approvals::ApprovalOptions o;
  o.ciba_interval_seconds = cfg.ciba_interval_seconds;
  o.ciba_default_expiry_seconds = cfg.ciba_default_expiry_seconds;
  o.ciba_max_expiry_seconds = cfg.ciba_max_expiry_seconds;
  o.tool_default_expiry_seconds = cfg.tool_approval_expiry_seconds;
  return o;
}

}  // namespace

VaultWiring::VaultWiring(const Config& cfg, storage::Database& db, const Clock& clock,
                         Random& random, const Secret& master_key,
                         std::shared_ptr<http::HttpClient> client, agent::ToolRegistry& tools,
                         chat::ChatService& chat, std::function<tenancy::PlanCatalogPtr()> plans)
    : keyring_(db, master_key, random, clock),
      vault_(VaultOptionsFrom(cfg), db, keyring_, client, clock, random,
             [this](const TenantId& t, const UserId& u, const std::string& event,
                    const std::string& json) { feed_.Publish(t, u, event, json); }),
      clients_(db, clock, random),
      approvals_(std::make_shared<approvals::ApprovalService>(ApprovalOptionsFrom(cfg), db, clock,
                                                              random, feed_)),
      http_tools_(std::make_shared<tools::HttpToolCatalog>(
          tools::HttpToolOptions{.allow_insecure_http = cfg.vault_allow_insecure_http}, db, clock,
          vault_, client,
          [&tools](const std::string& name) { return tools.Find(name) != nullptr; })),
      runner_({.sweep_interval = cfg.approvals_sweep_interval}, db, clock, *approvals_, tools, chat,
              std::move(plans)) {
  tools.SetTenantTools(http_tools_);
  tools.SetApprovalGate(approvals_);
  approvals_->set_on_decided([this] { runner_.Kick(); });
}

void VaultWiring::RegisterRoutes(pipeline::Router& router, api::Services& services) {
  api_ = std::make_unique<api::VaultCibaServices>(
      api::VaultCibaServices{services, vault_, clients_, *approvals_, feed_, *http_tools_});
  api::RegisterVaultRoutes(router, *api_);
  api::RegisterCibaRoutes(router, *api_);
}

void VaultWiring::Start(http::Server& server, const std::string& issuer) {
  vault_.set_redirect_uri(issuer + "/oauth/callback");
  runner_.Start(server.executor());
}

void VaultWiring::Shutdown() {
  feed_.Shutdown();
  runner_.Stop();
}

namespace {

Result<Secret> DecodeKey(std::string_view text, std::string_view what) {
  auto raw = Base64Decode(std::string(Trim(text)));
  if (!raw || raw->size() != 32)
    return Status::InvalidArgument(std::string(what) + " must be 32 bytes, base64-encoded");
  return Secret(std::move(*raw));
}

Result<Secret> ReadKeyFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return DecodeKey(ss.str(), path.string());
}

Status WritePrivateFile(const std::filesystem::path& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return Status::Internal("cannot create " + path.string());
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return Status::Internal("cannot write " + path.string());
  }
  return Status::Ok();
}

int Refuse(const Status& st) {
  std::cerr << "gatehouse admin keys: " << st.message() << "\n";
  return st.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace

int RotateMasterKeyCommand(const Config& cfg) {
  Clock& clock = SystemClock::Instance();
  Random& random = OsRandom::Instance();
  auto db = OpenStorage(cfg);
  if (!db.ok()) return Refuse(db.status());
  const std::filesystem::path key_file = cfg.data_dir / "master.key";
  const std::filesystem::path next_file = cfg.data_dir / "master.key.next";
  const bool from_env = cfg.master_key.has_value();
  Secret current, next;
  if (from_env) {
    auto cur = DecodeKey(cfg.master_key->reveal(), "GATEHOUSE_MASTER_KEY");
    if (!cur.ok()) return Refuse(cur.status());
    const char* next_env = std::getenv("GATEHOUSE_NEW_MASTER_KEY");
    if (!next_env || !*next_env)
      return Refuse(
          Status::InvalidArgument("the master key comes from GATEHOUSE_MASTER_KEY: set "
                                  "GATEHOUSE_NEW_MASTER_KEY to the new key "
                                  "(base64 of 32 random bytes, e.g. `openssl rand -base64 32`)"));
    auto nxt = DecodeKey(next_env, "GATEHOUSE_NEW_MASTER_KEY");
    if (!nxt.ok()) return Refuse(nxt.status());
    current = *cur;
    next = *nxt;
  } else {
    std::error_code ec;
    if (!std::filesystem::exists(key_file, ec))
      return Refuse(Status::NotFound("no master key at " + key_file.string()));
    auto cur = ReadKeyFile(key_file);
    if (!cur.ok()) return Refuse(cur.status());
    current = *cur;
    if (std::filesystem::exists(next_file,
                                ec)) {  // an interrupted rotation: finish it with the same key
      auto nxt = ReadKeyFile(next_file);
      if (!nxt.ok()) return Refuse(nxt.status());
      next = *nxt;
    } else {
      next = Secret(random.Bytes(32));
      if (Status st = WritePrivateFile(next_file, Base64Encode(next.reveal()) + "\n"); !st.ok())
        return Refuse(st);
    }
  }
  auto report = vault::RotateMasterKey(**db, current, next, random, clock);
  if (!report.ok()) return Refuse(report.status());
  if (!from_env) {
    std::error_code ec;
    std::filesystem::rename(next_file, key_file, ec);
    if (ec)
      return Refuse(Status::Internal("the database is re-wrapped but " + next_file.string() +
                                     " could not replace " + key_file.string() +
                                     ": move it by hand"));
  }
  std::cout << boost::json::serialize(
                   boost::json::object{{"rotated", true},
                                       {"data_keys", report->data_keys},
                                       {"signing_keys", report->signing_keys},
                                       {"master_key_id", vault::Keyring::MasterKeyId(next)}})
            << "\n";
  if (from_env)
    std::cerr << "Now set GATEHOUSE_MASTER_KEY to the value of GATEHOUSE_NEW_MASTER_KEY and "
                 "restart the servers.\n";
  return 0;
}

}  // namespace gh::app
