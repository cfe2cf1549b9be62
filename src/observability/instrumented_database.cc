#include "observability/instrumented_database.h"

#include <chrono>

namespace gh::observability {

namespace {

class InstrumentedDatabase final : public storage::Database {
 public:
  InstrumentedDatabase(std::unique_ptr<storage::Database> inner, Metrics& metrics)
      : inner_(std::move(inner)), metrics_(metrics) {}

  Status Read(const std::function<Status(storage::Tx&)>& fn) override {
    return Timed("read", [&] { return inner_->Read(fn); });
  }
  Status Write(const std::function<Status(storage::Tx&)>& fn) override {
    return Timed("write", [&] { return inner_->Write(fn); });
  }
  Status WriteReadCommitted(const std::function<Status(storage::Tx&)>& fn) override {
    return Timed("write_read_committed", [&] { return inner_->WriteReadCommitted(fn); });
  }
  Status WriteDurable(const std::function<Status(storage::Tx&)>& fn) override {
    return Timed("write_durable", [&] { return inner_->WriteDurable(fn); });
  }
  storage::Dialect dialect() const override { return inner_->dialect(); }
  Status Ping() override { return inner_->Ping(); }
  Status LockForMigration(storage::Tx& tx) override { return inner_->LockForMigration(tx); }
  Status Announce(const storage::Announcement& change) override { return inner_->Announce(change); }
  std::unique_ptr<storage::ChangeListener> Listen(
      std::function<void(const storage::Announcement&)> heard) override {
    return inner_->Listen(std::move(heard));
  }

 private:
  template <typename F>
  Status Timed(const char* kind, F run) {
    const auto t0 = std::chrono::steady_clock::now();
    Status st = run();
    metrics_.ObserveStorage(
        kind, st.ok(),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return st;
  }

  std::unique_ptr<storage::Database> inner_;
  Metrics& metrics_;
};

}  // namespace

std::unique_ptr<storage::Database> InstrumentDatabase(std::unique_ptr<storage::Database> inner,
                                                      Metrics& metrics) {
  return std::make_unique<InstrumentedDatabase>(std::move(inner), metrics);
}

}  // namespace gh::observability
