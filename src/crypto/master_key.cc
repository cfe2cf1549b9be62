#include "crypto/master_key.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "crypto/hash.h"

namespace gh::crypto {

Result<Secret> LoadOrCreateMasterKey(const std::filesystem::path& key_file,
                                     const std::optional<Secret>& from_env, Random& random) {
  if (from_env) {
    auto raw = Base64Decode(std::string(Trim(from_env->reveal())));
    if (!raw || raw->size() != 32)
      return Status::InvalidArgument("GATEHOUSE_MASTER_KEY must be 32 bytes, base64-encoded",
                                     "invalid_config");
    return Secret(std::move(*raw));
  }
  std::error_code ec;
  auto read_existing = [&]() -> Result<Secret> {
    std::ifstream in(key_file);
    std::stringstream ss;
    ss << in.rdbuf();
    auto raw = Base64Decode(std::string(Trim(ss.str())));
    if (!raw || raw->size() != 32)
      return Status::Internal("master key file " + key_file.string() + " is corrupt");
    return Secret(std::move(*raw));
  };
  if (std::filesystem::exists(key_file, ec)) return read_existing();
  std::filesystem::create_directories(key_file.parent_path(), ec);
  std::string key = random.Bytes(32);
  std::string text = Base64Encode(key) + "\n";
  // Write a private temp file, then link it into place: link() fails if another process won the
  // race, and nobody ever reads a half-written key.
  std::string tmp = key_file.string() + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return Status::Internal("cannot create master key file " + key_file.string());
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    return Status::Internal("cannot write master key file " + key_file.string());
  }
  int linked = ::link(tmp.c_str(), key_file.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (linked != 0 && err == EEXIST) return read_existing();  // another process created it first
  if (linked != 0) return Status::Internal("cannot install master key file " + key_file.string());
  return Secret(std::move(key));
}

Secret DeriveKey(const Secret& master, std::string_view label) {
  return Secret(HmacSha256(master.reveal(), label));
}

}  // namespace gh::crypto
