#include "authz_agent/tool_authorizer.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "agent/agent.h"
#include "authz_agent/document_tools.h"
#include "authz_agent/test_env_testing.h"

namespace gh::authz_agent {
namespace {

namespace bj = boost::json;
using testing::AuthzAgentTest;
using testing::kDocumentModel;
using testing::kToolGatingModel;

// A tool that needs nothing beyond the opt-in "may use" check, like the weather tools.
class PlainTool final : public agent::Tool {
 public:
  PlainTool() { spec_ = {"get_current_weather", "weather", R"({"type":"object"})"}; }
  const agent::ToolSpec& spec() const override { return spec_; }
  bool AllowedBy(const tenancy::Plan&) const override { return true; }
  agent::Awaitable<agent::ToolResult> Run(const agent::TenantContext&, const bj::object&) override {
    agent::ToolResult r{"{}", false};
    co_return r;
  }

 private:
  agent::ToolSpec spec_;
};

class ToolAuthorizerTest : public AuthzAgentTest {
 protected:
  void SetUp() override {
    AuthzAgentTest::SetUp();
    read_ = MakeReadDocumentTool(*documents_);
    search_ = MakeSearchDocumentsTool(*documents_);
  }
  agent::AuthzDecision Read(const std::string& user, const std::string& document_id) {
    return authorizer_->AuthorizeCall(As(acme_, user), *read_,
                                      bj::object{{"document_id", document_id}});
  }

  PlainTool weather_;
  std::shared_ptr<agent::Tool> read_;
  std::shared_ptr<agent::Tool> search_;
};

TEST_F(ToolAuthorizerTest, WithoutAStoreOnlyToolsThatNeedNothingAreOffered) {
  EXPECT_TRUE(authorizer_->MayOffer(As(acme_, "anne"), weather_));
  EXPECT_TRUE(authorizer_->AuthorizeCall(As(acme_, "anne"), weather_, {}).allowed);
  EXPECT_FALSE(authorizer_->MayOffer(As(acme_, "anne"), *read_));
  EXPECT_FALSE(authorizer_->MayOffer(As(acme_, "anne"), *search_));
  agent::AuthzDecision d = Read("anne", "plan");
  EXPECT_FALSE(d.allowed);
  // Calls that need nothing are not recorded; the refused document call is.
  auto rows = Decisions(acme_);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].decision, "deny");
  EXPECT_EQ(rows[0].tool, "read_document");
}

TEST_F(ToolAuthorizerTest, DocumentToolsAreOfferedWhereTheModelDefinesDocumentViewer) {
  UseModel(acme_, kDocumentModel);
  EXPECT_TRUE(authorizer_->MayOffer(As(acme_, "anne"), *read_));
  EXPECT_TRUE(authorizer_->MayOffer(As(acme_, "anne"), *search_));
  EXPECT_TRUE(authorizer_->MayOffer(As(acme_, "anne"), weather_));   // tools are not gated here
  EXPECT_FALSE(authorizer_->MayOffer(As(globex_, "anne"), *read_));  // another tenant: no store
}

TEST_F(ToolAuthorizerTest, ACallOnADocumentTheUserMayNotSeeIsDeniedAndRecorded) {
  const std::string model_id = UseModel(acme_, kDocumentModel);
  Grant({T("user:anne", "viewer", "document:plan"), T("user:bob", "owner", "document:secret")});

  clock_.Advance(std::chrono::seconds(1));
  agent::AuthzDecision allowed = Read("anne", "plan");
  EXPECT_TRUE(allowed.allowed) << allowed.reason;
  clock_.Advance(std::chrono::seconds(1));
  agent::AuthzDecision denied = Read("anne", "secret");
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.object, "document:secret");
  EXPECT_EQ(denied.model_id, model_id);

  auto rows = Decisions(acme_);  // newest first
  ASSERT_EQ(rows.size(), 2u);
  const auto& d = rows[0];
  EXPECT_EQ(d.decision, "deny");
  EXPECT_EQ(d.tenant_id, acme_);
  EXPECT_EQ(d.user_id, UserId("anne"));
  EXPECT_EQ(d.tool, "read_document");
  EXPECT_EQ(d.fga_user, "user:anne");
  EXPECT_EQ(d.relation, "viewer");
  EXPECT_EQ(d.object, "document:secret");
  EXPECT_EQ(d.store_id, store_->record().id);
  EXPECT_EQ(d.model_id, model_id);
  EXPECT_EQ(d.session_id, "session-1");
  EXPECT_EQ(d.trace_id, "trace-1");
  EXPECT_EQ(d.created_at, clock_.NowUnixMillis());
  EXPECT_EQ(rows[1].decision, "allow");
  EXPECT_EQ(rows[1].object, "document:plan");
  EXPECT_TRUE(Decisions(globex_).empty());
}

TEST_F(ToolAuthorizerTest, ArgumentsThatDoNotNameAValidObjectAreDenied) {
  UseModel(acme_, kDocumentModel);
  Grant({T("user:anne", "viewer", "document:plan")});
  for (std::string id : {"plan#viewer", "x:plan", "*", "plan viewer", ""}) {
    agent::AuthzDecision d = Read("anne", id);
    EXPECT_FALSE(d.allowed) << id;
  }
  agent::AuthzDecision missing = authorizer_->AuthorizeCall(As(acme_, "anne"), *read_, {});
  EXPECT_FALSE(missing.allowed);
  EXPECT_NE(missing.reason.find("document_id"), std::string::npos) << missing.reason;
}

TEST_F(ToolAuthorizerTest, ToolsAreGatedByCanUseOnlyWhereTheModelDefinesIt) {
  UseModel(acme_, kToolGatingModel);
  Grant({T("user:anne", "can_use", "tool:get_current_weather"),
         T("group:staff#member", "can_use", "tool:read_document"),
         T("user:bob", "member", "group:staff"), T("user:bob", "viewer", "document:plan")});
  EXPECT_TRUE(authorizer_->MayOffer(As(acme_, "anne"), weather_));
  EXPECT_FALSE(authorizer_->MayOffer(As(acme_, "bob"), weather_));
  EXPECT_FALSE(authorizer_->MayOffer(As(acme_, "anne"), *read_));
  EXPECT_TRUE(authorizer_->MayOffer(As(acme_, "bob"), *read_));

  agent::AuthzDecision d = authorizer_->AuthorizeCall(As(acme_, "bob"), weather_, {});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.relation, "can_use");
  EXPECT_EQ(d.object, "tool:get_current_weather");
  EXPECT_TRUE(Read("bob", "plan").allowed);
  EXPECT_FALSE(Read("anne", "plan").allowed);  // may not use the tool at all
}

TEST(ExpandObjectTemplateTest, FillsTheToolNameAndScalarArguments) {
  bj::object args{{"id", "42"}, {"n", 7}, {"empty", ""}, {"list", bj::array{1}}};
  EXPECT_EQ(*ExpandObjectTemplate("tool:{name}", "search", args), "tool:search");
  EXPECT_EQ(*ExpandObjectTemplate("document:{arguments.id}", "t", args), "document:42");
  EXPECT_EQ(*ExpandObjectTemplate("row:{arguments.n}-{arguments.id}", "t", args), "row:7-42");
  EXPECT_FALSE(ExpandObjectTemplate("document:{arguments.missing}", "t", args).ok());
  EXPECT_FALSE(ExpandObjectTemplate("document:{arguments.empty}", "t", args).ok());
  EXPECT_FALSE(ExpandObjectTemplate("document:{arguments.list}", "t", args).ok());
  EXPECT_FALSE(ExpandObjectTemplate("document:{user}", "t", args).ok());
  EXPECT_FALSE(ExpandObjectTemplate("document:{arguments.id", "t", args).ok());
}

// ---- the agent loop with the authorizer installed ----------------------------------------------

// Asks for one tool call, then answers with the tool's result text.
class ScriptedModel final : public agent::Model {
 public:
  explicit ScriptedModel(agent::ToolCall call) : call_(std::move(call)) {}
  std::string_view provider() const override { return "scripted"; }
  agent::Awaitable<Result<agent::ModelTurn>> Generate(const agent::ModelRequest& request,
                                                      agent::ModelEvents&) override {
    offered.clear();
    for (const auto& t : request.tools) offered.push_back(t.name);
    agent::ModelTurn turn;
    if (request.messages.back().role == agent::Role::kTool) {
      turn.text = request.messages.back().content;
    } else {
      turn.tool_calls.push_back(call_);
    }
    co_return turn;
  }
  std::vector<std::string> offered;

 private:
  agent::ToolCall call_;
};

class NoEvents final : public agent::AgentEvents {
 public:
  agent::Awaitable<Status> OnTextDelta(std::string_view) override { co_return Status::Ok(); }
  agent::Awaitable<Status> OnToolCall(const agent::ToolCall&) override { co_return Status::Ok(); }
  agent::Awaitable<Status> OnToolResult(const agent::ToolCall&,
                                        const agent::ToolResult& r) override {
    results.push_back(r);
    co_return Status::Ok();
  }
  std::vector<agent::ToolResult> results;
};

TEST_F(ToolAuthorizerTest, TheAgentRefusesADeniedCallAsNotAuthorizedAndOffersOnlyUsableTools) {
  UseModel(acme_, kDocumentModel);
  AddDocument(acme_, "secret", "Salaries", "everyone's salary");
  agent::ToolRegistry tools;
  tools.Add(read_);
  tools.Add(search_);
  tools.Add(std::make_shared<PlainTool>());
  tools.SetAuthorizer(std::make_shared<FgaToolAuthorizer>(*stores_, *db_, clock_, random_));
  auto model = std::make_shared<ScriptedModel>(
      agent::ToolCall{"call-1", "read_document", R"({"document_id":"secret"})"});
  agent::AgentLoop loop(model, tools);
  tenancy::Plan plan;
  agent::AgentRequest request;
  request.messages = {{agent::Role::kUser, "read document secret", {}, "", "", false}};
  request.plan = &plan;
  request.context = As(acme_, "anne");
  NoEvents events;

  boost::asio::io_context io;
  std::optional<Result<agent::AgentResult>> out;
  boost::asio::co_spawn(
      io, [&]() -> agent::Awaitable<void> { out.emplace(co_await loop.Run(request, events)); },
      boost::asio::detached);
  io.run();
  ASSERT_TRUE(out.has_value());
  Result<agent::AgentResult>& result = *out;
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_EQ(events.results.size(), 1u);
  EXPECT_TRUE(events.results[0].is_error);
  EXPECT_EQ(bj::parse(events.results[0].content).at("error"), "not authorized");
  EXPECT_EQ(result->text.find("everyone's salary"), std::string::npos);
  EXPECT_EQ(model->offered,
            (std::vector<std::string>{"get_current_weather", "read_document", "search_documents"}));
  auto rows = Decisions(acme_);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].decision, "deny");
  EXPECT_EQ(rows[0].object, "document:secret");
}

}  // namespace
}  // namespace gh::authz_agent
