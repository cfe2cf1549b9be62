// gatehouse: the command line. `serve` runs the gateway; more subcommands join as they arrive.
#include <CLI/CLI.hpp>
#include <functional>

#include <cstdlib>
#include <iostream>

#include "authz/store_file_runner.h"
#include "main/admin_cli.h"
#include "main/app.h"
#include "main/config.h"

int main(int argc, char** argv) {
  CLI::App app{"Gatehouse: a self-hosted, multi-tenant gateway and runtime for AI agents"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gatehouse 0.1.0");

  gh::app::CliOverrides cli;
  std::string listen, data_dir, config_file;
  auto* serve = app.add_subcommand("serve", "Run the gateway");
  serve->add_option("--listen", listen,
                    "HOST:PORT to listen on (default 127.0.0.1:8000; port 0 picks a free port)");
  serve->add_option("--data-dir", data_dir, "Data directory (default ./data)");
  serve->add_option("--config", config_file, "YAML configuration file");
  serve->add_flag("--demo", cli.demo, "Create demo tenants and users on first start");

  gh::app::AdminCommand admin_cmd;
  std::string admin_data_dir, admin_config;
  auto* admin =
      app.add_subcommand("admin", "Operator commands on a data directory (no server needed)");
  admin->add_option("--data-dir", admin_data_dir, "Data directory (default ./data)");
  admin->add_option("--config", admin_config, "YAML configuration file");
  gh::app::AddAdminCommands(*admin, admin_cmd);
  // `admin audit verify --data-dir D` as well as `admin --data-dir D audit verify`.
  std::function<void(CLI::App*)> add_common = [&](CLI::App* cmd) {
    for (CLI::App* sub : cmd->get_subcommands([](CLI::App*) { return true; })) {
      if (sub->get_subcommands([](CLI::App*) { return true; }).empty()) {
        sub->add_option("--data-dir", admin_data_dir, "Data directory (default ./data)");
        sub->add_option("--config", admin_config, "YAML configuration file");
      } else {
        add_common(sub);
      }
    }
  };
  add_common(admin);

  std::vector<std::string> fga_files;
  auto* fga = app.add_subcommand("fga", "Authorization model tools");
  fga->require_subcommand(1);
  auto* fga_test =
      fga->add_subcommand("test", "Run store files (the `fga model test` format) and report");
  fga_test->add_option("files", fga_files, "Store files (.fga.yaml)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  auto env = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  if (fga_test->parsed()) {
    int rc = 0;
    for (const auto& f : fga_files) rc = std::max(rc, gh::authz::RunStoreFile(f, std::cout));
    return rc;
  }
  if (admin->parsed()) {
    gh::app::CliOverrides overrides;
    if (!admin_data_dir.empty()) overrides.data_dir = admin_data_dir;
    if (!admin_config.empty()) overrides.config_file = admin_config;
    auto config = gh::app::LoadConfig(overrides, env);
    if (!config.ok()) {
      std::cerr << "gatehouse: " << config.status().message() << "\n";
      return 2;
    }
    return gh::app::RunAdmin(*config, admin_cmd);
  }
  if (serve->parsed()) {
    if (!listen.empty()) cli.listen = listen;
    if (!data_dir.empty()) cli.data_dir = data_dir;
    if (!config_file.empty()) cli.config_file = config_file;
    auto config = gh::app::LoadConfig(cli, env);
    if (!config.ok()) {
      std::cerr << "gatehouse: " << config.status().message() << "\n";
      return 2;
    }
    return gh::app::Serve(*config);
  }
  return 0;
}
