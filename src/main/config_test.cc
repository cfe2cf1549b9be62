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
  std::string path = "/tmp/gh-config-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".yaml";
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
}

TEST(ConfigTest, FileThenEnvironmentThenFlagsWin) {
  std::string file = WriteYaml("listen: 0.0.0.0:9000\ndata_dir: /tmp/from-file\nserver:\n  threads: 3\n"
                               "plans:\n  basic:\n    messages_per_day: 5\n  team:\n    messages_per_day: 7\n    weather_tool: full\n");
  CliOverrides cli;
  cli.config_file = file;
  cli.data_dir = "/tmp/from-flag";
  auto c = LoadConfig(cli, Env({{"GATEHOUSE_LISTEN", "127.0.0.1:9100"}, {"GATEHOUSE_SERVER_THREADS", "2"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen_port, 9100);
  EXPECT_EQ(c->data_dir, "/tmp/from-flag");
  EXPECT_EQ(c->threads, 2);
  EXPECT_EQ(*c->plans.at("basic").messages_per_day, 5);
  EXPECT_EQ(*c->plans.at("team").messages_per_day, 7);
  EXPECT_EQ(c->plans.at("team").weather_tool, "full");
}

TEST(ConfigTest, ARealModelBecomesTheDefaultWhenConfigured) {
  auto c = LoadConfig({}, Env({{"OPENAI_BASE_URL", "http://127.0.0.1:1/v1"}, {"OPENAI_MODEL", "llama3"}}));
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

}  // namespace
}  // namespace gh::app
