// The catalog builds each provider from its entry: here, that a bedrock_agent entry's agent gets
// what production must send and record (its organization_type, its trace sink), observed on the
// wire against a fake bedrock-agent-runtime.
#include "main/model_catalog.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <mutex>
#include <vector>

#include "models/fake_upstream_testing.h"

namespace gh::app {
namespace {

namespace bj = boost::json;
using models::testing::EventFrame;
using models::testing::FakeUpstream;
using models::testing::RecordingEvents;
using models::testing::RunGenerate;

constexpr char kEventStream[] = "application/vnd.amazon.eventstream";

std::string Chunk(std::string_view text) {
  return EventFrame("chunk", R"({"bytes":")" + Base64Encode(text) + R"("})");
}

class ModelCatalogTest : public ::testing::Test {
 protected:
  Config AgentConfig(std::string organization_type) {
    ModelCatalogEntry e;
    e.name = "support-agent";
    e.provider = "bedrock_agent";
    e.model = "support-agent";
    e.agent_id = "AGENT1";
    e.agent_alias_id = "ALIAS1";
    e.base_url = upstream_.base_url();
    e.region = "us-east-1";
    e.aws_access_key_id = "AKIDCATALOG";
    e.aws_secret_access_key = Secret("catalog-secret-key");
    e.organization_type = std::move(organization_type);
    e.retry_max_attempts = 1;
    Config c;
    c.model_catalog[e.name] = e;
    return c;
  }
  // Registers the catalog with a sink that keeps what it is given, and runs one turn of the agent.
  models::testing::Outcome RunAgent(const Config& config) {
    auto env = aws::EnvironmentFromMap({{"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"},
                                        {"AWS_CONFIG_FILE", "/nonexistent/config"}});
    models::BedrockAgentTraceSink sink = [this](std::vector<models::BedrockAgentTrace> traces,
                                                const Status&) {
      std::lock_guard lock(mu_);
      for (auto& t : traces) traces_.push_back(std::move(t));
    };
    Status st = RegisterCatalogModels(config, registry_, http::MakeBeastHttpClient(), clock_,
                                      random_, env, sink);
    EXPECT_TRUE(st.ok()) << st.ToString();
    const agent::ModelEntry* entry = registry_.Find("support-agent");
    EXPECT_NE(entry, nullptr);
    if (!entry) return {Status::Internal("not registered"), {}};
    agent::ModelRequest r;
    r.model = entry->provider_model_id;
    r.context = {TenantId("acme-corp"),
                 UserId("user-123"),
                 "alice@acme.example",
                 "premium",
                 "admin",
                 SessionId("sess-1"),
                 TraceId(std::string(32, 'a'))};
    r.messages = {{agent::Role::kUser, "What is our AWS spend this month?", {}, "", "", false}};
    RecordingEvents events;
    return RunGenerate(*entry->model, r, events);
  }

  FakeUpstream upstream_;
  FakeClock clock_;
  SeededRandom random_{7};
  agent::ModelRegistry registry_;
  std::mutex mu_;
  std::vector<models::BedrockAgentTrace> traces_;
};

TEST_F(ModelCatalogTest, ABedrockAgentEntrySendsItsOrganizationTypeInTheSessionState) {
  upstream_.Enqueue({200, {{"content-type", kEventStream}}, {Chunk("Hi")}, {}});
  models::testing::Outcome out = RunAgent(AgentConfig("enterprise"));
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  const std::string sent = upstream_.last_request().body;
  bj::value body = bj::parse(sent);
  const bj::object& attributes = body.at("sessionState").at("sessionAttributes").as_object();
  ASSERT_TRUE(attributes.contains("organization_type")) << sent;
  EXPECT_EQ(attributes.at("organization_type"), "enterprise");
  EXPECT_EQ(attributes.at("tenant_id"), "acme-corp");
  EXPECT_EQ(body.at("sessionState").at("promptSessionAttributes").at("tenant_context"),
            "acme-corp enterprise user");
}

TEST_F(ModelCatalogTest, ABedrockAgentEntryWithoutOrganizationTypeSendsNone) {
  upstream_.Enqueue({200, {{"content-type", kEventStream}}, {Chunk("Hi")}, {}});
  models::testing::Outcome out = RunAgent(AgentConfig(""));
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  bj::value body = bj::parse(upstream_.last_request().body);
  const bj::value& state = body.at("sessionState");
  EXPECT_FALSE(state.at("sessionAttributes").as_object().contains("organization_type"));
  EXPECT_EQ(state.at("promptSessionAttributes").at("tenant_context"), "acme-corp user");
}

TEST_F(ModelCatalogTest, ABedrockAgentEntryHandsItsTraceEventsToTheSinkItWasGiven) {
  const std::string trace =
      R"({"agentId":"AGENT1","agentAliasId":"ALIAS1","sessionId":"acme-corp-user-123-sess-1",)"
      R"("trace":{"orchestrationTrace":{"rationale":{"traceId":"t-1","text":"Look it up."}}}})";
  upstream_.Enqueue(
      {200, {{"content-type", kEventStream}}, {EventFrame("trace", trace) + Chunk("Hi")}, {}});
  models::testing::Outcome out = RunAgent(AgentConfig("enterprise"));
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  std::lock_guard lock(mu_);
  ASSERT_EQ(traces_.size(), 1u);
  EXPECT_EQ(traces_[0].json, trace);
  EXPECT_EQ(traces_[0].agent_id, "AGENT1");
  EXPECT_EQ(traces_[0].context.tenant_id.value(), "acme-corp");
}

}  // namespace
}  // namespace gh::app
