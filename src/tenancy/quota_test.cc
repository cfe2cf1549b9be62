#include "tenancy/quota.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "common/time_util.h"
#include "storage/repositories.h"
#include "storage/testing/counting_database.h"

namespace gh::tenancy {
namespace {

class QuotaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gh-quota-" + std::to_string(::getpid()) + "-" + std::to_string(n_++));
    std::filesystem::create_directories(dir_);
    db_ = std::move(storage::OpenSqlite({(dir_ / "db").string(), 4, 10'000})).value();
    ASSERT_TRUE(storage::Migrate(*db_).ok());
    plan_ = PlanCatalog::Defaults().plans().at("basic");
    quota_ = std::make_unique<QuotaService>(*db_, clock_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Limits L(const TimeZone* zone = nullptr, storage::UserCaps caps = {}) {
    return Limits{&plan_, caps, zone};
  }
  void SetNow(const char* rfc3339) { clock_.SetUnixMillis(ToUnixMillis(*ParseRfc3339(rfc3339))); }

  static inline int n_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<storage::Database> db_;
  FakeClock clock_;
  Plan plan_;
  std::unique_ptr<QuotaService> quota_;
  TenantId tenant_{"acme"};
  UserId user_{"u1"};
};

TEST_F(QuotaTest, ConcurrentReservationsNeverExceedTheDailyLimit) {
  plan_.messages_per_day = 50;
  std::atomic<int> granted{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto r = quota_->ReserveTurn(tenant_, user_, L());
        if (r.ok())
          granted++;
        else if (r.status().error_code() == "quota_exceeded")
          refused++;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 50);
  EXPECT_EQ(refused.load(), 150);
  auto usage = quota_->Usage(tenant_, std::nullopt, L());
  EXPECT_EQ(usage->day.messages, 50);
  EXPECT_EQ(*usage->day.remaining, 0);
}

TEST_F(QuotaTest, ARefusalNamesTheLimitAndWhenItResets) {
  plan_.messages_per_day = 1;
  SetNow("2026-11-22T18:00:00Z");
  ASSERT_TRUE(quota_->ReserveTurn(tenant_, user_, L()).ok());
  auto r = quota_->ReserveTurn(tenant_, user_, L());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(*r.status().retry_after_seconds(), 6 * 3600);
  bool named = false;
  for (const auto& [k, v] : r.status().details())
    named |= k == "limit" && std::get<std::string>(v) == "messages_per_day";
  EXPECT_TRUE(named);
}

TEST_F(QuotaTest, DayAndMonthWindowsResetAtLocalMidnightInTheTenantsZone) {
  auto ny = TimeZone::Load("America/New_York");
  ASSERT_TRUE(ny.ok());
  plan_.messages_per_day = 2;
  plan_.messages_per_month = 3;
  // 23:30 on 31 January in New York is 04:30 UTC on 1 February: still January there.
  SetNow("2027-02-01T04:30:00Z");
  ASSERT_TRUE(quota_->ReserveTurn(tenant_, user_, L(&*ny)).ok());
  ASSERT_TRUE(quota_->ReserveTurn(tenant_, user_, L(&*ny)).ok());
  auto full = quota_->ReserveTurn(tenant_, user_, L(&*ny));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(*full.status().retry_after_seconds(), 30 * 60) << "the day ends at local midnight";
  auto usage = quota_->Usage(tenant_, std::nullopt, L(&*ny));
  EXPECT_EQ(usage->day.period, "2027-01-31");
  EXPECT_EQ(usage->month.period, "2027-01");
  // Thirty-one minutes later it is February in New York: both windows are fresh.
  clock_.Advance(std::chrono::minutes(31));
  auto next = quota_->ReserveTurn(tenant_, user_, L(&*ny));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  usage = quota_->Usage(tenant_, std::nullopt, L(&*ny));
  EXPECT_EQ(usage->day.period, "2027-02-01");
  EXPECT_EQ(usage->day.messages, 1);
  EXPECT_EQ(usage->month.messages, 1);
  // Counters are keyed by the tenant's local day: viewed in UTC, only today's message is on 1
  // February.
  auto utc = quota_->Usage(tenant_, std::nullopt, L());
  EXPECT_EQ(utc->day.period, "2027-02-01");
  EXPECT_EQ(utc->day.messages, 1);
}

TEST_F(QuotaTest, TheMonthlyLimitHoldsAcrossDaysAndResetsOnTheFirst) {
  auto paris = TimeZone::Load("Europe/Paris");
  ASSERT_TRUE(paris.ok());
  plan_.messages_per_day = 10;
  plan_.messages_per_month = 2;
  SetNow("2026-11-29T12:00:00Z");
  ASSERT_TRUE(quota_->ReserveTurn(tenant_, user_, L(&*paris)).ok());
  clock_.Advance(std::chrono::hours(24));
  ASSERT_TRUE(quota_->ReserveTurn(tenant_, user_, L(&*paris)).ok());
  auto refused = quota_->ReserveTurn(tenant_, user_, L(&*paris));
  ASSERT_FALSE(refused.ok());
  // 30 November 13:00 in Paris: the month ends in 11 hours.
  EXPECT_EQ(*refused.status().retry_after_seconds(), 11 * 3600);
  SetNow("2026-11-30T23:00:00Z");  // midnight in Paris: December
  EXPECT_TRUE(quota_->ReserveTurn(tenant_, user_, L(&*paris)).ok());
}

TEST_F(QuotaTest, ReleaseGivesEverythingBack) {
  plan_.messages_per_day = 1;
  auto r = quota_->ReserveTurn(tenant_, user_, L());
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(quota_->Release(*r).ok());
  EXPECT_FALSE(r->open);
  EXPECT_TRUE(quota_->ReserveTurn(tenant_, user_, L()).ok())
      << "the released message is available again";
}

TEST_F(QuotaTest, UserCapsApplyWithinTheTenantsLimits) {
  storage::UserCaps caps;
  caps.messages_per_day = 1;
  ASSERT_TRUE(quota_->ReserveTurn(tenant_, user_, L(nullptr, caps)).ok());
  auto r = quota_->ReserveTurn(tenant_, user_, L(nullptr, caps));
  ASSERT_FALSE(r.ok());
  bool named = false;
  for (const auto& [k, v] : r.status().details())
    named |= k == "limit" && std::get<std::string>(v) == "user_messages_per_day";
  EXPECT_TRUE(named);
  EXPECT_TRUE(quota_->ReserveTurn(tenant_, UserId("u2"), L()).ok()) << "a colleague is not capped";
  auto tenant_usage = quota_->Usage(tenant_, std::nullopt, L());
  EXPECT_EQ(tenant_usage->day.messages, 2);
  auto user_usage = quota_->Usage(tenant_, user_, L(nullptr, caps));
  EXPECT_EQ(user_usage->day.messages, 1);
}

TEST_F(QuotaTest, TheRateLimitIsSmoothNotAFixedWindow) {
  plan_.requests_per_minute = 6;  // one every 10 s, bursts up to 6
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(quota_->ReserveTurn(tenant_, user_, L()).ok()) << i;
  auto refused = quota_->ReserveTurn(tenant_, user_, L());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().error_code(), "rate_limited");
  EXPECT_EQ(*refused.status().retry_after_seconds(), 10);
  clock_.Advance(std::chrono::seconds(10));
  EXPECT_TRUE(quota_->ReserveTurn(tenant_, user_, L()).ok())
      << "one slot refills after one interval";
  EXPECT_FALSE(quota_->ReserveTurn(tenant_, user_, L()).ok()) << "but only one";
  EXPECT_TRUE(quota_->ReserveTurn(tenant_, UserId("u2"), L()).ok()) << "the limit is per user";
}

TEST_F(QuotaTest, ConcurrentModelCallsNeverSpendPastTheBudget) {
  plan_.budget_micros_per_month = 10'000;
  plan_.messages_per_day.reset();
  plan_.messages_per_month.reset();
  std::atomic<int64_t> settled_spend{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        auto r = quota_->ReserveTurn(tenant_, UserId("u" + std::to_string(t)), L());
        ASSERT_TRUE(r.ok());
        // Worst case 700, real cost between 300 and 700.
        Status st = quota_->ReserveModelCall(*r, 1000, 700);
        if (!st.ok()) {
          EXPECT_EQ(st.error_code(), "budget_exceeded");
          refused++;
          continue;
        }
        int64_t actual = 300 + (t * 37 + i * 53) % 401;
        ASSERT_TRUE(quota_->SettleModelCall(*r, 600, 100, actual).ok());
        settled_spend += actual;
      }
    });
  for (auto& t : threads) t.join();
  auto usage = quota_->Usage(tenant_, std::nullopt, L());
  EXPECT_EQ(usage->month.spend_micros, settled_spend.load())
      << "the counter equals the sum of settled costs";
  EXPECT_LE(usage->month.spend_micros, 10'000);
  EXPECT_GT(refused.load(), 0);
  EXPECT_GT(usage->month.spend_micros, 10'000 - 700)
      << "refusals happen only when the worst case does not fit";
}

TEST_F(QuotaTest, TheMonthlyTokenLimitIsReservedAtWorstCaseAndSettledToTheRealFigure) {
  plan_.tokens_per_month = 1000;
  auto r = quota_->ReserveTurn(tenant_, user_, L());
  ASSERT_TRUE(quota_->ReserveModelCall(*r, 900, 0).ok());
  auto second = quota_->ReserveTurn(tenant_, user_, L());
  EXPECT_EQ(quota_->ReserveModelCall(*second, 200, 0).error_code(), "quota_exceeded")
      << "900 are held";
  ASSERT_TRUE(quota_->SettleModelCall(*r, 100, 50, 0).ok());
  EXPECT_TRUE(quota_->ReserveModelCall(*second, 200, 0).ok()) << "settling freed the unused 750";
  auto usage = quota_->Usage(tenant_, std::nullopt, L());
  EXPECT_EQ(usage->month.input_tokens, 100);
  EXPECT_EQ(usage->month.output_tokens, 50);
}

// Issue 4 ("Performance"): the OpenAI-compatible completion admits its turn with its model call.
TEST_F(QuotaTest, APreparedTurnIsAdmittedWithItsFirstModelCallInOneTransaction) {
  storage::CountingDatabase counting(*db_);
  QuotaService quota(counting, clock_);
  plan_.messages_per_day = 5;
  plan_.budget_micros_per_month = 10'000;
  Reservation r = quota.PrepareTurn(tenant_, user_, L());
  ASSERT_TRUE(quota.Charge(r, 100).ok()) << "an invocation fee, noted for the admission";
  EXPECT_EQ(counting.writes(), 0) << "preparing and noting a charge touch no database";
  EXPECT_FALSE(r.open);
  ASSERT_TRUE(quota.ReserveModelCall(r, 900, 700).ok());
  EXPECT_EQ(counting.writes(), 1)
      << "rate slot, message, fee and the call's worst case: one transaction";
  EXPECT_TRUE(r.open);
  EXPECT_FALSE(r.admission_pending);
  EXPECT_EQ(r.remaining_day, 4);
  auto usage = quota.Usage(tenant_, std::nullopt, L());
  EXPECT_EQ(usage->day.messages, 1);
  EXPECT_EQ(usage->month.spend_micros, 800) << "the fee and the call's worst case";
  quota.SettleModelCallLater(r, 300, 20, 250);
  EXPECT_EQ(counting.writes(), 1) << "a settlement waits for the reservation's next unit";
  ASSERT_TRUE(db_->Write([&](storage::Tx& tx) { return QuotaService::SettleIn(tx, r); }).ok());
  usage = quota.Usage(tenant_, std::nullopt, L());
  EXPECT_EQ(usage->day.messages, 1) << "the message is kept";
  EXPECT_EQ(usage->month.spend_micros, 350) << "the fee and the call's real cost";
  EXPECT_EQ(usage->day.input_tokens, 300);
  EXPECT_EQ(usage->month.output_tokens, 20);
  EXPECT_FALSE(r.open);
  EXPECT_TRUE(r.pending_adjust.empty());
}

TEST_F(QuotaTest, APreparedTurnRefusedAtItsModelCallTakesNothing) {
  plan_.tokens_per_month = 1000;
  plan_.requests_per_minute = 1;
  plan_.budget_micros_per_month = 1'000;
  Reservation r = quota_->PrepareTurn(tenant_, user_, L());
  ASSERT_TRUE(quota_->Charge(r, 100).ok());
  Status refused = quota_->ReserveModelCall(r, 2000, 0);
  EXPECT_EQ(refused.error_code(), "quota_exceeded");
  EXPECT_FALSE(r.open) << "not admitted: nothing to release";
  auto usage = quota_->Usage(tenant_, std::nullopt, L());
  EXPECT_EQ(usage->day.messages, 0) << "the message went back with the refusal";
  EXPECT_EQ(usage->month.spend_micros, 0) << "so did the fee";
  ASSERT_TRUE(quota_->Release(r).ok());

  Reservation second = quota_->PrepareTurn(tenant_, user_, L());
  EXPECT_TRUE(quota_->ReserveModelCall(second, 500, 0).ok())
      << "the refused turn took no rate slot";
  Reservation third = quota_->PrepareTurn(tenant_, user_, L());
  EXPECT_EQ(quota_->ReserveModelCall(third, 10, 0).error_code(), "rate_limited")
      << "the same refusals as ReserveTurn";
  plan_.requests_per_minute.reset();
  Reservation fourth = quota_->PrepareTurn(tenant_, user_, L());
  ASSERT_TRUE(quota_->Charge(fourth, 950).ok());
  EXPECT_EQ(quota_->ReserveModelCall(fourth, 10, 100).error_code(), "budget_exceeded")
      << "the fee and the call's worst case are checked together against the budget";
  EXPECT_EQ(quota_->Usage(tenant_, std::nullopt, L())->day.messages, 1);
}

TEST_F(QuotaTest, ConcurrentPreparedTurnsNeverExceedTheDailyLimit) {
  plan_.messages_per_day = 50;
  std::atomic<int> granted{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        Reservation r = quota_->PrepareTurn(tenant_, user_, L());
        Status st = quota_->ReserveModelCall(r, 10, 0);
        if (st.ok())
          granted++;
        else if (st.error_code() == "quota_exceeded")
          refused++;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 50);
  EXPECT_EQ(refused.load(), 150);
  EXPECT_EQ(quota_->Usage(tenant_, std::nullopt, L())->day.messages, 50);
}

TEST_F(QuotaTest, ADeferredSettlementIsWrittenFirstByTheNextUnitSoWhatItFreesIsUsable) {
  storage::CountingDatabase counting(*db_);
  QuotaService quota(counting, clock_);
  plan_.tokens_per_month = 1000;
  auto r = quota.ReserveTurn(tenant_, user_, L());
  ASSERT_TRUE(quota.ReserveModelCall(*r, 900, 0).ok());
  quota.SettleModelCallLater(*r, 100, 50, 0);
  auto other = quota.ReserveTurn(tenant_, UserId("u2"), L());
  EXPECT_EQ(quota.ReserveModelCall(*other, 200, 0).error_code(), "quota_exceeded")
      << "until it is written the worst case stays reserved: early refusals, never excess";
  counting.Reset();
  ASSERT_TRUE(quota.ReserveModelCall(*r, 800, 0).ok()) << "its own next call sees the 750 freed";
  EXPECT_EQ(counting.writes(), 1) << "the settlement and the next reservation: one transaction";
  quota.SettleModelCallLater(*r, 10, 10, 0);
  ASSERT_TRUE(quota.Release(*r).ok());
  auto usage = quota.Usage(tenant_, std::nullopt, L());
  EXPECT_EQ(usage->month.input_tokens, 110);
  EXPECT_EQ(usage->month.output_tokens, 60);
  EXPECT_TRUE(quota.ReserveModelCall(*other, 800, 0).ok()) << "170 used, 830 free";
}

// Issue 4 ("Performance"): a counter with no limit is a tally, written with the settlement; a plan
// that limits nothing admits without a transaction.
class UnlimitedQuotaTest : public QuotaTest {
 protected:
  void SetUp() override {
    QuotaTest::SetUp();
    plan_.messages_per_day.reset();
    plan_.messages_per_month.reset();
    plan_.tokens_per_month.reset();
    plan_.budget_micros_per_month.reset();
    plan_.requests_per_minute.reset();
  }
  Status SettleInTx(Reservation& r) {
    return db_->Write([&](storage::Tx& tx) { return QuotaService::SettleIn(tx, r); });
  }
};

TEST_F(UnlimitedQuotaTest, APlanThatLimitsNothingAdmitsWithoutATransactionAndTalliesAtSettlement) {
  storage::CountingDatabase counting(*db_);
  QuotaService quota(counting, clock_);
  Reservation r = quota.PrepareTurn(tenant_, user_, L());
  ASSERT_TRUE(quota.Charge(r, 100).ok());
  ASSERT_TRUE(quota.ReserveModelCall(r, 900, 700).ok());
  EXPECT_EQ(counting.writes(), 0) << "nothing to check, nothing written on the way in";
  EXPECT_TRUE(r.open);
  EXPECT_FALSE(r.admission_pending);
  EXPECT_FALSE(r.remaining_day.has_value()) << "no limit, nothing remaining to report";
  EXPECT_EQ(quota.Usage(tenant_, std::nullopt, L())->day.messages, 0);
  quota.SettleModelCallLater(r, 300, 20, 250);
  ASSERT_TRUE(SettleInTx(r).ok());
  for (const std::optional<UserId>& who : {std::optional<UserId>(), std::optional<UserId>(user_)}) {
    auto usage = quota.Usage(tenant_, who, L());
    EXPECT_EQ(usage->day.messages, 1);
    EXPECT_EQ(usage->month.messages, 1);
    EXPECT_EQ(usage->month.spend_micros, 350) << "the fee and the real cost, never the worst case";
    EXPECT_EQ(usage->day.input_tokens, 300);
    EXPECT_EQ(usage->month.output_tokens, 20);
  }
  EXPECT_TRUE(r.pending_adjust.empty());
  EXPECT_TRUE(r.message_tallies.empty());
}

TEST_F(UnlimitedQuotaTest, AReleasedTurnTalliesNoMessageButKeepsItsFee) {
  Reservation r = quota_->PrepareTurn(tenant_, user_, L());
  ASSERT_TRUE(quota_->Charge(r, 100).ok());
  ASSERT_TRUE(quota_->ReserveModelCall(r, 900, 700).ok());
  ASSERT_TRUE(quota_->Release(r).ok());
  auto usage = quota_->Usage(tenant_, user_, L());
  EXPECT_EQ(usage->day.messages, 0) << "the message went back";
  EXPECT_EQ(usage->month.spend_micros, 100) << "the invocation fee is kept, as on a limited plan";
  EXPECT_FALSE(r.open);
}

TEST_F(UnlimitedQuotaTest, ACallThatNeverSettledTalliesItsWorstCase) {
  auto r = quota_->ReserveTurn(tenant_, user_, L());
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(quota_->ReserveModelCall(*r, 900, 700).ok());
  ASSERT_TRUE(SettleInTx(*r).ok()) << "the client went away before the call settled";
  auto usage = quota_->Usage(tenant_, std::nullopt, L());
  EXPECT_EQ(usage->month.spend_micros, 700)
      << "the worst case is kept, as a limited counter keeps it";
  EXPECT_EQ(usage->day.messages, 1);
}

TEST_F(UnlimitedQuotaTest, AUsersCapIsCheckedWhenThePlanLimitsNothing) {
  storage::UserCaps caps;
  caps.messages_per_day = 1;
  caps.budget_micros_per_month = 1'000;
  Reservation r = quota_->PrepareTurn(tenant_, user_, L(nullptr, caps));
  ASSERT_TRUE(quota_->ReserveModelCall(r, 10, 600).ok());
  EXPECT_EQ(r.remaining_day, 0);
  Reservation again = quota_->PrepareTurn(tenant_, user_, L(nullptr, caps));
  Status refused = quota_->ReserveModelCall(again, 10, 10);
  ASSERT_EQ(refused.error_code(), "quota_exceeded");
  bool named = false;
  for (const auto& [k, v] : refused.details())
    named |= k == "limit" && std::get<std::string>(v) == "user_messages_per_day";
  EXPECT_TRUE(named) << "the refusal names the user's cap, not a plan limit";
  storage::UserCaps budget_only;
  budget_only.budget_micros_per_month = 1'000;
  Reservation third = quota_->PrepareTurn(tenant_, user_, L(nullptr, budget_only));
  Status over = quota_->ReserveModelCall(third, 10, 500);
  ASSERT_EQ(over.error_code(), "budget_exceeded") << "600 of 1,000 held by the first call";
  bool user_budget = false;
  for (const auto& [k, v] : over.details())
    user_budget |= k == "limit" && std::get<std::string>(v) == "user_budget_micros_per_month";
  EXPECT_TRUE(user_budget);
}

TEST_F(UnlimitedQuotaTest, ConcurrentTurnsTallyExactly) {
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        Reservation r = quota_->PrepareTurn(tenant_, user_, L());
        if (!quota_->Charge(r, 1).ok() || !quota_->ReserveModelCall(r, 10, 10).ok()) {
          failed++;
          continue;
        }
        quota_->SettleModelCallLater(r, 3, 2, 5);
        if (!SettleInTx(r).ok()) failed++;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  auto usage = quota_->Usage(tenant_, std::nullopt, L());
  EXPECT_EQ(usage->day.messages, 200);
  EXPECT_EQ(usage->month.spend_micros, 200 * 6);
  EXPECT_EQ(usage->day.input_tokens, 600);
  EXPECT_EQ(usage->day.output_tokens, 400);
}

// An /api/chat turn passes its message's tallies on before its serialisable final transaction
// (which must not touch hot counter rows on PostgreSQL); if that transaction then fails, the
// release takes them back.
TEST_F(UnlimitedQuotaTest, TalliesPassedOnBeforeTheFinalTransactionGoBackOnRelease) {
  auto r = quota_->ReserveTurn(tenant_, user_, L());
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(quota_->ReserveModelCall(*r, 900, 700).ok());
  quota_->SettleModelCallLater(*r, 30, 20, 40);
  QuotaService::KeepMessageLater(*r);
  ASSERT_TRUE(quota_->Flush(*r).ok());
  EXPECT_EQ(quota_->Usage(tenant_, user_, L())->day.messages, 1) << "written by the flush";
  Reservation copy = *r;
  EXPECT_TRUE(QuotaService::SettleDeltas(copy).empty())
      << "nothing left for the final transaction to write";
  ASSERT_TRUE(quota_->Release(*r).ok()) << "the final transaction failed";
  auto usage = quota_->Usage(tenant_, user_, L());
  EXPECT_EQ(usage->day.messages, 0);
  EXPECT_EQ(usage->month.messages, 0);
  EXPECT_EQ(usage->month.spend_micros, 40) << "the call's real cost stays: it was consumed";

  Reservation pending = quota_->PrepareTurn(tenant_, user_, L());
  ASSERT_TRUE(quota_->ReserveModelCall(pending, 10, 10).ok());
  QuotaService::KeepMessageLater(pending);
  ASSERT_TRUE(quota_->Release(pending).ok()) << "passed on but never written: they cancel out";
  EXPECT_EQ(quota_->Usage(tenant_, user_, L())->day.messages, 0);
}

TEST_F(UnlimitedQuotaTest, ReleasingATurnThatTookOnlyTalliesOpensNoTransaction) {
  storage::CountingDatabase counting(*db_);
  QuotaService quota(counting, clock_);
  Reservation r = quota.PrepareTurn(tenant_, user_, L());
  ASSERT_TRUE(quota.ReserveModelCall(r, 900, 700).ok());
  ASSERT_TRUE(quota.Release(r).ok());
  EXPECT_EQ(counting.writes(), 0);
  EXPECT_FALSE(r.open);
}

// Counter rows are taken in one order by every unit: by kind, then the tenant's before a user's
// (two units taking them in opposite orders can deadlock on PostgreSQL).
TEST_F(UnlimitedQuotaTest, SettlementsTakeTheTenantsCountersBeforeTheUsers) {
  plan_.budget_micros_per_month = 1'000'000;  // the tenant's budget is limited, the user's is not
  Reservation r = quota_->PrepareTurn(tenant_, user_, L());
  ASSERT_TRUE(quota_->Charge(r, 100).ok());  // the user's share of the fee becomes a tally first
  ASSERT_TRUE(quota_->ReserveModelCall(r, 900, 700).ok());
  quota_->SettleModelCallLater(r, 30, 20, 40);
  const std::vector<storage::CounterDelta> d = QuotaService::SettleDeltas(r);
  auto rank = [](const storage::CounterDelta& x) {
    if (x.key.metric == "messages") return 0;
    if (x.key.metric == "tokens") return 1;
    if (x.key.metric == "spend_micros") return 2;
    return 3;
  };
  for (size_t i = 1; i < d.size(); ++i) {
    EXPECT_LE(rank(d[i - 1]), rank(d[i])) << i;
    if (rank(d[i - 1]) == rank(d[i])) {
      EXPECT_FALSE(d[i - 1].key.scope != "tenant" && d[i].key.scope == "tenant")
          << d[i - 1].key.scope << " " << d[i - 1].key.metric << " before " << d[i].key.scope;
    }
  }
}

}  // namespace
}  // namespace gh::tenancy
