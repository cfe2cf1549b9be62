// SQLite backend: WAL mode, a small pool of connections, a prepared-statement cache per
// connection, BEGIN IMMEDIATE for writes (so write transactions serialise across threads and
// processes, waiting up to busy_timeout), synchronous=NORMAL (durable at every WAL checkpoint and
// safe against process crashes; group commit comes from SQLite's WAL); a WriteDurable fsyncs the
// WAL after its commit, outside the write lock (the metering Recorder's group commits).
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "storage/database.h"

namespace gh::storage {
namespace {

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string msg = fmt::format("sqlite {}: {} ({})", what, db ? sqlite3_errmsg(db) : "", rc);
  int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    return Status::Unavailable(msg, "storage_busy");
  if (primary == SQLITE_CONSTRAINT) return Status::Conflict(msg, "constraint_violation");
  return Status::Internal(msg);
}

// Copies what the WAL holds beyond the database back into it, as far as readers allow (a PASSIVE
// checkpoint: it waits for no lock). Outside a transaction only. False when another connection's
// checkpoint is running.
bool PassiveCheckpoint(sqlite3* db) {
  return sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr) ==
         SQLITE_OK;
}

class SqliteConn final : public Tx {
 public:
  explicit SqliteConn(sqlite3* db) : db_(db) {}
  ~SqliteConn() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  // A cached statement was reset after its last use (Exec and Query reset it on every path), and
  // Bind sets every parameter again or clears them first.
  Result<sqlite3_stmt*> Prepare(std::string_view sql) {
    auto it = cache_.find(sql);  // heterogeneous lookup: no copy of the statement's text
    if (it != cache_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, "prepare");
    cache_.emplace(std::string(sql), stmt);
    return stmt;
  }

  Status Bind(sqlite3_stmt* stmt, const std::vector<Value>& params) {
    // A parameter left out is NULL, not the previous use's value.
    if (static_cast<int>(params.size()) < sqlite3_bind_parameter_count(stmt))
      sqlite3_clear_bindings(stmt);
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      int rc = std::visit(
          [&](const auto& v) -> int {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>)
              return sqlite3_bind_null(stmt, idx);
            else if constexpr (std::is_same_v<T, int64_t>)
              return sqlite3_bind_int64(stmt, idx, v);
            else if constexpr (std::is_same_v<T, double>)
              return sqlite3_bind_double(stmt, idx, v);
            else
              return sqlite3_bind_text(stmt, idx, v.data(), static_cast<int>(v.size()),
                                       SQLITE_TRANSIENT);
          },
          params[i]);
      if (rc != SQLITE_OK) return SqliteError(db_, rc, "bind");
    }
    return Status::Ok();
  }

  Result<int64_t> Exec(std::string_view sql, const std::vector<Value>& params) override {
    GH_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    GH_RETURN_IF_ERROR(Bind(stmt, params));
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "exec");
    return int64_t(sqlite3_changes(db_));
  }

  Result<std::vector<Row>> Query(std::string_view sql, const std::vector<Value>& params) override {
    GH_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    GH_RETURN_IF_ERROR(Bind(stmt, params));
    std::vector<Row> rows;
    int rc;
    const int cols = sqlite3_column_count(stmt);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<Value> values;
      values.reserve(static_cast<size_t>(cols));
      for (int c = 0; c < cols; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_INTEGER:
            values.emplace_back(int64_t(sqlite3_column_int64(stmt, c)));
            break;
          case SQLITE_FLOAT:
            values.emplace_back(sqlite3_column_double(stmt, c));
            break;
          case SQLITE_NULL:
            values.emplace_back(std::monostate{});
            break;
          default: {
            const auto* p = reinterpret_cast<const char*>(sqlite3_column_blob(stmt, c));
            int n = sqlite3_column_bytes(stmt, c);
            values.emplace_back(std::string(p ? p : "", static_cast<size_t>(n)));
          }
        }
      }
      rows.emplace_back(std::move(values));
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "query");
    return rows;
  }

  bool Checkpoint() { return PassiveCheckpoint(db_); }

  Status Simple(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    sqlite3_free(err);
    return rc == SQLITE_OK ? Status::Ok() : SqliteError(db_, rc, sql);
  }

 private:
  sqlite3* db_;
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view sql) const noexcept {
      return std::hash<std::string_view>{}(sql);
    }
  };
  std::unordered_map<std::string, sqlite3_stmt*, SqlHash, std::equal_to<>> cache_;
};

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(SqliteOptions o) : opt_(std::move(o)) {}
  ~SqliteDatabase() override {
    {
      std::lock_guard lock(ckpt_mu_);
      stopping_ = true;
    }
    ckpt_cv_.notify_all();
    if (checkpointer_.joinable()) checkpointer_.join();
    if (wal_fd_ >= 0) ::close(wal_fd_);
  }

  Status Init() {
    for (int i = 0; i < opt_.pool_size; ++i) {
      sqlite3* db = nullptr;
      int rc = sqlite3_open_v2(opt_.path.c_str(), &db,
                               SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                               nullptr);
      if (rc != SQLITE_OK) {
        Status s = SqliteError(db, rc, "open " + opt_.path);
        sqlite3_close_v2(db);
        return s;
      }
      sqlite3_busy_handler(db, &SqliteDatabase::OnBusy, &opt_);
      auto conn = std::make_unique<SqliteConn>(db);
      GH_RETURN_IF_ERROR(conn->Simple("PRAGMA journal_mode=WAL"));
      GH_RETURN_IF_ERROR(conn->Simple("PRAGMA synchronous=NORMAL"));
      GH_RETURN_IF_ERROR(conn->Simple("PRAGMA foreign_keys=ON"));
      // Statement journals (a multi-row INSERT ... ON CONFLICT in a transaction keeps one) and
      // temporary tables in memory: on disk each was a file created, unlinked and closed again,
      // once per metering group.
      GH_RETURN_IF_ERROR(conn->Simple("PRAGMA temp_store=MEMORY"));
      // Checkpoints run on a background thread instead of inside whichever commit crosses the
      // threshold, keeping their fsync off the request path (this replaces auto-checkpointing).
      sqlite3_wal_hook(db, &SqliteDatabase::OnWalCommit, this);
      free_.push_back(conn.get());
      all_.push_back(std::move(conn));
    }
    checkpointer_ = std::thread([this] { CheckpointLoop(); });
    return Status::Ok();
  }

  Status Read(const std::function<Status(Tx&)>& fn) override { return Run(fn, "BEGIN", false); }
  Status Write(const std::function<Status(Tx&)>& fn) override {
    return Run(fn, "BEGIN IMMEDIATE", true);
  }
  Status WriteDurable(const std::function<Status(Tx&)>& fn) override {
    return Run(fn, "BEGIN IMMEDIATE", true, /*durable=*/true);
  }
  Dialect dialect() const override { return Dialect::kSqlite; }
  Status Ping() override {
    return Read([](Tx& tx) { return tx.Query("SELECT 1").status(); });
  }

 private:
  // Waiting for another process's write lock. SQLite's own busy_timeout sleeps 1 ms, 2 ms, ... up
  // to 100 ms between retries, so a process whose writers queue on write_mu_ and hand the lock
  // straight on would starve the other process (one replica admitting every request of a shared
  // limit). Short, even retries catch the gaps between the other process's transactions.
  static int OnBusy(void* options, int count) {
    const auto* opt = static_cast<const SqliteOptions*>(options);
    constexpr int kShortRetries = 20;  // 100 us each, then 1 ms each
    const int64_t waited_us =
        count < kShortRetries ? count * 100 : kShortRetries * 100 + (count - kShortRetries) * 1000;
    if (waited_us >= int64_t{opt->busy_timeout_ms} * 1000) return 0;
    std::this_thread::sleep_for(std::chrono::microseconds(count < kShortRetries ? 100 : 1000));
    return 1;
  }
  // Under a steady stream of large commits (bench/metering's ingestion) a PASSIVE checkpoint may
  // never catch up with the writer, and the WAL is only rewound once one has. Past this size
  // (~256 MiB of 4 KiB pages) the checkpoint is a RESTART: it waits for the writer in flight,
  // copies everything back and lets the next writer rewind the WAL.
  static constexpr int kRestartPages = 65'536;

  static int OnWalCommit(void* self, sqlite3*, const char*, int pages) {
    auto* db = static_cast<SqliteDatabase*>(self);
    if (pages >= db->opt_.checkpoint_pages) {
      {
        std::lock_guard lock(db->ckpt_mu_);
        db->ckpt_wanted_ = true;
        if (pages >= kRestartPages) db->ckpt_restart_ = true;
      }
      db->ckpt_cv_.notify_one();
    }
    return SQLITE_OK;
  }

  void CheckpointLoop() {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(opt_.path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      sqlite3_close_v2(db);
      return;
    }
    sqlite3_busy_timeout(db, opt_.busy_timeout_ms);
    // A connection reads the database header on its first statement; until then it does not know
    // the database is in WAL mode, and sqlite3_wal_checkpoint_v2 on it does nothing at all (the
    // WAL grew to 16 GB for a million usage events in bench/metering before this statement).
    sqlite3_exec(db, "PRAGMA journal_mode", nullptr, nullptr, nullptr);
    std::unique_lock lock(ckpt_mu_);
    while (!stopping_) {
      // Also every few seconds, so a quiet server's WAL does not linger.
      // Not while the tail of the last one waits for a writer to copy it: the writer's checkpoint
      // would find this one running and give up.
      ckpt_cv_.wait_for(lock, std::chrono::seconds(5),
                        [&] { return (ckpt_wanted_ && !catch_up_) || stopping_; });
      ckpt_wanted_ = false;
      const int mode = ckpt_restart_ ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE;
      ckpt_restart_ = false;
      lock.unlock();
      sqlite3_wal_checkpoint_v2(db, nullptr, mode, nullptr, nullptr);
      // The WAL is rewound (written again from its start) only by a writer that begins once every
      // frame in it is back in the database. Under a steady load, commits land while this copies
      // and leave a tail behind: the WAL would then never rewind, grow by every commit (until
      // kRestartPages) and wake a checkpoint, with its two fsyncs, after each one, and every
      // durable commit would append to the file. So the tail is copied with this process's
      // writers held off (they wait for the tail's copy and its two fsyncs, once per
      // checkpoint): here, in a gap between two writes (a durable commit releases the lock for
      // its fsync), so that the copy runs on this thread; or, when no gap comes within a few
      // milliseconds, by the next writer before it begins (see Run). Nothing to copy costs
      // nothing.
      {
        std::unique_lock<std::timed_mutex> writing(write_mu_, std::defer_lock);
        catch_up_ = !(opt_.checkpointer_copies_tail &&
                      writing.try_lock_for(std::chrono::milliseconds(5)) && PassiveCheckpoint(db));
      }
      lock.lock();
    }
    lock.unlock();
    PassiveCheckpoint(db);
    sqlite3_close_v2(db);
  }

  Status Run(const std::function<Status(Tx&)>& fn, const char* begin, bool write,
             bool durable = false) {
    // Writers of this process queue on a mutex: contending for SQLite's write lock would put them
    // in its busy handler, which sleeps 1-100 ms per retry on the calling (I/O) thread, stalling
    // every request and stream on it. Other processes still wait through busy_timeout, and so does
    // a writer that waited that long here (it then meets SQLite's busy handling as before).
    std::unique_lock<std::timed_mutex> writing(write_mu_, std::defer_lock);
    if (write) (void)writing.try_lock_for(std::chrono::milliseconds(opt_.busy_timeout_ms));
    SqliteConn* c = Acquire();
    if (writing.owns_lock() && catch_up_ && c->Checkpoint()) catch_up_ = false;
    Status st = c->Simple(begin);
    if (st.ok()) {
      st = fn(*c);
      if (st.ok()) {
        st = c->Simple("COMMIT");
        if (!st.ok()) (void)c->Simple("ROLLBACK");
      } else {
        (void)c->Simple("ROLLBACK");
      }
    }
    Release(c);
    if (writing.owns_lock()) writing.unlock();
    if (durable && st.ok()) st = SyncWal();
    return st;
  }

  // fdatasync of the WAL file: every frame committed so far is then on stable storage (a frame
  // already checkpointed into the database file and rewound out of the WAL was synced there by the
  // checkpoint first). The file exists from the first commit in WAL mode until the last
  // connection closes, so one descriptor serves for the database's lifetime.
  Status SyncWal() {
    {
      std::lock_guard lock(wal_fd_mu_);
      if (wal_fd_ < 0) wal_fd_ = ::open((opt_.path + "-wal").c_str(), O_RDONLY | O_CLOEXEC);
      if (wal_fd_ < 0)
        return Status::Unavailable(fmt::format("sqlite: cannot open the WAL of {} to sync it: {}",
                                               opt_.path, std::strerror(errno)));
    }
    if (::fdatasync(wal_fd_) != 0)
      return Status::Unavailable(
          fmt::format("sqlite: fdatasync of the WAL failed: {}", std::strerror(errno)));
    if (opt_.after_wal_sync) opt_.after_wal_sync();
    return Status::Ok();
  }

  SqliteConn* Acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !free_.empty(); });
    SqliteConn* c = free_.back();
    free_.pop_back();
    return c;
  }

  void Release(SqliteConn* c) {
    {
      std::lock_guard lock(mu_);
      free_.push_back(c);
    }
    cv_.notify_one();
  }

  SqliteOptions opt_;
  std::mutex mu_;
  std::timed_mutex write_mu_;  // held for a whole write transaction, see Run
  std::condition_variable cv_;
  std::vector<SqliteConn*> free_;
  std::vector<std::unique_ptr<SqliteConn>> all_;
  std::mutex wal_fd_mu_;
  int wal_fd_ = -1;  // the WAL, for WriteDurable's fdatasync (see SyncWal)
  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  bool ckpt_wanted_ = false;
  bool ckpt_restart_ = false;          // the WAL is past kRestartPages
  std::atomic<bool> catch_up_{false};  // the last checkpoint left a tail for the next writer
  bool stopping_ = false;
  std::thread checkpointer_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(const SqliteOptions& options) {
  auto db = std::make_unique<SqliteDatabase>(options);
  GH_RETURN_IF_ERROR(db->Init());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace gh::storage
