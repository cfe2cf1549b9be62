// PostgreSQL backend (libpq): a pool of connections opened on demand, `?` rewritten to `$n`,
// parameters and results in text format, converted to the Value types the SQLite backend returns.
// Writes run at SERIALIZABLE (WriteReadCommitted at READ COMMITTED) and are re-run on
// serialization failure or deadlock; reads run at REPEATABLE READ, READ ONLY (one snapshot). A
// pooled connection the server dropped is replaced when the next unit of work finds it broken at
// BEGIN. Every connection, the change listener's too (postgres_change_listener.h), is opened with
// the same PgConnectParams.
#include <libpq-fe.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

#include "storage/database.h"
#include "storage/postgres_change_listener.h"
#include "storage/postgres_connect_params.h"
#include "storage/postgres_placeholders.h"

namespace gh::storage {
namespace {

// Type OIDs from PostgreSQL's pg_type.h; they are fixed by the catalog and the server headers are
// not installed with libpq.
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

// Key of the advisory lock that serialises Migrate across processes ("gatehous" in ASCII).
constexpr int64_t kMigrationLockKey = 0x6761746568'6f7573;

using PgResult = std::unique_ptr<PGresult, decltype(&PQclear)>;

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Maps a failed result (or a failure without one) to a Status. The message carries the primary
// error text only: DETAIL lines can quote row values (an email address in a unique violation).
Status PgError(PGconn* conn, const PGresult* res, std::string_view what) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string sqlstate = state ? state : "";
  std::string msg =
      fmt::format("postgres {}: {}{}", what, primary ? primary : Trimmed(PQerrorMessage(conn)),
                  sqlstate.empty() ? "" : fmt::format(" (SQLSTATE {})", sqlstate));
  if (PQstatus(conn) == CONNECTION_BAD || StartsWith(sqlstate, "08") || sqlstate == "57P01" ||
      sqlstate == "57P02" || sqlstate == "57P03" || sqlstate == "53300")
    return Status::Unavailable(msg, "storage_unavailable");
  if (StartsWith(sqlstate, "23")) return Status::Conflict(msg, "constraint_violation");
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" || sqlstate == "57014")
    return Status::Unavailable(msg, "storage_busy");
  return Status::Internal(msg);
}

bool IsRetryable(const PGresult* res) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  return state && (std::string_view(state) == "40001" || std::string_view(state) == "40P01");
}

Value ToValue(Oid type, const char* text, int length) {
  std::string_view s(text, static_cast<size_t>(length));
  switch (type) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid: {
      int64_t v = 0;
      std::from_chars(s.data(), s.data() + s.size(), v);
      return v;
    }
    case kNumericOid: {
      // SUM(bigint) is NUMERIC in PostgreSQL and an integer in SQLite: integral values that fit
      // come back as int64 so counts and money (micro-units) keep every digit.
      int64_t v = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && end == s.data() + s.size()) return v;
      return std::strtod(text, nullptr);
    }
    case kFloat4Oid:
    case kFloat8Oid:
      return std::strtod(text, nullptr);  // also reads NaN, Infinity, -Infinity
    case kBoolOid:
      return int64_t(s == "t");  // SQLite has no boolean: comparisons are 0/1 there
    case kByteaOid: {
      size_t n = 0;
      unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &n);
      if (!bytes) return std::string(s);
      std::string out(reinterpret_cast<const char*>(bytes), n);
      PQfreemem(bytes);
      return out;
    }
    default:
      return std::string(s);
  }
}

class PgConn final : public Tx {
 public:
  explicit PgConn(PGconn* conn) : conn_(conn) {}
  ~PgConn() override { PQfinish(conn_); }
  PGconn* raw() const { return conn_; }
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  Result<int64_t> Exec(std::string_view sql, const std::vector<Value>& params) override {
    GH_ASSIGN_OR_RETURN(PgResult res, Run(sql, params));
    const char* n = PQcmdTuples(res.get());  // "" for commands that report no count
    int64_t changed = 0;
    if (n && *n) std::from_chars(n, n + std::char_traits<char>::length(n), changed);
    return changed;
  }

  Result<std::vector<Row>> Query(std::string_view sql, const std::vector<Value>& params) override {
    GH_ASSIGN_OR_RETURN(PgResult res, Run(sql, params));
    const int rows = PQntuples(res.get());
    const int cols = PQnfields(res.get());
    std::vector<Oid> types(static_cast<size_t>(cols));
    for (int c = 0; c < cols; ++c) types[static_cast<size_t>(c)] = PQftype(res.get(), c);
    std::vector<Row> out;
    out.reserve(static_cast<size_t>(rows));
    for (int r = 0; r < rows; ++r) {
      std::vector<Value> values;
      values.reserve(static_cast<size_t>(cols));
      for (int c = 0; c < cols; ++c) {
        if (PQgetisnull(res.get(), r, c)) {
          values.emplace_back(std::monostate{});
        } else {
          values.push_back(ToValue(types[static_cast<size_t>(c)], PQgetvalue(res.get(), r, c),
                                   PQgetlength(res.get(), r, c)));
        }
      }
      out.emplace_back(std::move(values));
    }
    return out;
  }

  // ---- used by PostgresDatabase around a unit of work ----

  void StartUnit() {
    aborted_.reset();
    retryable_ = false;
  }
  // The first error of this transaction, after which PostgreSQL refuses every statement.
  const std::optional<Status>& aborted() const { return aborted_; }
  // A statement of this transaction failed with a serialization failure or a deadlock.
  bool retryable() const { return retryable_; }
  bool broken() const { return PQstatus(conn_) == CONNECTION_BAD; }
  bool idle() const { return PQtransactionStatus(conn_) == PQTRANS_IDLE; }

  // Runs a transaction-control statement (BEGIN, COMMIT, ROLLBACK).
  Status Control(const char* sql) {
    PgResult res(PQexec(conn_, sql), &PQclear);
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
      retryable_ = retryable_ || IsRetryable(res.get());
      return PgError(conn_, res.get(), sql);
    }
    // COMMIT of a transaction that had failed answers "ROLLBACK"; the unit tracks that already.
    if (std::string_view(sql) == "COMMIT" && std::string_view(PQcmdStatus(res.get())) == "ROLLBACK")
      return Status::Internal("postgres COMMIT: the transaction was rolled back");
    return Status::Ok();
  }

 private:
  Result<PgResult> Run(std::string_view sql, const std::vector<Value>& params) {
    if (aborted_) return *aborted_;
    int expected = 0;
    const std::string query = ToPostgresPlaceholders(sql, &expected);
    if (static_cast<size_t>(expected) != params.size())
      return Status::Internal(fmt::format(
          "postgres: statement has {} placeholders but {} parameters", expected, params.size()));
    // Text format for every parameter. int64 and double are typed so that a bare `?` (LIMIT ?,
    // used + ?) is a number; strings are left untyped, like a quoted literal, so the server infers
    // their type from the column or operator they meet.
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<Oid> types(params.size(), 0);
    for (size_t i = 0; i < params.size(); ++i) {
      if (auto* v = std::get_if<int64_t>(&params[i])) {
        texts[i] = std::to_string(*v);
        values[i] = texts[i].c_str();
        types[i] = kInt8Oid;
      } else if (auto* d = std::get_if<double>(&params[i])) {
        texts[i] = fmt::format("{}", *d);  // shortest form that reads back exactly; "nan", "inf"
        if (texts[i] == "inf") texts[i] = "Infinity";
        if (texts[i] == "-inf") texts[i] = "-Infinity";
        if (texts[i] == "nan") texts[i] = "NaN";
        values[i] = texts[i].c_str();
        types[i] = kFloat8Oid;
      } else if (auto* s = std::get_if<std::string>(&params[i])) {
        if (s->find('\0') != std::string::npos)
          return Status::InvalidArgument("postgres: text parameter contains a NUL byte");
        values[i] = s->c_str();
      }
    }
    PgResult res(PQexecParams(conn_, query.c_str(), static_cast<int>(params.size()), types.data(),
                              values.data(), nullptr, nullptr, 0),
                 &PQclear);
    ExecStatusType st = PQresultStatus(res.get());
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) return res;
    retryable_ = IsRetryable(res.get());
    Status error = PgError(conn_, res.get(), "statement");
    aborted_ = error;
    return error;
  }

  PGconn* conn_;
  std::optional<Status> aborted_;
  bool retryable_ = false;
};

class PostgresDatabase final : public Database {
 public:
  explicit PostgresDatabase(PostgresOptions o)
      : opt_(std::move(o)), params_(std::make_shared<const PgConnectParams>(opt_)) {
    if (opt_.pool_size < 1) opt_.pool_size = 1;
    if (opt_.max_attempts < 1) opt_.max_attempts = 1;
  }

  ~PostgresDatabase() override = default;

  Status Init() {
    GH_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> c, Connect());
    std::lock_guard lock(mu_);
    free_.push_back(std::move(c));
    open_ = 1;
    return Status::Ok();
  }

  Status Read(const std::function<Status(Tx&)>& fn) override {
    return Run(fn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
  }
  Status Write(const std::function<Status(Tx&)>& fn) override {
    return Run(fn, "BEGIN ISOLATION LEVEL SERIALIZABLE, READ WRITE");
  }
  Status WriteReadCommitted(const std::function<Status(Tx&)>& fn) override {
    return Run(fn, "BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE");
  }
  // Durable whatever the server's or the role's synchronous_commit says.
  Status WriteDurable(const std::function<Status(Tx&)>& fn) override {
    return WriteReadCommitted([&](Tx& tx) -> Status {
      GH_RETURN_IF_ERROR(tx.Exec("SET LOCAL synchronous_commit = on").status());
      return fn(tx);
    });
  }
  Dialect dialect() const override { return Dialect::kPostgres; }
  Status Ping() override {
    return Read([](Tx& tx) { return tx.Query("SELECT 1").status(); });
  }
  Status LockForMigration(Tx& tx) override {
    return tx.Exec("SELECT pg_advisory_xact_lock(?)", {kMigrationLockKey}).status();
  }
  Status Announce(const Announcement& change) override {
    return WriteReadCommitted([&](Tx& tx) {
      return tx.Query("SELECT pg_notify(?, ?)", {kChangesChannel, change.topic + "\t" + change.key})
          .status();
    });
  }
  std::unique_ptr<ChangeListener> Listen(std::function<void(const Announcement&)> heard) override {
    return std::make_unique<PgChangeListener>(
        params_, std::move(heard),
        PgChangeListenerOptions{.probe_timeout =
                                    std::chrono::milliseconds(opt_.change_probe_timeout_ms)});
  }

 private:
  Status Run(const std::function<Status(Tx&)>& fn, const char* begin) {
    int attempts = 0;
    int reconnects = 0;
    while (true) {
      GH_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> c, Acquire());
      c->StartUnit();
      Status st = c->Control(begin);
      if (!st.ok()) {
        // Nothing ran yet: a pooled connection the server closed (restart, idle timeout,
        // failover) is replaced and the unit started again, at most once per pooled connection.
        const bool stale = c->broken();
        Release(std::move(c));
        if (stale && ++reconnects <= opt_.pool_size) continue;
        return st;
      }
      ++attempts;
      st = fn(*c);
      // A statement failed but the callback went on: PostgreSQL has aborted the transaction.
      if (st.ok() && c->aborted()) st = *c->aborted();
      if (st.ok()) {
        st = c->Control("COMMIT");  // a connection lost here leaves the outcome unknown: no retry
      } else if (!c->broken()) {
        (void)c->Control("ROLLBACK");
      }
      const bool retry = !st.ok() && c->retryable() && !c->broken();
      Release(std::move(c));
      if (!retry || attempts >= opt_.max_attempts) return st;
      Backoff(attempts);
    }
  }

  static void Backoff(int attempt) {
    // Exponential, capped, with jitter so that units which conflicted do not meet again at once.
    thread_local std::minstd_rand rng(static_cast<unsigned>(
        std::hash<std::thread::id>()(std::this_thread::get_id()) ^
        static_cast<size_t>(std::chrono::steady_clock::now().time_since_epoch().count())));
    const int cap_us = std::min(50'000, 500 << std::min(attempt, 7));
    std::uniform_int_distribution<int> jitter(cap_us / 2, cap_us);
    std::this_thread::sleep_for(std::chrono::microseconds(jitter(rng)));
  }

  Result<std::unique_ptr<PgConn>> Connect() {
    PGconn* conn = PQconnectdbParams(params_->keys(), params_->values(), /*expand_dbname=*/1);
    if (!conn) return Status::Unavailable("postgres connect: out of memory", "storage_unavailable");
    if (PQstatus(conn) != CONNECTION_OK) {
      // The message names host and user, never the password.
      Status st =
          Status::Unavailable(fmt::format("postgres connect: {}", Trimmed(PQerrorMessage(conn))),
                              "storage_unavailable");
      PQfinish(conn);
      return st;
    }
    // NOTICEs ("relation already exists, skipping") would go to stderr.
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    return std::make_unique<PgConn>(conn);
  }

  Result<std::unique_ptr<PgConn>> Acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !free_.empty() || open_ < opt_.pool_size; });
    if (!free_.empty()) {
      std::unique_ptr<PgConn> c = std::move(free_.back());
      free_.pop_back();
      return c;
    }
    ++open_;  // this slot is ours while we connect without holding the lock
    lock.unlock();
    auto c = Connect();
    if (!c.ok()) {
      lock.lock();
      --open_;
      lock.unlock();
      cv_.notify_one();
    }
    return c;
  }

  void Release(std::unique_ptr<PgConn> c) {
    std::unique_ptr<PgConn> drop;
    {
      std::lock_guard lock(mu_);
      if (c->broken() || !c->idle()) {
        drop = std::move(c);
        --open_;
      } else {
        free_.push_back(std::move(c));
      }
    }
    cv_.notify_one();
  }

  PostgresOptions opt_;
  const std::shared_ptr<const PgConnectParams> params_;  // shared with the change listeners
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConn>> free_;  // guarded by mu_
  int open_ = 0;                               // connections open or being opened; guarded by mu_
};

}  // namespace

Result<std::unique_ptr<Database>> OpenPostgres(const PostgresOptions& options) {
  auto db = std::make_unique<PostgresDatabase>(options);
  GH_RETURN_IF_ERROR(db->Init());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace gh::storage
