// ForwardingDatabase: a Database for tests that passes every call to another Database. A test
// derives from it and overrides only the calls it observes or perturbs (counting them, holding
// them at a gate, losing an acknowledgement). StatementCountingTx counts a unit's statements.
#pragma once

#include <atomic>
#include <string>

#include "storage/database.h"

namespace gh::storage {

class ForwardingDatabase : public Database {
 public:
  explicit ForwardingDatabase(Database& inner) : inner_(inner) {}

  Status Read(const std::function<Status(Tx&)>& fn) override { return inner_.Read(fn); }
  Status Write(const std::function<Status(Tx&)>& fn) override { return inner_.Write(fn); }
  Status WriteReadCommitted(const std::function<Status(Tx&)>& fn) override {
    return inner_.WriteReadCommitted(fn);
  }
  Status WriteDurable(const std::function<Status(Tx&)>& fn) override {
    return inner_.WriteDurable(fn);
  }
  Dialect dialect() const override { return inner_.dialect(); }
  Status Ping() override { return inner_.Ping(); }
  Status LockForMigration(Tx& tx) override { return inner_.LockForMigration(tx); }
  Status Announce(const Announcement& change) override { return inner_.Announce(change); }
  std::unique_ptr<ChangeListener> Listen(std::function<void(const Announcement&)> heard) override {
    return inner_.Listen(std::move(heard));
  }

 protected:
  Database& inner_;
};

// Commits the first durable unit of work, then answers as if the connection had dropped before
// the acknowledgement (the caller cannot tell whether it committed); later ones pass.
class LostFirstAcknowledgement final : public ForwardingDatabase {
 public:
  explicit LostFirstAcknowledgement(Database& inner) : ForwardingDatabase(inner) {}
  Status WriteDurable(const std::function<Status(Tx&)>& fn) override {
    Status st = inner_.WriteDurable(fn);
    if (st.ok() && !lost_.exchange(true))
      return Status::Unavailable("connection lost while committing");
    return st;
  }

 private:
  std::atomic<bool> lost_{false};
};

// A Tx that passes every statement on and counts those whose SQL contains `needle` (e.g. the
// statements on one table inside a unit of work).
class StatementCountingTx final : public Tx {
 public:
  StatementCountingTx(Tx& inner, std::string needle, std::atomic<int>& count)
      : inner_(inner), needle_(std::move(needle)), count_(count) {}
  Result<int64_t> Exec(std::string_view sql, const std::vector<Value>& params) override {
    if (sql.find(needle_) != std::string_view::npos) ++count_;
    return inner_.Exec(sql, params);
  }
  Result<std::vector<Row>> Query(std::string_view sql, const std::vector<Value>& params) override {
    return inner_.Query(sql, params);
  }

 private:
  Tx& inner_;
  std::string needle_;
  std::atomic<int>& count_;
};

}  // namespace gh::storage
