// ForwardingDatabase: a Database for tests that passes every call to another Database. A test
// derives from it and overrides only the calls it observes or perturbs (counting them, holding
// them at a gate, losing an acknowledgement).
#pragma once

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

 protected:
  Database& inner_;
};

}  // namespace gh::storage
