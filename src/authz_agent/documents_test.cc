#include "authz_agent/documents.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include "authz_agent/document_tools.h"
#include "authz_agent/test_env_testing.h"

namespace gh::authz_agent {
namespace {

namespace bj = boost::json;
using testing::AuthzAgentTest;
using testing::kDocumentModel;

std::vector<std::string> Ids(const SearchResult& r) {
  std::vector<std::string> out;
  for (const auto& h : r.hits) out.push_back(h.document.id);
  return out;
}

class DocumentsTest : public AuthzAgentTest {
 protected:
  void SetUp() override {
    AuthzAgentTest::SetUp();
    UseModel(acme_, kDocumentModel);
    AddDocument(acme_, "handbook", "Employee handbook", "Holidays: 25 days. Holidays are booked.");
    AddDocument(acme_, "roadmap", "Product roadmap", "Next: holidays calendar integration.");
    AddDocument(acme_, "salaries", "Salaries 2026", "Holidays pay and salaries for everyone.");
    AddDocument(acme_, "lunch", "Lunch menu", "Soup.");
    Grant({T("user:anne", "viewer", "document:handbook"),
           T("group:eng#member", "viewer", "document:roadmap"),
           T("user:anne", "member", "group:eng"), T("user:anne", "viewer", "document:lunch"),
           T("user:boss", "owner", "document:salaries"),
           T("user:anne", "viewer", "document:deleted-long-ago")});
  }

  SearchResult Search(const std::string& user, const std::string& query, size_t limit = 10) {
    auto r = documents_->Search(acme_, UserId(user), query, limit);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : SearchResult{};
  }
};

TEST_F(DocumentsTest, SearchReturnsExactlyThePermittedMatchesRankedByMatchCount) {
  SearchResult anne = Search("anne", "HOLIDAYS");
  // salaries matches too, but anne may not view it; lunch is viewable but does not match.
  EXPECT_EQ(Ids(anne), (std::vector<std::string>{"handbook", "roadmap"}));
  EXPECT_EQ(anne.total, 2u);
  EXPECT_EQ(anne.hits[0].matches, 2);
  EXPECT_NE(anne.hits[0].snippet.find("Holidays"), std::string::npos);
  EXPECT_EQ(anne.hits[0].document.content, "");  // the hit does not carry the whole text
  EXPECT_EQ(Ids(Search("boss", "holidays salaries")), (std::vector<std::string>{"salaries"}));
  EXPECT_TRUE(Search("nobody", "holidays").hits.empty());
  EXPECT_EQ(Ids(Search("anne", "holidays", 1)), (std::vector<std::string>{"handbook"}));
  EXPECT_EQ(Search("anne", "holidays", 1).total, 2u);
  EXPECT_TRUE(Search("anne", "?!").hits.empty());
}

TEST_F(DocumentsTest, ListingsAndReadsFollowViewer) {
  auto listed = documents_->List(acme_, UserId("anne"), /*everything=*/false);
  ASSERT_TRUE(listed.ok());
  std::vector<std::string> ids;
  for (const auto& d : *listed) ids.push_back(d.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"handbook", "lunch", "roadmap"}));
  EXPECT_EQ(documents_->List(acme_, UserId("anne"), /*everything=*/true)->size(), 4u);
  EXPECT_TRUE(*documents_->MayView(acme_, UserId("anne"), "roadmap"));
  EXPECT_FALSE(*documents_->MayView(acme_, UserId("anne"), "salaries"));
  EXPECT_FALSE(*documents_->MayView(acme_, UserId("anne"), "not a valid id"));
}

TEST_F(DocumentsTest, AnotherTenantSeesNeitherTheDocumentsNorTheGrants) {
  EXPECT_FALSE(documents_->Governed(globex_));
  EXPECT_TRUE(documents_->List(globex_, UserId("anne"), false)->empty());
  EXPECT_TRUE(documents_->List(globex_, UserId("anne"), true)->empty());
  auto r = documents_->Search(globex_, UserId("anne"), "holidays", 10);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->hits.empty());
  EXPECT_FALSE(documents_->Get(globex_, "handbook")->has_value());
}

TEST_F(DocumentsTest, PutCreatesThenReplacesAndRefusesIdsThatCannotBeObjects) {
  auto created = documents_->Put(acme_, UserId("admin"), {"", "Generated", "text"});
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(created->second);
  EXPECT_TRUE(created->first.id.starts_with("doc_"));
  clock_.Advance(std::chrono::seconds(5));
  auto replaced = documents_->Put(acme_, UserId("other"), {"handbook", "Handbook v2", "new"});
  ASSERT_TRUE(replaced.ok());
  EXPECT_FALSE(replaced->second);
  EXPECT_EQ(replaced->first.created_by, UserId("admin"));
  EXPECT_LT(replaced->first.created_at, replaced->first.updated_at);
  EXPECT_EQ((*documents_->Get(acme_, "handbook"))->content, "new");
  for (const std::string& bad :
       std::vector<std::string>{"a:b", "a#b", "*x", "with space", std::string(129, 'x')}) {
    EXPECT_EQ(documents_->Put(acme_, UserId("admin"), {bad, "t", "c"}).status().error_code(),
              "invalid_document_id")
        << bad;
  }
  EXPECT_FALSE(documents_->Put(acme_, UserId("admin"), {"ok", "", "c"}).ok());
  EXPECT_TRUE(*documents_->Delete(acme_, "handbook"));
  EXPECT_FALSE(*documents_->Delete(acme_, "handbook"));
}

TEST_F(DocumentsTest, SearchDocumentsToolAnswersWithThePermittedHitsOnly) {
  auto tool = MakeSearchDocumentsTool(*documents_);
  agent::TenantContext who = As(acme_, "anne");
  bj::object args{{"query", "holidays"}};  // outlives the coroutine, which borrows it
  boost::asio::io_context io;
  auto done = boost::asio::co_spawn(io, tool->Run(who, args), boost::asio::use_future);
  io.run();
  agent::ToolResult r = done.get();
  ASSERT_FALSE(r.is_error) << r.content;
  bj::value v = bj::parse(r.content);
  EXPECT_EQ(v.at("total"), 2);
  const auto& results = v.at("results").as_array();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].at("document_id"), "handbook");
  EXPECT_EQ(results[1].at("title"), "Product roadmap");
}

TEST(KeywordsTest, AreLowerCaseWordsOfTwoOrMoreBytesWithoutRepeats) {
  EXPECT_EQ(Keywords("Find the Q3 budget, budget & a plan!"),
            (std::vector<std::string>{"find", "the", "q3", "budget", "plan"}));
  EXPECT_EQ(Keywords("Übersicht"), (std::vector<std::string>{"Übersicht"}));  // bytes kept
  EXPECT_TRUE(Keywords("a . ?").empty());
}

}  // namespace
}  // namespace gh::authz_agent
