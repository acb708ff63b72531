#include "runner/host/status.hpp"

#include <unistd.h>

#include <fstream>
#include <thread>

#include "runner/core/log.hpp"
#include "runner/host/lock.hpp"
#include "runner/host/slots_supervisor.hpp"
#include "runner/host/switch.hpp"
#include "runner/net/health.hpp"
#include "runner/util/process.hpp"

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

}  // namespace

Result<HostStatus> host_status(const HostSettings& settings) {
  Host host(settings);
  if (auto loaded = host.load(); !loaded) return loaded.error();
  HostStatus status;
  status.app = settings.app;
  status.previous_version = host.state().previous_version;
  if (auto port = host.nginx().live_port()) status.nginx_port = *port;
  // The lock's last holder still running: a deploy is under way, and a
  // starting slot is its own.
  auto holder = read_lock_holder(host.paths().lock_file());
  bool deploying = holder.pid > 0 && process_alive(holder.pid);
  for (const auto& slot : host.state().slots) {
    if (slot.status == SlotStatus::Warm && host.slots().running(slot)) {
      status.warm_version = slot.version;
    }
    if (slot.status == SlotStatus::Starting && !deploying) {
      status.abandoned_version = slot.version;
      status.abandoned_port = slot.port;
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
  if (!status.running && settings.slots.run_as == RunAs::Systemd) {
    auto environment_file = systemd_environment_file(settings.slots, live->port);
    std::error_code error;
    if (!std::filesystem::exists(environment_file, error)) {
      status.missing_environment_file = environment_file.string();
    }
  }
  if (auto supervisor = read_supervisor_status(supervisor_status_file(live->log_file))) {
    status.supervised = true;
    status.restarts = supervisor->restarts;
    status.last_exit = supervisor->last_exit;
    status.last_exit_at = supervisor->last_exit_at;
  }

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
  if (!status.missing_environment_file.empty()) {
    text += "  env file: " + status.missing_environment_file +
            " is gone (a reboot empties /run), so systemd cannot start " + status.app + "@" +
            std::to_string(status.port) +
            ".service; run `switchyard restore` where the deploy's variables are set, or deploy "
            "again\n";
  }
  text += "  uptime:   " + format_uptime(status.uptime_seconds) + "\n";
  if (status.supervised) {
    text += "  restarts: " + std::to_string(status.restarts) +
            (status.last_exit.empty() || status.restarts == 0
                 ? std::string()
                 : " (last exit: " + status.last_exit + " at " + status.last_exit_at + ")") +
            "\n";
  }
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
  if (!status.abandoned_version.empty()) {
    text += "  left:     " + status.abandoned_version + " on port " +
            std::to_string(status.abandoned_port) +
            ", started by a deploy that was killed; the next deploy stops it\n";
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

}  // namespace switchyard
