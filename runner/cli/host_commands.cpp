#include "runner/cli/host_commands.hpp"
#include "runner/util/interrupt.hpp"

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <thread>

#include "runner/core/ci.hpp"
#include "runner/core/log.hpp"
#include "runner/host/lock.hpp"
#include "runner/host/slots_supervisor.hpp"
#include "runner/host/status.hpp"
#include "runner/host/switch.hpp"
#include "runner/net/health.hpp"
#include "runner/util/process.hpp"

namespace switchyard {

namespace {

void put_status(const HostStatus& status, boost::json::object& result) {
  result["app"] = status.app;
  result["version"] = status.version;
  result["port"] = status.port;
  result["slot"] = status.slot;
  result["pid"] = status.pid;
  result["running"] = status.running;
  result["uptime_seconds"] = status.uptime_seconds;
  result["healthy"] = status.healthy;
  result["health"] = status.health;
  result["previous_version"] = status.previous_version;
  result["warm_version"] = status.warm_version;
  result["nginx_port"] = status.nginx_port;
  result["supervised"] = status.supervised;
  result["restarts"] = status.restarts;
  result["last_exit"] = status.last_exit;
  result["last_exit_at"] = status.last_exit_at;
  result["abandoned_version"] = status.abandoned_version;
  result["abandoned_port"] = status.abandoned_port;
  result["missing_environment_file"] = status.missing_environment_file;
}
}  // namespace

Result<HostSettings> load_host_settings(const StepContext& context,
                                        const std::map<std::string, std::string>& flags) {
  auto config = context.load_config(flags);
  if (!config) return config.error();
  return load_host_settings(*config);
}

CLI::Option* add_lock_timeout_flag(CLI::App& app, CommonOptions& options) {
  return add_config_flag(app, options, "--lock-timeout", "target.lock_timeout",
                         "how long to wait for another deploy's host lock (default 10m)")
      ->type_name("DUR");
}

int expire_warm_main(int argc, char** argv) {
  CLI::App app{
      "switchyard expire-warm: stop a warm slot once its time is up (run by "
      "switch-traffic; not for people)"};
  std::string state_dir;
  std::string token;
  std::string after = "0s";
  std::string grace = "10s";
  int port = 0;
  app.add_option("--state-dir", state_dir)->required();
  app.add_option("--port", port)->required();
  app.add_option("--token", token)->required();
  app.add_option("--after", after);
  app.add_option("--grace", grace);
  CommonOptions options;
  return run_step("switchyard expire-warm", app, options, argc, argv,
                  [&](StepContext&) -> Result<void> {
                    auto wait = parse_duration(after);
                    if (!wait) return wait.error();
                    auto stop_grace = parse_duration(grace);
                    if (!stop_grace) return stop_grace.error();
                    // Waits, but gives up when the host's state directory goes away (the
                    // app was removed from the host), so nothing is recreated.
                    HostPaths paths{state_dir};
                    auto deadline = std::chrono::steady_clock::now() + *wait;
                    while (std::chrono::steady_clock::now() < deadline && !interrupted()) {
                      if (!std::filesystem::exists(paths.state_file())) return {};
                      std::this_thread::sleep_for(std::chrono::milliseconds(100));
                    }
                    if (interrupted() || !std::filesystem::exists(paths.state_file())) return {};
                    return expire_warm_slot(paths, port, token, *stop_grace);
                  });
}

int supervise_slot_main(int argc, char** argv) {
  // `supervise-slot --status-file FILE -- COMMAND...`: started by the slot
  // runner, never by a person, so no step frame (no config, no logging setup).
  std::filesystem::path status_file;
  std::vector<std::string> service;
  for (int i = 1; i < argc; ++i) {
    std::string_view argument = argv[i];
    if (argument == "--status-file" && i + 1 < argc) {
      status_file = argv[++i];
    } else if (argument == "--") {
      service.assign(argv + i + 1, argv + argc);
      break;
    }
  }
  if (status_file.empty() || service.empty()) {
    std::cerr << "switchyard " << k_supervise_command
              << ": usage: --status-file FILE -- COMMAND...; switch-traffic runs it, not people\n";
    return static_cast<int>(ExitCode::Usage);
  }
  return supervise_slot(service, status_file);
}

int status_main(int argc, char** argv) {
  CLI::App app{
      "switchyard status: what runs on this host (live version, port, pid, uptime, health)"};
  CommonOptions options;
  add_common_options(app, options, false);
  return run_step("switchyard status", app, options, argc, argv,
                  [&](StepContext& context) -> Result<void> {
                    auto settings = load_host_settings(context);
                    if (!settings) return settings.error();
                    auto status = host_status(*settings);
                    if (!status) return status.error();
                    put_status(*status, context.result);
                    if (!context.options.json) std::cout << format_host_status(*status);
                    return {};
                  });
}

int restore_main(int argc, char** argv) {
  CLI::App app{
      "switchyard restore: after a reboot, start the live release again on its port (process "
      "mode) and gate it on health; nginx already points there"};
  CommonOptions options;
  add_common_options(app, options, false);
  add_lock_timeout_flag(app, options);
  return run_step("switchyard restore", app, options, argc, argv,
                  [&](StepContext& context) -> Result<void> {
                    auto settings = load_host_settings(context);
                    if (!settings) return settings.error();
                    auto status = restore_live_release(*settings);
                    if (!status) return status.error();
                    put_status(*status, context.result);
                    if (!context.options.json) std::cout << format_host_status(*status);
                    return {};
                  });
}

}  // namespace switchyard
