#include "storage/group_writer.h"

#include <utility>
#include <vector>

namespace gh::storage {

GroupWriter::GroupWriter(Database& db, size_t max_group)
    : db_(db), max_group_(max_group == 0 ? 1 : max_group) {
  thread_ = std::thread([this] { Run(); });
}

GroupWriter::~GroupWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void GroupWriter::Submit(Unit unit, Done done) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back({std::move(unit), std::move(done)});
  }
  cv_.notify_one();
}

size_t GroupWriter::groups() const {
  std::lock_guard lock(mu_);
  return groups_;
}

void GroupWriter::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything written
    std::vector<Pending> group;
    while (!queue_.empty() && group.size() < max_group_) {
      group.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();

    std::vector<Status> outcomes(group.size(), Status::Ok());
    Status st = db_.WriteReadCommitted([&](Tx& tx) -> Status {
      for (size_t i = 0; i < group.size(); ++i) {
        GH_RETURN_IF_ERROR(tx.Exec("SAVEPOINT gh_unit").status());
        outcomes[i] = group[i].unit(tx);
        // A failed unit leaves nothing behind; the savepoint goes either way.
        if (!outcomes[i].ok()) GH_RETURN_IF_ERROR(tx.Exec("ROLLBACK TO SAVEPOINT gh_unit").status());
        GH_RETURN_IF_ERROR(tx.Exec("RELEASE SAVEPOINT gh_unit").status());
      }
      return Status::Ok();
    });
    lock.lock();
    ++groups_;
    lock.unlock();
    for (size_t i = 0; i < group.size(); ++i)
      if (group[i].done) group[i].done(st.ok() ? outcomes[i] : st);
    lock.lock();
  }
}

}  // namespace gh::storage
