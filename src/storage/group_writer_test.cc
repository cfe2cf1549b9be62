#include "storage/group_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <latch>
#include <vector>

#include "storage/migrations.h"
#include "storage/repositories.h"
#include "storage/testing/counting_database.h"

namespace gh::storage {
namespace {

namespace fs = std::filesystem;

class GroupWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gh-group-writer-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    auto db = OpenSqlite({(dir_ / "db").string(), 4, 10'000});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(Migrate(*db_).ok());
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }
  static TenantRecord Tenant(int i) {
    return {TenantId("t" + std::to_string(i)), "T", "basic", "active", "UTC", 1};
  }
  bool Exists(int i) {
    bool found = false;
    EXPECT_TRUE(db_->Read([&](Tx& tx) -> Status {
                     GH_ASSIGN_OR_RETURN(auto t, tenants::Get(tx, Tenant(i).id));
                     found = t.has_value();
                     return Status::Ok();
                   })
                    .ok());
    return found;
  }

  fs::path dir_;
  std::unique_ptr<Database> db_;
};

// Units queued together commit in fewer transactions than units; a unit that fails is rolled
// back alone (its SAVEPOINT) and gets its own Status, the others commit and get theirs.
TEST_F(GroupWriterTest, UnitsCommitTogetherAndAFailingUnitIsRolledBackAlone) {
  CountingDatabase counting(*db_);
  constexpr int kUnits = 200;
  std::vector<std::promise<Status>> outcomes(kUnits);
  {
    GroupWriter writer(counting);
    std::latch go(1);
    std::vector<std::thread> callers;
    for (int t = 0; t < 4; ++t)
      callers.emplace_back([&, t] {
        go.wait();
        for (int i = t; i < kUnits; i += 4)
          writer.Submit(
              [i](Tx& tx) -> Status {
                GH_RETURN_IF_ERROR(tenants::Insert(tx, Tenant(i)));
                // Every tenth unit changes its mind after writing: nothing of it may stay.
                if (i % 10 == 0) return Status::ResourceExhausted("refused", "quota_exceeded");
                return Status::Ok();
              },
              [&outcomes, i](Status st) { outcomes[i].set_value(std::move(st)); });
      });
    go.count_down();
    for (auto& c : callers) c.join();
    for (int i = 0; i < kUnits; ++i) {
      Status st = outcomes[i].get_future().get();
      if (i % 10 == 0) {
        EXPECT_EQ(st.error_code(), "quota_exceeded") << i;
      } else {
        EXPECT_TRUE(st.ok()) << i << ": " << st.ToString();
      }
    }
    EXPECT_LT(writer.groups(), static_cast<size_t>(kUnits)) << "grouped";
    EXPECT_EQ(counting.writes(), static_cast<int64_t>(writer.groups()))
        << "one transaction per group";
  }
  for (int i = 0; i < kUnits; ++i) EXPECT_EQ(Exists(i), i % 10 != 0) << i;
}

// A unit whose statement fails (here a duplicate key) is rolled back alone as well; and what is
// queued when the writer is destroyed is still written.
TEST_F(GroupWriterTest, AFailedStatementStaysInItsUnitAndTheQueueIsWrittenAtTheEnd) {
  ASSERT_TRUE(db_->Write([](Tx& tx) { return tenants::Insert(tx, Tenant(1)); }).ok());
  std::promise<Status> dup, fresh;
  {
    GroupWriter writer(*db_);
    writer.Submit([](Tx& tx) { return tenants::Insert(tx, Tenant(1)); },
                  [&](Status st) { dup.set_value(st); });
    writer.Submit([](Tx& tx) { return tenants::Insert(tx, Tenant(2)); },
                  [&](Status st) { fresh.set_value(st); });
  }
  EXPECT_EQ(dup.get_future().get().code(), StatusCode::kConflict);
  EXPECT_TRUE(fresh.get_future().get().ok());
  EXPECT_TRUE(Exists(2));
}

}  // namespace
}  // namespace gh::storage
