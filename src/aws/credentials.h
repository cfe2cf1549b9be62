// Where AWS credentials and the region come from: a provider chain in botocore's order, limited to
// the sources that need no network.
//
//   1. explicit configuration (AwsExplicitConfig, e.g. from Gatehouse's own config file);
//   2. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
//   3. the shared credentials file: AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials;
//   4. the shared config file: AWS_CONFIG_FILE or ~/.aws/config ("[profile NAME]" sections).
//
// The profile is the explicit one, else AWS_PROFILE, else "default". The region is the explicit
// one, else AWS_REGION, else AWS_DEFAULT_REGION, else the profile's `region` in the config file.
// Not covered (they need HTTP or a subprocess): SSO, web identity, credential_process, the ECS /
// EKS container endpoint and EC2 instance metadata.
//
// Seams: the environment is an injected EnvironmentLookup (ProcessEnvironment() is the only getenv
// caller); files are read from disk. Resolve once at start-up or on config reload, not per request.
// Secrets: secret keys and session tokens are held in gh::Secret; errors never quote file content.
// Thread-safety: the functions are reentrant; EnvironmentLookup objects must be safe to call from
// the calling thread (ProcessEnvironment() is, as long as nobody calls setenv concurrently).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "aws/sigv4.h"
#include "common/secret.h"
#include "common/status.h"

namespace gh::aws {

// Returns the value of one environment variable, nullopt when unset.
using EnvironmentLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment (getenv). Production only.
EnvironmentLookup ProcessEnvironment();
// A fixed environment, for tests and for embedding.
EnvironmentLookup EnvironmentFromMap(std::map<std::string, std::string, std::less<>> vars);

// Values set explicitly by the operator; each one that is set overrides every other source.
struct AwsExplicitConfig {
  std::optional<std::string> access_key_id;
  std::optional<Secret> secret_access_key;
  std::optional<Secret> session_token;
  std::optional<std::string> region;
  std::optional<std::string> profile;
  std::optional<std::string> shared_credentials_file;  // else AWS_SHARED_CREDENTIALS_FILE
  std::optional<std::string> config_file;              // else AWS_CONFIG_FILE
};

enum class CredentialSource { kExplicit, kEnvironment, kSharedCredentialsFile, kSharedConfigFile };
std::string_view CredentialSourceName(CredentialSource source);

struct ResolvedCredentials {
  AwsCredentials credentials;
  CredentialSource source = CredentialSource::kExplicit;
  std::string profile;  // the profile used when the source is a file; empty otherwise
};

// Walks the chain. Errors: "aws_credentials_missing" (nothing found; the message lists what was
// tried), "aws_credentials_partial" (a key id without a secret or the reverse),
// "aws_profile_not_found" (a profile named explicitly or by AWS_PROFILE exists in no file),
// "aws_config_invalid" / "aws_config_unreadable" (a shared file is malformed or unreadable).
Result<ResolvedCredentials> ResolveCredentials(const AwsExplicitConfig& config,
                                               const EnvironmentLookup& env);

// Errors: "aws_region_missing", "aws_region_invalid" (the region ends up in a host name, so only
// lower-case letters, digits and '-' are accepted), plus the config file errors above.
Result<std::string> ResolveRegion(const AwsExplicitConfig& config, const EnvironmentLookup& env);

// The subset of INI that AWS shared files use (Python configparser semantics): "[section]",
// "key = value" or "key: value" (keys lower-cased, values trimmed), full-line comments starting
// with '#' or ';', indented lines continuing the previous value. Repeated sections merge and a
// repeated key keeps its last value. Errors name the line number, never its content.
struct IniDocument {
  using Section = std::map<std::string, std::string, std::less<>>;
  std::map<std::string, Section, std::less<>> sections;
  const std::string* Find(std::string_view section, std::string_view key) const;
};
Result<IniDocument> ParseIni(std::string_view text);

}  // namespace gh::aws
