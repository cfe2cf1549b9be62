#include "aws/credentials.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "common/strings.h"

namespace gh::aws {
namespace {

namespace fs = std::filesystem;

constexpr uintmax_t kMaxSharedFileBytes = 1 << 20;

// Unset and empty are the same thing for AWS variables (botocore ignores empty values too).
std::optional<std::string> NonEmpty(const EnvironmentLookup& env, std::string_view name) {
  if (!env) return std::nullopt;
  std::optional<std::string> v = env(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

std::string ExpandHome(const std::string& path, const EnvironmentLookup& env) {
  if (path == "~" || path.starts_with("~/")) {
    if (auto home = NonEmpty(env, "HOME")) return *home + path.substr(1);
  }
  return path;
}

// nullopt when the file does not exist; an error when it exists but cannot be used.
Result<std::optional<std::string>> ReadOptionalFile(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return std::optional<std::string>();
  if (!fs::is_regular_file(st)) {
    return Status::FailedPrecondition("AWS shared file is not a regular file: " + Printable(path),
                                      "aws_config_unreadable");
  }
  const uintmax_t size = fs::file_size(path, ec);
  if (ec || size > kMaxSharedFileBytes) {
    return Status::FailedPrecondition(
        "AWS shared file is unreadable or too large: " + Printable(path), "aws_config_unreadable");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::FailedPrecondition("cannot open AWS shared file: " + Printable(path),
                                      "aws_config_unreadable");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::optional<std::string>(ss.str());
}

struct SharedFile {
  std::string path;
  std::optional<IniDocument> doc;  // nullopt when the file does not exist
};

Result<SharedFile> LoadSharedFile(const std::optional<std::string>& explicit_path,
                                  std::string_view env_name, std::string_view default_name,
                                  const EnvironmentLookup& env) {
  SharedFile out;
  if (explicit_path) {
    out.path = *explicit_path;
  } else if (auto from_env = NonEmpty(env, env_name)) {
    out.path = *from_env;
  } else if (auto home = NonEmpty(env, "HOME")) {
    out.path = *home + "/.aws/" + std::string(default_name);
  } else {
    return out;  // nowhere to look
  }
  out.path = ExpandHome(out.path, env);
  GH_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadOptionalFile(out.path));
  if (!text) return out;
  auto doc = ParseIni(*text);
  if (!doc.ok()) return std::move(doc).status().Annotate(Printable(out.path));
  out.doc = std::move(doc).value();
  return out;
}

const IniDocument::Section* FindSection(const IniDocument& doc, std::string_view name) {
  auto it = doc.sections.find(name);
  return it == doc.sections.end() ? nullptr : &it->second;
}

// In ~/.aws/config every profile but "default" is written "[profile NAME]"; botocore also accepts
// "[profile default]".
const IniDocument::Section* FindConfigProfile(const IniDocument& doc, const std::string& profile) {
  if (const auto* s = FindSection(doc, "profile " + profile)) return s;
  if (profile == "default") return FindSection(doc, "default");
  return nullptr;
}

std::optional<std::string> Get(const IniDocument::Section& s, std::string_view key) {
  auto it = s.find(key);
  if (it == s.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

// Credentials from one profile section; nullopt when the section holds none (e.g. a role_arn or
// sso profile, which this chain does not resolve).
Result<std::optional<AwsCredentials>> CredentialsFromSection(const IniDocument::Section& s,
                                                             std::string_view where) {
  auto id = Get(s, "aws_access_key_id");
  auto secret = Get(s, "aws_secret_access_key");
  if (!id && !secret) return std::optional<AwsCredentials>();
  if (!id || !secret) {
    return Status::InvalidArgument(
        std::string(where) + " has only one of aws_access_key_id and aws_secret_access_key",
        "aws_credentials_partial");
  }
  AwsCredentials c{*id, Secret(*secret), std::nullopt};
  if (auto token = Get(s, "aws_session_token")) {
    c.session_token = Secret(*token);
  } else if (auto legacy = Get(s, "aws_security_token")) {
    c.session_token = Secret(*legacy);
  }
  return std::optional<AwsCredentials>(std::move(c));
}

struct ProfileChoice {
  std::string name;
  bool named = false;  // chosen explicitly or by AWS_PROFILE: its absence is an error
};

ProfileChoice ChooseProfile(const AwsExplicitConfig& config, const EnvironmentLookup& env) {
  if (config.profile && !config.profile->empty()) return {*config.profile, true};
  if (auto p = NonEmpty(env, "AWS_PROFILE")) return {*p, true};
  return {"default", false};
}

bool IsValidRegion(std::string_view region) {
  if (region.empty() || region.size() > 64) return false;
  for (char c : region) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return region.front() != '-' && region.back() != '-';
}

}  // namespace

EnvironmentLookup ProcessEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

EnvironmentLookup EnvironmentFromMap(std::map<std::string, std::string, std::less<>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string_view CredentialSourceName(CredentialSource source) {
  switch (source) {
    case CredentialSource::kExplicit:
      return "explicit";
    case CredentialSource::kEnvironment:
      return "environment";
    case CredentialSource::kSharedCredentialsFile:
      return "shared-credentials-file";
    case CredentialSource::kSharedConfigFile:
      return "shared-config-file";
  }
  return "unknown";
}

const std::string* IniDocument::Find(std::string_view section, std::string_view key) const {
  auto s = sections.find(section);
  if (s == sections.end()) return nullptr;
  auto k = s->second.find(key);
  return k == s->second.end() ? nullptr : &k->second;
}

Result<IniDocument> ParseIni(std::string_view text) {
  IniDocument doc;
  IniDocument::Section* section = nullptr;
  std::string* last_value = nullptr;  // for continuation lines
  size_t line_no = 0;
  for (std::string_view raw : Split(text, '\n')) {
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    const std::string_view line = Trim(raw);
    auto error = [&](std::string_view what) {
      return Status::InvalidArgument("line " + std::to_string(line_no) + ": " + std::string(what),
                                     "aws_config_invalid");
    };
    if (line.empty()) {
      last_value = nullptr;
      continue;
    }
    if (line.front() == '#' || line.front() == ';') continue;
    const bool indented = raw.front() == ' ' || raw.front() == '\t';
    if (indented && last_value != nullptr) {
      if (!last_value->empty()) last_value->push_back('\n');
      last_value->append(line);
      continue;
    }
    if (line.front() == '[') {
      if (line.back() != ']') return error("unterminated section header");
      std::string name(Trim(line.substr(1, line.size() - 2)));
      if (name.empty()) return error("empty section name");
      section = &doc.sections[name];
      last_value = nullptr;
      continue;
    }
    if (section == nullptr) return error("key outside of any [section]");
    const size_t delim = line.find_first_of("=:");
    if (delim == std::string_view::npos) return error("expected \"key = value\"");
    std::string key = ToLower(Trim(line.substr(0, delim)));
    if (key.empty()) return error("empty key");
    std::string& slot = (*section)[key];
    slot = std::string(Trim(line.substr(delim + 1)));
    last_value = &slot;
  }
  return doc;
}

Result<ResolvedCredentials> ResolveCredentials(const AwsExplicitConfig& config,
                                               const EnvironmentLookup& env) {
  // 1. Explicit configuration.
  const bool has_id = config.access_key_id && !config.access_key_id->empty();
  const bool has_secret = config.secret_access_key && !config.secret_access_key->empty();
  if (has_id || has_secret) {
    if (!has_id || !has_secret) {
      return Status::InvalidArgument(
          "explicit AWS configuration needs both an access key id and a secret access key",
          "aws_credentials_partial");
    }
    ResolvedCredentials r;
    r.credentials = {*config.access_key_id, *config.secret_access_key, config.session_token};
    if (r.credentials.session_token && r.credentials.session_token->empty()) {
      r.credentials.session_token.reset();
    }
    r.source = CredentialSource::kExplicit;
    return r;
  }

  // 2. Environment.
  auto env_id = NonEmpty(env, "AWS_ACCESS_KEY_ID");
  auto env_secret = NonEmpty(env, "AWS_SECRET_ACCESS_KEY");
  if (env_id || env_secret) {
    if (!env_id || !env_secret) {
      return Status::InvalidArgument(
          "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together",
          "aws_credentials_partial");
    }
    ResolvedCredentials r;
    r.credentials = {*env_id, Secret(*env_secret), std::nullopt};
    if (auto token = NonEmpty(env, "AWS_SESSION_TOKEN")) {
      r.credentials.session_token = Secret(*token);
    } else if (auto legacy = NonEmpty(env, "AWS_SECURITY_TOKEN")) {
      r.credentials.session_token = Secret(*legacy);
    }
    r.source = CredentialSource::kEnvironment;
    return r;
  }

  // 3. and 4. Shared files, for the chosen profile.
  const ProfileChoice profile = ChooseProfile(config, env);
  bool profile_seen = false;
  std::string tried = "explicit configuration, environment";

  GH_ASSIGN_OR_RETURN(SharedFile creds_file,
                      LoadSharedFile(config.shared_credentials_file, "AWS_SHARED_CREDENTIALS_FILE",
                                     "credentials", env));
  if (!creds_file.path.empty()) tried += ", " + Printable(creds_file.path);
  if (creds_file.doc) {
    if (const auto* s = FindSection(*creds_file.doc, profile.name)) {
      profile_seen = true;
      GH_ASSIGN_OR_RETURN(std::optional<AwsCredentials> c,
                          CredentialsFromSection(*s, "profile [" + Printable(profile.name) +
                                                         "] in " + Printable(creds_file.path)));
      if (c)
        return ResolvedCredentials{std::move(*c), CredentialSource::kSharedCredentialsFile,
                                   profile.name};
    }
  }

  GH_ASSIGN_OR_RETURN(SharedFile config_file,
                      LoadSharedFile(config.config_file, "AWS_CONFIG_FILE", "config", env));
  if (!config_file.path.empty()) tried += ", " + Printable(config_file.path);
  if (config_file.doc) {
    if (const auto* s = FindConfigProfile(*config_file.doc, profile.name)) {
      profile_seen = true;
      GH_ASSIGN_OR_RETURN(std::optional<AwsCredentials> c,
                          CredentialsFromSection(*s, "profile [" + Printable(profile.name) +
                                                         "] in " + Printable(config_file.path)));
      if (c) {
        return ResolvedCredentials{std::move(*c), CredentialSource::kSharedConfigFile,
                                   profile.name};
      }
    }
  }

  if (profile.named && !profile_seen) {
    return Status::FailedPrecondition("AWS profile \"" + Printable(profile.name) +
                                          "\" not found in the shared credentials or config file",
                                      "aws_profile_not_found");
  }
  return Status::FailedPrecondition(
      "no AWS credentials found (tried " + tried + "; profile \"" + Printable(profile.name) + "\")",
      "aws_credentials_missing");
}

Result<std::string> ResolveRegion(const AwsExplicitConfig& config, const EnvironmentLookup& env) {
  std::optional<std::string> region;
  if (config.region && !config.region->empty()) region = config.region;
  if (!region) region = NonEmpty(env, "AWS_REGION");
  if (!region) region = NonEmpty(env, "AWS_DEFAULT_REGION");
  if (!region) {
    const ProfileChoice profile = ChooseProfile(config, env);
    GH_ASSIGN_OR_RETURN(SharedFile config_file,
                        LoadSharedFile(config.config_file, "AWS_CONFIG_FILE", "config", env));
    if (config_file.doc) {
      if (const auto* s = FindConfigProfile(*config_file.doc, profile.name)) {
        region = Get(*s, "region");
      }
    }
  }
  if (!region) {
    return Status::FailedPrecondition(
        "no AWS region configured (set it explicitly, AWS_REGION, AWS_DEFAULT_REGION or the "
        "profile's region in the config file)",
        "aws_region_missing");
  }
  if (!IsValidRegion(*region)) {
    return Status::InvalidArgument("invalid AWS region \"" + Printable(*region, 64) + "\"",
                                   "aws_region_invalid");
  }
  return *region;
}

}  // namespace gh::aws
