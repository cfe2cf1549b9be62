// Metering::RecordTurnSpans: spans a turn's provider reported (a Bedrock agent's trace events)
// land in the trace store the way a turn's own spans do, with or without a request in flight.
#include "metering/metering.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "storage/repositories.h"

namespace gh::metering {
namespace {

namespace fs = std::filesystem;
namespace st = gh::storage;

const std::string kTrace(32, 'c');

class MeteringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gh-metering-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    db_ = std::move(st::OpenSqlite({(dir_ / "db").string(), 2, 10'000})).value();
    ASSERT_TRUE(st::Migrate(*db_).ok());
    auto m = Metering::Create({}, *db_, clock_, random_, metrics_);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    metering_ = std::move(m).value();
  }
  void TearDown() override {
    metering_.reset();
    db_.reset();
    fs::remove_all(dir_);
  }
  static observability::Span AgentSpan(std::string tenant, std::string span_id) {
    observability::Span s;
    s.tenant_id = std::move(tenant);
    s.user_id = "u1";
    s.session_id = "s1";
    s.trace_id = kTrace;
    s.span_id = std::move(span_id);
    s.parent_span_id = "2222222222222222";
    s.name = std::string(observability::spans::kBedrockAgentTrace);
    s.start_us = s.end_us = 5'000'000;
    s.Set("bedrock_agent.trace_type", "orchestrationTrace");
    return s;
  }
  std::vector<st::SpanRow> StoredSpans(const std::string& tenant) {
    EXPECT_TRUE(metering_->recorder().Flush().ok());
    std::vector<st::SpanRow> spans;
    EXPECT_TRUE(db_->Read([&](st::Tx& tx) -> Status {
                     GH_ASSIGN_OR_RETURN(spans,
                                         st::traces::Spans(tx, TenantId(tenant), TraceId(kTrace)));
                     return Status::Ok();
                   })
                    .ok());
    return spans;
  }
  std::optional<st::TraceRow> StoredTrace(const std::string& tenant) {
    EXPECT_TRUE(metering_->recorder().Flush().ok());
    std::optional<st::TraceRow> row;
    EXPECT_TRUE(db_->Read([&](st::Tx& tx) -> Status {
                     GH_ASSIGN_OR_RETURN(row,
                                         st::traces::Get(tx, TenantId(tenant), TraceId(kTrace)));
                     return Status::Ok();
                   })
                    .ok());
    return row;
  }

  fs::path dir_;
  FakeClock clock_;
  SeededRandom random_{11};
  observability::Metrics metrics_;
  std::unique_ptr<st::Database> db_;
  std::unique_ptr<Metering> metering_;
};

TEST_F(MeteringTest, UnderARequestInFlightTheSpansGoWithTheRequestsAndKeepTheirTenant) {
  auto request = std::make_shared<observability::RequestTrace>(kTrace, "1111111111111111", "");
  ASSERT_TRUE(metering_->traces().Register(request));
  std::vector<observability::Span> spans;
  spans.push_back(AgentSpan("acme", "aaaaaaaaaaaaaaaa"));
  metering_->RecordTurnSpans(std::move(spans));
  EXPECT_TRUE(StoredSpans("acme").empty()) << "held for the request, not written on their own";

  observability::RequestTrace::Taken taken = request->Take();
  EXPECT_TRUE(taken.spans.empty()) << "not among the request's own spans (which take its tenant)";
  ASSERT_EQ(taken.turns.size(), 1u);
  ASSERT_EQ(taken.turns[0].spans.size(), 1u);
  EXPECT_EQ(taken.turns[0].spans[0].tenant_id, "acme");
  EXPECT_EQ(taken.turns[0].spans[0].span_id, "aaaaaaaaaaaaaaaa");
  EXPECT_EQ(taken.turns[0].summary.tenant_id.value(), "acme");
  EXPECT_EQ(taken.turns[0].summary.span_count, 1);
}

TEST_F(MeteringTest, WithoutARequestInFlightTheSpansAreStoredOnTheirOwnWithASummary) {
  // No request with this trace id, then one whose spans were already taken (the turn outlived it).
  std::vector<observability::Span> spans;
  spans.push_back(AgentSpan("acme", "aaaaaaaaaaaaaaaa"));
  metering_->RecordTurnSpans(std::move(spans));
  auto request = std::make_shared<observability::RequestTrace>(kTrace, "1111111111111111", "");
  ASSERT_TRUE(metering_->traces().Register(request));
  (void)request->Take();
  spans.clear();
  spans.push_back(AgentSpan("acme", "bbbbbbbbbbbbbbbb"));
  metering_->RecordTurnSpans(std::move(spans));

  std::vector<st::SpanRow> stored = StoredSpans("acme");
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].name, "bedrock_agent.trace");
  EXPECT_EQ(stored[0].parent_span_id, "2222222222222222");
  EXPECT_NE(stored[0].attributes.find("orchestrationTrace"), std::string::npos);
  std::optional<st::TraceRow> row = StoredTrace("acme");
  ASSERT_TRUE(row.has_value()) << "listed like any trace";
  EXPECT_EQ(row->span_count, 2);
  EXPECT_EQ(row->user_id, "u1");
  EXPECT_TRUE(StoredSpans("globex").empty()) << "stored under the span's tenant only";
}

// An agent step that failed (a failureTrace: the span marked as an error) makes the trace one
// that failed, listed as such, not "ok" beside an error span.
TEST_F(MeteringTest, AFailedAgentStepMarksTheTraceAsFailed) {
  std::vector<observability::Span> spans;
  spans.push_back(AgentSpan("acme", "aaaaaaaaaaaaaaaa"));
  spans.push_back(AgentSpan("acme", "bbbbbbbbbbbbbbbb"));
  spans.back().error = true;
  spans.back().status_message = "the action group failed";
  metering_->RecordTurnSpans(std::move(spans));
  std::optional<st::TraceRow> row = StoredTrace("acme");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->status, "error");
}

}  // namespace
}  // namespace gh::metering
