// Keyring: envelope encryption for the vault. Each tenant has a random 256-bit data key, stored
// wrapped (AES-256-GCM) by the master key with associated data naming the tenant, and created on
// first use. Vault secrets (tokens, client secrets, PKCE verifiers) are sealed with the tenant's
// data key and associated data that binds them to their row (tenant, user, connection, purpose),
// so a ciphertext copied to another row, user or tenant does not open.
//
// Master-key rotation (RotateMasterKey) re-wraps the data keys and re-seals the token signing keys
// in one transaction; sealed tokens are not touched. Each wrapped key records which master key
// wrapped it (MasterKeyId), so a server running with a stale key fails with a clear message.
//
// Unwrapped data keys are cached in memory. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/ids.h"
#include "common/random.h"
#include "common/secret.h"
#include "common/status.h"
#include "storage/database.h"

namespace gh::vault {

// Associated data for a vault secret: a purpose and the identifiers of the row that holds it,
// joined unambiguously (NUL separators; identifiers never contain NUL).
std::string Aad(std::string_view purpose, std::initializer_list<std::string_view> parts);

class Keyring {
 public:
  Keyring(storage::Database& db, Secret master_key, Random& random, const Clock& clock);

  // Seals `plaintext` under the tenant's data key; returns base64 (nonce || ciphertext || tag).
  Result<std::string> Seal(const TenantId& tenant, std::string_view plaintext,
                           std::string_view aad);
  // Opens what Seal returned; kInternal "vault_decrypt_failed" when the key, the associated data or
  // the ciphertext does not match (never says which).
  Result<Secret> Open(const TenantId& tenant, std::string_view sealed_base64, std::string_view aad);

  // A short public identifier of a master key (HMAC of a label), stored beside wrapped keys.
  static std::string MasterKeyId(const Secret& master);

 private:
  Result<Secret> DataKey(const TenantId& tenant);

  storage::Database& db_;
  Secret master_;
  std::string master_id_;
  Random& random_;
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, Secret> cache_;  // tenant id -> data key
};

struct RotationReport {
  int64_t data_keys = 0;
  int64_t signing_keys = 0;
};

// Re-wraps every tenant data key and re-seals every token signing key from `current` to `next`,
// all or nothing. Fails (changing nothing) if any key does not open with `current`; keys already
// wrapped by `next` (a rotation that was interrupted after the database committed) are skipped.
Result<RotationReport> RotateMasterKey(storage::Database& db, const Secret& current,
                                       const Secret& next, Random& random, const Clock& clock);

}  // namespace gh::vault
