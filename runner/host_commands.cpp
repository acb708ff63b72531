#include "runner/host_commands.hpp"

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <thread>

#include "runner/ci.hpp"
#include "runner/health.hpp"
#include "runner/host_lock.hpp"
#include "runner/log.hpp"
#include "runner/process.hpp"
#include "runner/switch.hpp"

namespace switchyard {

namespace {

// Seconds since `start_ticks` (the kernel's start time of a process), or -1.
std::int64_t uptime_from_ticks(std::uint64_t start_ticks) {
  if (start_ticks == 0) return -1;
  std::ifstream in("/proc/uptime");
  double since_boot = 0;
  if (!(in >> since_boot)) return -1;
  long hz = ::sysconf(_SC_CLK_TCK);
  if (hz <= 0) return -1;
  auto started = static_cast<double>(start_ticks) / static_cast<double>(hz);
  return static_cast<std::int64_t>(since_boot - started);
}

std::string format_uptime(std::int64_t seconds) {
  if (seconds < 0) return "unknown";
  if (seconds < 120) return std::to_string(seconds) + "s";
  if (seconds < 7200) return std::to_string(seconds / 60) + "m";
  if (seconds < 172800) return std::to_string(seconds / 3600) + "h";
  return std::to_string(seconds / 86400) + "d";
}

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
}

}  // namespace

Result<HostSettings> load_host_settings(const StepContext& context,
                                        const std::map<std::string, std::string>& flags) {
  auto config = context.load_config(flags);
  if (!config) return config.error();
  return load_host_settings(*config);
}

Result<HostStatus> host_status(const HostSettings& settings) {
  Host host(settings);
  if (auto loaded = host.load(); !loaded) return loaded.error();
  HostStatus status;
  status.app = settings.app;
  status.previous_version = host.state().previous_version;
  if (auto port = host.nginx().live_port()) status.nginx_port = *port;
  for (const auto& slot : host.state().slots) {
    if (slot.status == SlotStatus::Warm && host.slots().running(slot)) {
      status.warm_version = slot.version;
    }
  }
  const SlotRecord* live = host.state().live();
  if (live == nullptr) return status;
  status.version = live->version;
  status.port = live->port;
  status.slot = live->slot;
  status.pid = live->pid;
  status.running = host.slots().running(*live);
  if (status.running) status.uptime_seconds = uptime_from_ticks(live->start_ticks);

  // One probe, straight at the live slot.
  HealthCheck check;
  check.urls = {"http://127.0.0.1:" + std::to_string(live->port) + settings.health.path};
  check.expect.status = settings.health.expect_status;
  check.timeout = settings.health.request_timeout;
  check.request_timeout = settings.health.request_timeout;
  check.give_up = [] { return true; };
  auto report = wait_healthy(check);
  status.healthy = report.healthy;
  status.health = report.healthy ? "healthy" : last_health_answer(report);
  return status;
}

std::string format_host_status(const HostStatus& status) {
  if (status.version.empty()) {
    return status.app + ": nothing live yet (no deploy recorded)\n";
  }
  std::string text;
  text += status.app + " " + status.version + " on port " + std::to_string(status.port) + " (" +
          status.slot + ")\n";
  text += "  pid:      " + std::to_string(status.pid) +
          (status.running ? "" : " (not running; run `switchyard restore`)") + "\n";
  text += "  uptime:   " + format_uptime(status.uptime_seconds) + "\n";
  text += "  health:   " + status.health + "\n";
  text += "  nginx:    " +
          (status.nginx_port == 0 ? std::string("unknown")
                                  : "port " + std::to_string(status.nginx_port) +
                                        (status.nginx_port == status.port ? "" : " (MISMATCH)")) +
          "\n";
  if (!status.previous_version.empty()) {
    text += "  previous: " + status.previous_version +
            (status.warm_version == status.previous_version ? " (warm)" : "") + "\n";
  }
  return text;
}

Result<HostStatus> restore_live_release(const HostSettings& settings) {
  Host host(settings);
  const SlotRecord* recorded = nullptr;
  if (auto loaded = host.load(); !loaded) return loaded.error();
  recorded = host.state().live();
  std::string label = recorded != nullptr ? recorded->version : "";
  if (auto locked = host.lock("restoring", label); !locked) return locked.error();
  // Read again under the lock: a deploy may have finished meanwhile.
  if (auto loaded = host.load(); !loaded) return loaded.error();
  recorded = host.state().live();
  if (recorded == nullptr) {
    return failure(settings.paths.state_file().string() +
                   ": no live release recorded; deploy one with switchyard-switch-traffic");
  }
  SlotRecord slot = *recorded;
  std::string subject = settings.app + " " + slot.version + " on port " + std::to_string(slot.port);
  if (host.slots().running(slot)) {
    log::info("{}: running (pid {}); nothing to restore", subject, slot.pid);
    return host_status(settings);
  }
  if (auto port = host.nginx().live_port(); port && *port != slot.port) {
    log::warn("nginx points at port {}, not at the recorded live port {}", *port, slot.port);
  }

  auto release = read_release_info(host.paths(), slot.version);
  if (!release) return release.error();
  HistoryRecord record;
  record.action = "restore";
  record.who = deploy_actor(current_environment());
  record.app = settings.app;
  record.version = slot.version;
  record.sha256 = slot.sha256;
  record.to_port = slot.port;
  record.to_slot = slot.slot;
  auto finish = [&](std::string outcome, std::string reason) {
    record.time = utc_now();
    record.outcome = std::move(outcome);
    record.reason = std::move(reason);
    if (auto appended = append_history(host.paths(), record); !appended) {
      log::warn("{}", appended.error().message);
    }
  };

  // Start it again, recorded first (with its token) like a deploy does.
  SlotLaunch launch = slot_launch(host.paths(), *release, slot.port, slot.slot);
  slot.token = launch.token;
  slot.pid = 0;
  slot.start_ticks = 0;
  host.state().put(slot);
  if (auto saved = host.save(); !saved) return saved.error();
  log::info("{}: not running; starting it again", subject);
  auto started = host.slots().start(launch);
  if (!started) {
    finish("failed", started.error().message);
    return started.error();
  }
  slot.pid = started->pid;
  slot.start_ticks = started->start_ticks;
  slot.log_file = started->log_file;
  slot.since = utc_now();
  host.state().put(slot);
  if (auto saved = host.save(); !saved) return saved.error();

  auto report = gate_on_health(host, slot);
  if (!report.healthy) {
    record.last_health = last_health_answer(report);
    record.log_tail = file_tail(slot.log_file, 20);
    host.slots().stop(slot);
    std::string message = subject + ": not healthy after " +
                          format_duration(settings.health.timeout) + " (" +
                          last_health_answer(report) + "); nothing serves on port " +
                          std::to_string(slot.port) + "; see " + slot.log_file.string();
    finish("failed", message);
    return failure(message);
  }
  (void)host.slots().set_boot_enabled(slot, true);
  finish("success", "");
  log::info("{}: restored (pid {})", subject, slot.pid);
  return host_status(settings);
}

Result<void> expire_warm_slot(const HostPaths& paths, int port, const std::string& token,
                              Duration grace) {
  LockHolder self;
  self.pid = ::getpid();
  self.action = "stopping the warm slot on port";
  self.version = std::to_string(port);
  self.since = utc_now();
  auto lock = HostLock::acquire(paths.lock_file(), self, std::chrono::minutes(30));
  if (!lock) return lock.error();
  auto state = read_state(paths);
  if (!state) return state.error();
  auto* slot = state->find_port(port);
  // Anything else happened meanwhile (a rollback made it live, a deploy
  // replaced it): not ours to stop any more.
  if (slot == nullptr || slot->status != SlotStatus::Warm || slot->token != token) return {};
  log::info("port {}: {} was kept warm until {}; stopping it", port, slot->version,
            slot->warm_until);
  if (slot_process_running(*slot)) stop_process_group(slot->pid, grace);
  slot->status = SlotStatus::Stopped;
  slot->since = utc_now();
  slot->warm_until.clear();
  return write_state(paths, *state);
}

bool schedule_warm_expiry(const HostPaths& paths, const SlotRecord& slot, Duration keep_warm,
                          Duration grace) {
  std::error_code error;
  auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  // The switchyard command beside this step's executable, else in PATH.
  std::filesystem::path command = self.parent_path() / "switchyard";
  if (error || ::access(command.c_str(), X_OK) != 0) command = find_program("switchyard");
  if (command.empty()) {
    log::warn(
        "switchyard: not found beside {} or in PATH; the warm slot on port {} is stopped "
        "by the next deploy instead",
        self.string(), slot.port);
    return false;
  }
  ProcessSpec spec;
  spec.argv = {command.string(), "expire-warm",
               "--state-dir",    paths.state_dir.string(),
               "--port",         std::to_string(slot.port),
               "--token",        slot.token,
               "--after",        format_duration(keep_warm),
               "--grace",        format_duration(grace)};
  spec.unset_environment = k_job_kill_markers;
  auto spawned = spawn_detached(spec, paths.state_dir / "keep-warm.log");
  if (!spawned) {
    log::warn("{}; the warm slot on port {} is stopped by the next deploy instead",
              spawned.error().message, slot.port);
    return false;
  }
  return true;
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
  std::string lock_timeout;
  add_common_options(app, options, false);
  app.add_option("--lock-timeout", lock_timeout,
                 "how long to wait for the host lock (default 10m)");
  return run_step("switchyard restore", app, options, argc, argv,
                  [&](StepContext& context) -> Result<void> {
                    std::map<std::string, std::string> flags;
                    if (!lock_timeout.empty()) flags["target.lock_timeout"] = lock_timeout;
                    auto settings = load_host_settings(context, flags);
                    if (!settings) return settings.error();
                    auto status = restore_live_release(*settings);
                    if (!status) return status.error();
                    put_status(*status, context.result);
                    if (!context.options.json) std::cout << format_host_status(*status);
                    return {};
                  });
}

}  // namespace switchyard
