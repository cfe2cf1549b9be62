// GroupWriter: small write units from many callers committed together. A writer thread takes every
// unit queued while the previous group was being written and runs them in one READ COMMITTED
// transaction, each inside its own SAVEPOINT: a unit that fails (a quota refusal, say) is rolled
// back alone and the others commit. The callers' threads never wait for the database's write lock
// (their completion is called on the writer thread), and a burst of units costs a few transactions
// instead of one each.
//
// Units of one group take their rows in no common order, so this is for SQLite (one write lock
// for the whole database); on a backend with row locks (PostgreSQL) such a group could deadlock
// against other transactions: run the units one by one there. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "storage/database.h"

namespace gh::storage {

class GroupWriter {
 public:
  using Unit = std::function<Status(Tx&)>;
  using Done = std::function<void(Status)>;

  // `db` is borrowed. At most `max_group` units per transaction.
  explicit GroupWriter(Database& db, size_t max_group = 256);
  ~GroupWriter();  // writes what is queued, then stops
  GroupWriter(const GroupWriter&) = delete;
  GroupWriter& operator=(const GroupWriter&) = delete;

  // Queues `unit`; `done` gets its outcome (the unit's own Status, or the group's when the
  // transaction as a whole failed), on the writer thread. A unit may run more than once if the
  // backend re-runs the transaction: it must assign its results inside, as for Database::Write.
  void Submit(Unit unit, Done done);

  // Groups committed so far (for tests and metrics).
  size_t groups() const;

 private:
  struct Pending {
    Unit unit;
    Done done;
  };
  void Run();

  Database& db_;
  const size_t max_group_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  size_t groups_ = 0;
  std::thread thread_;
};

}  // namespace gh::storage
