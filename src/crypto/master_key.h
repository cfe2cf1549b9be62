// The master key: 32 random bytes that wrap every secret Gatehouse stores (signing keys, tenant
// data keys). It comes from the environment (base64, GATEHOUSE_MASTER_KEY) when set, otherwise from
// a key file in the data directory, created with mode 0600 at first start.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/random.h"
#include "common/secret.h"
#include "common/status.h"

namespace gh::crypto {

Result<Secret> LoadOrCreateMasterKey(const std::filesystem::path& key_file,
                                     const std::optional<Secret>& from_env, Random& random);

// A purpose-specific key derived from the master key (HMAC-SHA256 of the label).
Secret DeriveKey(const Secret& master, std::string_view label);

}  // namespace gh::crypto
