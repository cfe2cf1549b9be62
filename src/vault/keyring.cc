#include "vault/keyring.h"

#include "common/log.h"
#include "common/strings.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "storage/vault_repository.h"

namespace gh::vault {

namespace st = gh::storage;

namespace {

std::string DataKeyAad(const TenantId& tenant) { return Aad("data-key", {tenant.value()}); }
// The identity module seals its signing keys with this associated data (identity/service.cc).
std::string SigningKeyAad(const std::string& kid) { return "signing-key:" + kid; }

Status DecryptFailed() {
  return Status::Internal("a vault secret does not decrypt with its key and context",
                          "vault_decrypt_failed");
}

}  // namespace

std::string Aad(std::string_view purpose, std::initializer_list<std::string_view> parts) {
  std::string out = "gatehouse/vault/v1";
  out.push_back('\0');
  out += purpose;
  for (auto p : parts) {
    out.push_back('\0');
    out += p;
  }
  return out;
}

Keyring::Keyring(st::Database& db, Secret master_key, Random& random, const Clock& clock)
    : db_(db),
      master_(std::move(master_key)),
      master_id_(MasterKeyId(master_)),
      random_(random),
      clock_(clock) {}

std::string Keyring::MasterKeyId(const Secret& master) {
  return HexEncode(crypto::HmacSha256(master.reveal(), "gatehouse master key id")).substr(0, 16);
}

Result<Secret> Keyring::DataKey(const TenantId& tenant) {
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(tenant.value());
    if (it != cache_.end()) return it->second;
  }
  std::optional<st::DataKeyRecord> rec;
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(rec, st::vault_keys::Get(tx, tenant));
    if (rec) return Status::Ok();
    std::string key = random_.Bytes(crypto::kAeadKeySize);
    GH_ASSIGN_OR_RETURN(std::string wrapped,
                        crypto::Seal(master_, key, DataKeyAad(tenant), random_));
    st::DataKeyRecord fresh{tenant, Base64Encode(wrapped), master_id_, clock_.NowUnixMillis(),
                            std::nullopt};
    GH_RETURN_IF_ERROR(st::vault_keys::InsertIfAbsent(tx, fresh).status());
    GH_ASSIGN_OR_RETURN(rec, st::vault_keys::Get(tx, tenant));
    if (!rec) return Status::Internal("the tenant data key was not stored");
    return Status::Ok();
  }));
  if (rec->master_key_id != master_id_)
    return Status::Internal(
        "the tenant's data key is wrapped by another master key (was the master key rotated? "
        "restart with the current one)",
        "vault_master_key_mismatch");
  auto wrapped = Base64Decode(rec->wrapped_key);
  if (!wrapped) return DecryptFailed();
  auto key = crypto::Open(master_, *wrapped, DataKeyAad(tenant));
  if (!key.ok() || key->reveal().size() != crypto::kAeadKeySize) return DecryptFailed();
  std::lock_guard lock(mu_);
  return cache_.emplace(tenant.value(), *key).first->second;
}

Result<std::string> Keyring::Seal(const TenantId& tenant, std::string_view plaintext,
                                  std::string_view aad) {
  GH_ASSIGN_OR_RETURN(Secret key, DataKey(tenant));
  GH_ASSIGN_OR_RETURN(std::string sealed, crypto::Seal(key, plaintext, aad, random_));
  return Base64Encode(sealed);
}

Result<Secret> Keyring::Open(const TenantId& tenant, std::string_view sealed_base64,
                             std::string_view aad) {
  GH_ASSIGN_OR_RETURN(Secret key, DataKey(tenant));
  auto sealed = Base64Decode(std::string(sealed_base64));
  if (!sealed) return DecryptFailed();
  auto opened = crypto::Open(key, *sealed, aad);
  if (!opened.ok()) return DecryptFailed();
  return opened;
}

Result<RotationReport> RotateMasterKey(st::Database& db, const Secret& current, const Secret& next,
                                       Random& random, const Clock& clock) {
  if (next.reveal().size() != crypto::kAeadKeySize)
    return Status::InvalidArgument("the new master key must be 32 bytes");
  const std::string current_id = Keyring::MasterKeyId(current),
                    next_id = Keyring::MasterKeyId(next);
  if (current_id == next_id)
    return Status::InvalidArgument("the new master key is the current one");
  RotationReport report;
  const int64_t now = clock.NowUnixMillis();
  GH_RETURN_IF_ERROR(db.Write([&](st::Tx& tx) -> Status {
    report = RotationReport{};
    GH_ASSIGN_OR_RETURN(auto keys, st::vault_keys::ListAll(tx));
    for (const auto& k : keys) {
      if (k.master_key_id == next_id) continue;  // done by an interrupted earlier run
      auto wrapped = Base64Decode(k.wrapped_key);
      if (!wrapped)
        return Status::Internal("tenant " + k.tenant_id.value() + ": wrapped data key is corrupt");
      auto key = crypto::Open(current, *wrapped, DataKeyAad(k.tenant_id));
      if (!key.ok())
        return Status::FailedPrecondition(
            "tenant " + k.tenant_id.value() +
            ": the data key does not open with the current master key");
      GH_ASSIGN_OR_RETURN(std::string rewrapped,
                          crypto::Seal(next, key->reveal(), DataKeyAad(k.tenant_id), random));
      GH_RETURN_IF_ERROR(
          st::vault_keys::Rewrap(tx, k.tenant_id, Base64Encode(rewrapped), next_id, now));
      ++report.data_keys;
    }
    GH_ASSIGN_OR_RETURN(auto seals, st::signing_key_seals::ListAll(tx));
    for (const auto& s : seals) {
      auto sealed = Base64Decode(s.sealed_key);
      if (!sealed) return Status::Internal("signing key " + s.kid + " is corrupt");
      auto pem = crypto::Open(current, *sealed, SigningKeyAad(s.kid));
      if (!pem.ok()) {
        if (crypto::Open(next, *sealed, SigningKeyAad(s.kid)).ok())
          continue;  // done by an earlier run
        return Status::FailedPrecondition("signing key " + s.kid +
                                          " does not open with the current master key");
      }
      GH_ASSIGN_OR_RETURN(std::string resealed,
                          crypto::Seal(next, pem->reveal(), SigningKeyAad(s.kid), random));
      GH_RETURN_IF_ERROR(st::signing_key_seals::Update(tx, s.kid, Base64Encode(resealed)));
      ++report.signing_keys;
    }
    return Status::Ok();
  }));
  log::Info("master key rotated", {{"data_keys", report.data_keys},
                                   {"signing_keys", report.signing_keys},
                                   {"master_key_id", next_id}});
  return report;
}

}  // namespace gh::vault
