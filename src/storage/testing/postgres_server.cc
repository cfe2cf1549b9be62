#include "storage/testing/postgres_server.h"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

namespace gh::storage::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kDirPrefix = "gh-test-pg-";
constexpr const char* kPort = "5432";  // the socket lives in a private directory: no clash

// Why the private server could not start, and what to do about it.
Status Unavailable(std::string why) {
  return Status::Unavailable(
      fmt::format("PostgreSQL for tests is unavailable: {}\n"
                  "  Fix: install PostgreSQL (scripts/install-deps.sh installs the Debian "
                  "'postgresql' package), or set\n"
                  "  GH_TEST_POSTGRES_URL=postgresql://USER:PASSWORD@HOST:PORT/postgres for a "
                  "running server where USER\n"
                  "  may CREATE DATABASE.",
                  why));
}

std::string PercentEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string Tail(const fs::path& file, size_t max = 3000) {
  std::ifstream in(file, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (s.size() > max) s = "..." + s.substr(s.size() - max);
  return s;
}

// Runs `sql` (no parameters) on a fresh connection to `url`.
Status AdminExec(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    return Status::Unavailable(fmt::format("cannot connect to the test server: {}", msg));
  }
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  PGresult* res = PQexec(conn, sql.c_str());
  Status st = PQresultStatus(res) == PGRES_COMMAND_OK
                  ? Status::Ok()
                  : Status::Internal(fmt::format("{}: {}", sql, PQresultErrorMessage(res)));
  PQclear(res);
  PQfinish(conn);
  return st;
}

// A URL for database `name` on the server of `admin_url`, keeping host, port, user, password and
// every other parameter given.
Result<std::string> UrlForDatabase(const std::string& admin_url, const std::string& name) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(admin_url.c_str(), &err);
  if (!opts) {
    std::string msg = err ? err : "out of memory";
    PQfreemem(err);
    return Status::InvalidArgument(fmt::format("cannot parse the PostgreSQL URL: {}", msg));
  }
  std::string url = "postgresql:///" + PercentEncode(name);
  char sep = '?';
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (!o->val || !*o->val || std::string_view(o->keyword) == "dbname") continue;
    url += fmt::format("{}{}={}", sep, o->keyword, PercentEncode(o->val));
    sep = '&';
  }
  PQconninfoFree(opts);
  return url;
}

// ---- a server given by GH_TEST_POSTGRES_URL ----

class ExistingServer final : public PostgresServer {
 public:
  explicit ExistingServer(std::string url)
      : url_(std::move(url)), description_("server at GH_TEST_POSTGRES_URL") {}
  const std::string& admin_url() const override { return url_; }
  const std::string& description() const override { return description_; }

 private:
  std::string url_;
  std::string description_;
};

// ---- a private throwaway server ----

struct RunAs {
  bool switch_user = false;  // only when we are root: initdb and postgres refuse to run as root
  uid_t uid = 0;
  gid_t gid = 0;
};

// Forks and execs argv with stdin from /dev/null and stdout+stderr appended to `log`. With
// die_with_parent, the child gets SIGQUIT (PostgreSQL's immediate shutdown) when the forking
// thread exits, so a crashed test leaves no server running.
Result<pid_t> Spawn(const std::vector<std::string>& argv, const fs::path& log, const RunAs& as,
                    bool die_with_parent) {
  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || in < 0) {
    if (out >= 0) ::close(out);
    if (in >= 0) ::close(in);
    return Status::Internal(fmt::format("cannot open {}: {}", log.string(), std::strerror(errno)));
  }
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) ::_exit(126);
    if (as.switch_user &&
        (::setgroups(0, nullptr) != 0 || ::setgid(as.gid) != 0 || ::setuid(as.uid) != 0))
      ::_exit(126);
    // Set after setuid, which clears it; exec of a non-setuid binary keeps it.
    if (die_with_parent && (::prctl(PR_SET_PDEATHSIG, SIGQUIT) != 0 || ::getppid() != parent))
      ::_exit(126);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int fork_errno = errno;
  ::close(out);
  ::close(in);
  if (pid < 0) return Status::Internal(fmt::format("fork: {}", std::strerror(fork_errno)));
  return pid;
}

// Spawns from a thread that lives as long as the process: PR_SET_PDEATHSIG fires when the forking
// thread exits, and a test may call Shared() first from a short-lived thread.
Result<pid_t> SpawnServer(std::vector<std::string> argv, fs::path log, RunAs as) {
  std::promise<Result<pid_t>> promise;
  std::future<Result<pid_t>> result = promise.get_future();
  std::thread([argv = std::move(argv), log = std::move(log), as,
               promise = std::move(promise)]() mutable {
    promise.set_value(Spawn(argv, log, as, /*die_with_parent=*/true));
    for (;;) ::pause();
  }).detach();
  return result.get();
}

// Waits up to `timeout` for child `pid` to exit; its exit status, or nullopt if it still runs.
std::optional<int> WaitFor(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -1;  // not our child any more
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// The newest /usr/lib/postgresql/<version>/bin holding initdb, or GH_TEST_POSTGRES_BIN.
Result<fs::path> FindBinDir() {
  if (const char* env = std::getenv("GH_TEST_POSTGRES_BIN"); env && *env) {
    if (fs::exists(fs::path(env) / "initdb")) return fs::path(env);
    return Unavailable(fmt::format("GH_TEST_POSTGRES_BIN={} has no initdb", env));
  }
  std::optional<fs::path> best;
  int best_version = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    int version = std::atoi(entry.path().filename().c_str());
    if (version > best_version && fs::exists(entry.path() / "bin" / "initdb") &&
        fs::exists(entry.path() / "bin" / "postgres")) {
      best = entry.path() / "bin";
      best_version = version;
    }
  }
  if (!best) return Unavailable("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin");
  return *best;
}

// Where private servers live: memory (/dev/shm) when there is some, as a throwaway server needs
// no disk and CREATE DATABASE per test is several times faster there; else /tmp. Not $TMPDIR: the
// postgres user must reach it, and the socket path must stay under 108 bytes.
fs::path BaseDirectory() {
  if (const char* env = std::getenv("GH_TEST_POSTGRES_TMP"); env && *env) return env;
  struct stat st {};
  if (::stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) &&
      (st.st_mode & S_IWOTH))
    return "/dev/shm";
  return "/tmp";
}

// Deletes directories of private servers whose test process is gone (it crashed or was killed).
void RemoveStaleDirectories(const fs::path& base) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(base, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(kDirPrefix, 0) != 0) continue;
    pid_t pid = static_cast<pid_t>(std::atoi(name.c_str() + kDirPrefix.size()));
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) fs::remove_all(entry.path(), ec);
  }
}

class PrivateServer final : public PostgresServer {
 public:
  static Result<std::unique_ptr<PrivateServer>> Start() {
    const auto started = Clock::now();
    GH_ASSIGN_OR_RETURN(fs::path bin, FindBinDir());

    RunAs as;
    if (::geteuid() == 0) {
      struct passwd* pw = ::getpwnam("postgres");
      if (!pw)
        return Unavailable(
            "running as root, the server must run as the 'postgres' system user (initdb refuses "
            "root), and "
            "there is none");
      as = {true, pw->pw_uid, pw->pw_gid};
    }
    const fs::path base = BaseDirectory();
    RemoveStaleDirectories(base);

    static std::atomic<int> counter{0};
    fs::path dir = base / fmt::format("{}{}-{}", kDirPrefix, ::getpid(), counter++);
    if ((dir / ".s.PGSQL.").string().size() + std::strlen(kPort) >= 107)
      return Unavailable(fmt::format("{} is too long for a Unix socket path", dir.string()));
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (::mkdir(dir.c_str(), 0700) != 0)
      return Unavailable(fmt::format("cannot create {}: {}", dir.string(), std::strerror(errno)));
    auto server = std::unique_ptr<PrivateServer>(new PrivateServer(dir));
    if (as.switch_user && ::chown(dir.c_str(), as.uid, as.gid) != 0)
      return Unavailable(fmt::format("cannot give {} to the postgres user: {}", dir.string(),
                                     std::strerror(errno)));

    const fs::path data = dir / "data";
    const fs::path initdb_log = dir / "initdb.log";
    GH_ASSIGN_OR_RETURN(
        pid_t initdb, Spawn({(bin / "initdb").string(), "-D", data.string(), "-U", "postgres", "-A",
                             "trust", "-E", "UTF8", "--locale=C", "--no-sync"},
                            initdb_log, as, /*die_with_parent=*/false));
    std::optional<int> status = WaitFor(initdb, std::chrono::minutes(2));
    if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
      if (!status) {
        ::kill(initdb, SIGKILL);
        WaitFor(initdb, std::chrono::seconds(5));
      }
      return Unavailable(
          fmt::format("initdb failed ({}):\n{}", (bin / "initdb").string(), Tail(initdb_log)));
    }

    server->log_ = dir / "postgres.log";
    // Unix socket only, in the private directory. A throwaway server needs no durability, and
    // wal_level=minimal makes CREATE DATABASE (one per test) several times faster.
    std::vector<std::string> argv = {
        (bin / "postgres").string(), "-D", data.string(), "-k", dir.string(), "-p", kPort};
    for (const char* setting :
         {"listen_addresses=", "fsync=off", "synchronous_commit=off", "full_page_writes=off",
          "wal_level=minimal", "max_wal_senders=0", "shared_buffers=32MB", "max_connections=200"}) {
      argv.push_back("-c");
      argv.push_back(setting);
    }
    GH_ASSIGN_OR_RETURN(server->pid_, SpawnServer(std::move(argv), server->log_, as));
    server->admin_url_ = fmt::format("postgresql:///postgres?host={}&port={}&user=postgres",
                                     PercentEncode(dir.string()), kPort);

    // Ready when it accepts connections; fail early if it exited.
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (PQping(server->admin_url_.c_str()) != PQPING_OK) {
      if (std::optional<int> exited = WaitFor(server->pid_, std::chrono::milliseconds(0))) {
        server->pid_ = -1;
        return Unavailable(fmt::format("postgres exited at start:\n{}", Tail(server->log_)));
      }
      if (Clock::now() >= deadline)
        return Unavailable(fmt::format("postgres did not accept connections within 60 s:\n{}",
                                       Tail(server->log_)));
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    server->description_ = fmt::format(
        "private PostgreSQL {} server in {} (started in {} ms)",
        bin.parent_path().filename().string(), dir.string(),
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
    return server;
  }

  ~PrivateServer() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGINT);  // fast shutdown: disconnects clients, no checkpoint wait worth having
      if (!WaitFor(pid_, std::chrono::seconds(15))) {
        ::kill(pid_, SIGKILL);
        WaitFor(pid_, std::chrono::seconds(5));
      }
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  const std::string& admin_url() const override { return admin_url_; }
  const std::string& description() const override { return description_; }

 private:
  explicit PrivateServer(fs::path dir) : dir_(std::move(dir)) {}

  fs::path dir_;
  fs::path log_;
  pid_t pid_ = -1;
  std::string admin_url_;
  std::string description_;
};

Result<std::unique_ptr<PostgresServer>> StartShared() {
  if (const char* url = std::getenv("GH_TEST_POSTGRES_URL"); url && *url) {
    if (PQping(url) != PQPING_OK)
      return Status::Unavailable(
          "PostgreSQL for tests is unavailable: the server at GH_TEST_POSTGRES_URL does not accept "
          "connections.\n"
          "  Fix: start it, or unset GH_TEST_POSTGRES_URL to have the tests start a private "
          "server.");
    return std::unique_ptr<PostgresServer>(new ExistingServer(url));
  }
  GH_ASSIGN_OR_RETURN(auto server, PrivateServer::Start());
  return std::unique_ptr<PostgresServer>(std::move(server));
}

bool IsOurDatabaseName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

}  // namespace

Result<PostgresServer*> PostgresServer::Shared() {
  static std::mutex mu;
  static std::unique_ptr<PostgresServer> server;  // stopped by its destructor at exit
  static std::optional<Status> error;
  std::lock_guard lock(mu);
  if (server) return server.get();
  if (error) return *error;
  auto started = StartShared();
  if (!started.ok()) {
    error = started.status();
    std::fprintf(stderr, "[postgres] %s\n", error->message().c_str());
    return *error;
  }
  server = std::move(started).value();
  std::fprintf(stderr, "[postgres] tests use a %s\n", server->description().c_str());
  return server.get();
}

Result<std::string> PostgresServer::CreateDatabase(std::string* name) {
  static std::atomic<int> counter{0};
  static const uint32_t salt = std::random_device()();  // apart from other runs on a shared server
  std::string db = fmt::format("gh_test_{}_{}_{:08x}", ::getpid(), counter++, salt);
  GH_RETURN_IF_ERROR(
      AdminExec(admin_url(), fmt::format("CREATE DATABASE \"{}\" TEMPLATE template0", db)));
  if (name) *name = db;
  return UrlForDatabase(admin_url(), db);
}

Status PostgresServer::DropDatabase(std::string_view name) {
  if (!IsOurDatabaseName(name))
    return Status::InvalidArgument(fmt::format("not a test database: {}", name));
  return AdminExec(admin_url(), fmt::format("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", name));
}

Result<PostgresTestDatabase> PostgresTestDatabase::Create() {
  GH_ASSIGN_OR_RETURN(PostgresServer * server, PostgresServer::Shared());
  std::string name;
  GH_ASSIGN_OR_RETURN(std::string url, server->CreateDatabase(&name));
  return PostgresTestDatabase(std::move(url), std::move(name));
}

PostgresTestDatabase::PostgresTestDatabase(PostgresTestDatabase&& other) noexcept
    : url_(std::move(other.url_)), name_(std::exchange(other.name_, {})) {}

PostgresTestDatabase& PostgresTestDatabase::operator=(PostgresTestDatabase&& other) noexcept {
  if (this != &other) {
    PostgresTestDatabase old(std::move(*this));
    url_ = std::move(other.url_);
    name_ = std::exchange(other.name_, {});
  }
  return *this;
}

PostgresTestDatabase::~PostgresTestDatabase() {
  if (name_.empty()) return;
  auto server = PostgresServer::Shared();
  if (!server.ok()) return;
  Status st = (*server)->DropDatabase(name_);
  if (!st.ok()) std::fprintf(stderr, "[postgres] %s\n", st.message().c_str());
}

}  // namespace gh::storage::testing
