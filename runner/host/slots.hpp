// Slots: the two ports a service runs on, one live behind nginx and one idle
// (DESIGN.md, "How a slot runs"). A slot is started from the start command
// template as an argument vector, tracked by pid and process group (never
// found by name), and stopped with SIGTERM, a grace period, then SIGKILL.
//
// Two ways to run one:
// - `process`: detached in its own session and process group, so it
//   outlives the deploy and the CI job; the job-kill markers Jenkins and
//   GitHub runners use to reap leftovers are removed from its environment.
// - `systemd`: a template unit `<app>@.service`, one instance per port,
//   driven with systemctl; the live instance is enabled to survive reboots.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runner/host/state.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

enum class RunAs { Process, Systemd };

// `target.run_as: auto`: systemd when it runs this host (PID 1) and the
// deployer may manage its units (root, and `unit_directory` writable), else
// process. `choose_run_as` is the rule, `run_as_on_this_host` asks the host.
RunAs choose_run_as(bool systemd_is_pid1, bool may_manage_units);
RunAs run_as_on_this_host(const std::filesystem::path& unit_directory);

struct SlotSettings {
  std::string app;
  std::string environment;  // the switchyard.yml environment, for {environment}
  std::vector<std::string> start_command = {"java", "-jar", "{artifact}", "--server.port={port}"};
  std::map<std::string, std::string> environment_variables;
  std::filesystem::path working_directory;  // empty: the release directory
  std::string user;                         // empty: the deploying user
  Duration stop_grace{std::chrono::seconds(10)};
  RunAs run_as = RunAs::Process;
  // systemd mode: where the template unit goes and how systemctl is called.
  std::filesystem::path unit_directory = "/etc/systemd/system";
  std::string systemctl = "systemctl";
  // systemd mode: where each instance's environment file goes
  // (`target.systemd.run_dir`, /run/switchyard/<app>). It holds
  // target.environment, which may be secrets, so it lives on the tmpfs /run
  // rather than in the persistent state directory, and is gone after a reboot.
  std::filesystem::path run_directory;
};

// What one start of a slot needs to know.
struct SlotLaunch {
  int port = 0;
  std::string slot;  // "blue" or "green"
  std::string version;
  std::filesystem::path artifact;
  std::filesystem::path log_file;
  std::filesystem::path release_dir;
  // A random token put in the slot's environment (SWITCHYARD_SLOT_TOKEN) and
  // recorded in state before the slot is spawned.
  std::string token;
};

// The markers CI systems put in a job's environment to find and kill what
// the job left running; a slot (and the timer that stops a warm one) must
// outlive the job, so it is started without them.
inline const std::vector<std::string> k_job_kill_markers = {"BUILD_ID", "JENKINS_NODE_COOKIE",
                                                            "RUNNER_TRACKING_ID"};

// What state records of `launch` before it runs: port, slot, version,
// artifact, log file and token (the caller adds pid, status and the rest).
SlotRecord slot_record(const SlotLaunch& launch);

// What starting `release` on `port` as `slot` needs: its artifact, its log
// file (releases/<version>/slot-<port>.log) and a new token.
SlotLaunch slot_launch(const HostPaths& paths, const ReleaseInfo& release, int port,
                       std::string slot);

// The environment variable that carries a slot's token.
inline constexpr std::string_view k_slot_token_variable = "SWITCHYARD_SLOT_TOKEN";

// A new random token (hex), for SlotLaunch::token.
std::string new_slot_token();

// The processes whose environment holds `token` (read from /proc/<pid>/environ).
// Not a search by name: the token is unique to one start of one slot, so a
// deploy killed before it recorded the pid still leaves a way to its slot.
std::vector<pid_t> find_slot_token(std::string_view token);

// Expands {artifact} {port} {version} {environment} {slot} in every argument
// of `command`. An unknown placeholder fails (exit 2) naming it.
Result<std::vector<std::string>> expand_start_command(const std::vector<std::string>& command,
                                                      const SlotSettings& settings,
                                                      const SlotLaunch& launch);

// The kernel's start time of `pid` (/proc/<pid>/stat field 22), 0 if gone.
std::uint64_t process_start_ticks(pid_t pid);

// What the process `record` names is to us. Proven: the pid runs with the
// recorded kernel start time AND the slot's token in its environment, so it
// may be signalled. Gone: no such process (or the pid was reused by a later
// program). Unproven: something runs under that pid but the record cannot
// prove it is the slot (no start time, no token, pid 1, or the token is not
// in its environment): it must never be signalled.
enum class SlotIdentity { Proven, Gone, Unproven };
SlotIdentity slot_process_identity(const SlotRecord& record);

// True when the process recorded in `record` is proven to be the slot and runs.
bool slot_process_running(const SlotRecord& record);

class SlotRunner {
 public:
  virtual ~SlotRunner() = default;
  // Starts the slot; the returned record carries pid and start time (the
  // caller sets status and the rest).
  virtual Result<SlotRecord> start(const SlotLaunch& launch) = 0;
  // True while the slot's process runs.
  virtual bool running(const SlotRecord& record) = 0;
  // SIGTERM, grace, SIGKILL (process mode) or `systemctl stop`. True when
  // it stopped within the grace period, or was not running.
  virtual bool stop(const SlotRecord& record) = 0;
  // The slot became live (systemd: enable it so it comes back after a
  // reboot) or stopped being live (systemd: disable it).
  virtual Result<void> set_boot_enabled(const SlotRecord& record, bool enabled) = 0;
  // Whether the slot's service comes back when it exits: only a live slot's
  // does. Process mode tells the slot's supervisor (slots_supervisor.hpp);
  // systemd's Restart=on-failure does it there.
  virtual void set_restart_on_exit(const SlotRecord& /*record*/, bool /*enabled*/) {}
};

// systemd mode: the environment file of the instance on `port`,
// <run_directory>/<port>.env (mode 0600, in a directory of mode 0700).
std::filesystem::path systemd_environment_file(const SlotSettings& settings, int port);

// The systemd template unit for `settings` (`<app>@.service`): ExecStart is
// the start command with {port} as %i and the per-deploy values read from
// the instance's environment file (systemd_environment_file). The file is
// required: when it is missing (after a reboot emptied /run) the instance
// fails to start rather than start without its variables. `state_dir` is
// the working directory unless target.working_directory says otherwise.
Result<std::string> systemd_unit_text(const SlotSettings& settings,
                                      const std::filesystem::path& state_dir);

// The runner `settings.run_as` names; `state_dir` is systemd mode's default
// working directory.
std::unique_ptr<SlotRunner> make_slot_runner(const SlotSettings& settings,
                                             const std::filesystem::path& state_dir);

}  // namespace switchyard
