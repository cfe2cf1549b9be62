#include "main/config.h"

#include <gtest/gtest.h>

#include <fstream>

namespace gh::app {
namespace {

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

std::string WriteYaml(const std::string& text) {
  static int n = 0;
  std::string path =
      "/tmp/gh-config-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".yaml";
  std::ofstream(path) << text;
  return path;
}

TEST(ConfigTest, DefaultsAreTheEmbeddedSetup) {
  auto c = LoadConfig({}, Env({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen_host, "127.0.0.1");
  EXPECT_EQ(c->listen_port, 8000);
  EXPECT_EQ(c->data_dir, "./data");
  EXPECT_EQ(c->default_model, "offline");
  EXPECT_EQ(c->mail_kind, "outbox");
  ASSERT_EQ(c->plans.size(), 3u);
  EXPECT_EQ(*c->plans.at("advanced").messages_per_day, 200);
  EXPECT_TRUE(c->metering.recorder.durable) << "usage events on stable storage before answering";
  EXPECT_EQ(c->metering.recorder.linger, std::chrono::milliseconds(20));
}

TEST(ConfigTest, TheSpansLingerIsConfigurableWithinBounds) {
  auto set = LoadConfig({}, Env({{"GATEHOUSE_METERING_TRACE_LINGER_MS", "0"}}));
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->metering.recorder.linger, std::chrono::milliseconds(0));
  auto bad = LoadConfig({}, Env({{"GATEHOUSE_METERING_TRACE_LINGER_MS", "60000"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'metering.trace_linger_ms'"), std::string::npos)
      << bad.status().message();
}

TEST(ConfigTest, DurableMeteringCommitsCanBeTurnedOffAndBadValuesNameTheKey) {
  auto off = LoadConfig({}, Env({{"GATEHOUSE_METERING_DURABLE_COMMITS", "false"}}));
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_FALSE(off->metering.recorder.durable);
  CliOverrides cli;
  cli.config_file = WriteYaml("metering:\n  durable_commits: sometimes\n");
  auto bad = LoadConfig(cli, Env({}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'metering.durable_commits'"), std::string::npos)
      << bad.status().message();
}

TEST(ConfigTest, FileThenEnvironmentThenFlagsWin) {
  std::string file = WriteYaml(
      "listen: 0.0.0.0:9000\ndata_dir: /tmp/from-file\nserver:\n  threads: 3\n"
      "plans:\n  basic:\n    messages_per_day: 5\n  team:\n    messages_per_day: 7\n    "
      "weather_tool: full\n");
  CliOverrides cli;
  cli.config_file = file;
  cli.data_dir = "/tmp/from-flag";
  auto c = LoadConfig(
      cli, Env({{"GATEHOUSE_LISTEN", "127.0.0.1:9100"}, {"GATEHOUSE_SERVER_THREADS", "2"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen_port, 9100);
  EXPECT_EQ(c->data_dir, "/tmp/from-flag");
  EXPECT_EQ(c->threads, 2);
  EXPECT_EQ(*c->plans.at("basic").messages_per_day, 5);
  EXPECT_EQ(*c->plans.at("team").messages_per_day, 7);
  EXPECT_EQ(c->plans.at("team").weather_tool, "full");
}

TEST(ConfigTest, ARealModelBecomesTheDefaultWhenConfigured) {
  auto c = LoadConfig(
      {}, Env({{"OPENAI_BASE_URL", "http://127.0.0.1:1/v1"}, {"OPENAI_MODEL", "llama3"}}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->default_model, "llama3");
}

TEST(ConfigTest, BadSettingsNameTheKey) {
  struct Case {
    std::string yaml;
    std::string key;
  } cases[] = {
      {"listen: nonsense\n", "'listen'"},
      {"server:\n  threads: many\n", "'server.threads'"},
      {"server:\n  max_body_bytes: 1\n", "'server.max_body_bytes'"},
      {"serverx: 1\n", "'serverx'"},
      {"mail:\n  kind: pigeon\n", "'mail.kind'"},
      {"plans:\n  basic:\n    weather_tool: sometimes\n", "'plans.basic.weather_tool'"},
      {"plans:\n  basic:\n    colour: red\n", "'plans.basic.colour'"},
      {"demo: maybe\n", "'demo'"},
      {"log_level: loud\n", "'log_level'"},
      {"models:\n  default: gpt-5\n", "'models.default'"},
  };
  for (const auto& c : cases) {
    CliOverrides cli;
    cli.config_file = WriteYaml(c.yaml);
    auto r = LoadConfig(cli, Env({}));
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_NE(r.status().message().find(c.key), std::string::npos) << r.status().message();
  }
  CliOverrides missing;
  missing.config_file = "/nonexistent/gatehouse.yaml";
  EXPECT_FALSE(LoadConfig(missing, Env({})).ok());
  CliOverrides broken;
  broken.config_file = WriteYaml("listen: [unclosed\n");
  EXPECT_FALSE(LoadConfig(broken, Env({})).ok());
}

TEST(ConfigTest, TheModelCatalogReadsEveryProviderWithSecretsFromTheEnvironment) {
  std::string file = WriteYaml(
      "models:\n  default: claude\n  catalog:\n"
      "    claude:\n      provider: anthropic\n      model: claude-3-5-haiku-latest\n      "
      "timeout_ms: 5000\n"
      "      retry_max_attempts: 5\n      retry_initial_backoff_ms: 10\n"
      "    gpt-4.1:\n      provider: openai\n      base_url: http://127.0.0.1:9/v1\n      api_key: "
      "sk-from-file\n"
      "    haiku-bedrock:\n      provider: bedrock\n      model: "
      "anthropic.claude-3-haiku-20240307-v1:0\n"
      "      region: eu-west-1\n      aws_access_key_id: AKIDEXAMPLE\n"
      "plans:\n  premium:\n    fallback_models: [gpt-4.1, haiku-bedrock]\n    max_agent_seconds: "
      "30\n");
  CliOverrides cli;
  cli.config_file = file;
  auto c = LoadConfig(
      cli, Env({{"GATEHOUSE_MODELS_CATALOG_CLAUDE_API_KEY", "sk-ant-from-env"},
                {"GATEHOUSE_MODELS_CATALOG_GPT_4_1_API_KEY", "sk-from-env"},
                {"GATEHOUSE_MODELS_CATALOG_HAIKU_BEDROCK_AWS_SECRET_ACCESS_KEY", "wJalr"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->default_model, "claude");
  ASSERT_EQ(c->model_catalog.size(), 3u);
  const ModelCatalogEntry& claude = c->model_catalog.at("claude");
  EXPECT_EQ(claude.provider, "anthropic");
  EXPECT_EQ(claude.model, "claude-3-5-haiku-latest");
  EXPECT_EQ(claude.api_key.reveal(), "sk-ant-from-env");
  EXPECT_EQ(claude.timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(claude.retry_max_attempts, 5);
  EXPECT_EQ(claude.retry_initial_backoff, std::chrono::milliseconds(10));
  const ModelCatalogEntry& gpt = c->model_catalog.at("gpt-4.1");
  EXPECT_EQ(gpt.model, "gpt-4.1");                 // the name, when no model id is given
  EXPECT_EQ(gpt.api_key.reveal(), "sk-from-env");  // the environment wins over the file
  const ModelCatalogEntry& bedrock = c->model_catalog.at("haiku-bedrock");
  EXPECT_EQ(*bedrock.region, "eu-west-1");
  EXPECT_EQ(bedrock.aws_secret_access_key->reveal(), "wJalr");
  EXPECT_EQ(c->plans.at("premium").fallback_models,
            (std::vector<std::string>{"gpt-4.1", "haiku-bedrock"}));
  EXPECT_EQ(c->plans.at("premium").max_agent_seconds, 30);
}

TEST(ConfigTest, ABedrockAgentEntryReadsItsOrganizationTypeFromTheFileOrTheEnvironment) {
  const std::string agents =
      "models:\n  catalog:\n"
      "    agent-enterprise:\n      provider: bedrock_agent\n      agent_id: A1\n"
      "      agent_alias_id: L1\n      organization_type: enterprise\n"
      "    agent-startup:\n      provider: bedrock_agent\n      agent_id: A1\n"
      "      agent_alias_id: L1\n"
      "    agent-plain:\n      provider: bedrock_agent\n      agent_id: A1\n"
      "      agent_alias_id: L1\n";
  CliOverrides cli;
  cli.config_file = WriteYaml(agents);
  auto c =
      LoadConfig(cli, Env({{"GATEHOUSE_MODELS_CATALOG_AGENT_STARTUP_ORGANIZATION_TYPE", "startup"},
                           {"AWS_ACCESS_KEY_ID", "AKID"},
                           {"AWS_SECRET_ACCESS_KEY", "s"},
                           {"AWS_REGION", "us-east-1"},
                           {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"},
                           {"AWS_CONFIG_FILE", "/nonexistent/config"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->model_catalog.at("agent-enterprise").organization_type, "enterprise");
  EXPECT_EQ(c->model_catalog.at("agent-startup").organization_type, "startup");
  EXPECT_EQ(c->model_catalog.at("agent-plain").organization_type, "");
}

TEST(ConfigTest, BadCatalogEntriesNameTheKey) {
  auto load = [](const std::string& yaml, std::map<std::string, std::string> env = {}) {
    CliOverrides cli;
    cli.config_file = WriteYaml(yaml);
    env.emplace("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
    env.emplace("AWS_CONFIG_FILE", "/nonexistent/config");
    return LoadConfig(cli, Env(env));
  };
  auto expect_key = [](const Result<Config>& c, const std::string& key) {
    ASSERT_FALSE(c.ok()) << key;
    EXPECT_EQ(c.status().error_code(), "invalid_config");
    EXPECT_NE(c.status().message().find("'" + key + "'"), std::string::npos)
        << c.status().message();
  };
  expect_key(load("models:\n  catalog:\n    m:\n      provider: telepathy\n"),
             "models.catalog.m.provider");
  expect_key(load("models:\n  catalog:\n    m:\n      model: x\n"), "models.catalog.m.provider");
  expect_key(load("models:\n  catalog:\n    m:\n      provider: openai\n      colour: blue\n"),
             "models.catalog.m.colour");
  expect_key(load("models:\n  catalog:\n    m:\n      provider: openai\n      base_url: ftp://x\n"),
             "models.catalog.m.base_url");
  expect_key(
      load("models:\n  catalog:\n    m:\n      provider: openai\n      retry_max_attempts: 0\n"),
      "models.catalog.m.retry_max_attempts");
  expect_key(
      load("models:\n  catalog:\n    a:\n      provider: bedrock_agent\n      agent_id: X\n"),
      "models.catalog.a.agent_alias_id");
  const std::map<std::string, std::string> aws = {
      {"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "s"}, {"AWS_REGION", "us-east-1"}};
  expect_key(load("models:\n  catalog:\n    m:\n      provider: openai\n"
                  "      organization_type: enterprise\n"),
             "models.catalog.m.organization_type");
  expect_key(load("models:\n  catalog:\n    a:\n      provider: bedrock_agent\n      agent_id: X\n"
                  "      agent_alias_id: Y\n      organization_type: \"" +
                      std::string(65, 'o') + "\"\n",
                  aws),
             "models.catalog.a.organization_type");
  expect_key(load("models:\n  catalog:\n    a:\n      provider: bedrock_agent\n      agent_id: X\n"
                  "      agent_alias_id: Y\n      organization_type: \"ent\\nuser\"\n",
                  aws),
             "models.catalog.a.organization_type");
  expect_key(
      load("models:\n  catalog:\n    b:\n      provider: bedrock\n      aws_access_key_id: AKID\n"
           "      aws_secret_access_key: s\n"),
      "models.catalog.b.region");
  expect_key(
      load("models:\n  catalog:\n    b:\n      provider: bedrock\n      region: us-east-1\n"),
      "models.catalog.b.aws_access_key_id");
  expect_key(load("models:\n  default: nowhere\n"), "models.default");
  expect_key(load("plans:\n  basic:\n    fallback_models: [nowhere]\n"),
             "plans.basic.fallback_models");
  expect_key(load("plans:\n  basic:\n    max_agent_seconds: 0\n"), "plans.basic.max_agent_seconds");
  // A secret in a bad entry is never repeated in the error.
  auto c =
      load("models:\n  catalog:\n    m:\n      provider: nope\n      api_key: sk-never-shown\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().find("sk-never-shown"), std::string::npos);
}

}  // namespace
}  // namespace gh::app
