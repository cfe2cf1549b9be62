// CountingDatabase: a Database for tests that passes every unit of work to another Database and
// counts them by kind, so a test can state how many transactions an operation costs. Counts are
// of units begun (a backend's re-runs of one unit count once). Thread-safe.
#pragma once

#include <atomic>

#include "storage/testing/forwarding_database.h"

namespace gh::storage {

class CountingDatabase final : public ForwardingDatabase {
 public:
  explicit CountingDatabase(Database& inner) : ForwardingDatabase(inner) {}

  Status Read(const std::function<Status(Tx&)>& fn) override {
    ++reads_;
    return inner_.Read(fn);
  }
  Status Write(const std::function<Status(Tx&)>& fn) override {
    ++writes_;
    return inner_.Write(fn);
  }
  Status WriteReadCommitted(const std::function<Status(Tx&)>& fn) override {
    ++writes_;
    return inner_.WriteReadCommitted(fn);
  }
  Status WriteDurable(const std::function<Status(Tx&)>& fn) override {
    ++writes_;
    ++durable_writes_;
    return inner_.WriteDurable(fn);
  }

  int64_t reads() const { return reads_.load(); }
  int64_t writes() const { return writes_.load(); }  // Write, WriteReadCommitted, WriteDurable
  int64_t durable_writes() const { return durable_writes_.load(); }  // WriteDurable only
  void Reset() {
    reads_ = 0;
    writes_ = 0;
    durable_writes_ = 0;
  }

 private:
  std::atomic<int64_t> reads_{0};
  std::atomic<int64_t> writes_{0};
  std::atomic<int64_t> durable_writes_{0};
};

}  // namespace gh::storage
