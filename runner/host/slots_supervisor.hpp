// The supervisor of a `process`-mode slot: a small parent of the service's
// process (`switchyard supervise-slot`, started detached by the slot runner)
// that is what state records and what stop signals reach. It restarts the
// service with backoff when it exits, but only once the slot became live (a
// deploy arms it with SIGUSR1 and disarms it with SIGUSR2); a starting slot
// whose service exits ends with it, so its deploy fails as before. The
// service shares the supervisor's process group, log file and environment.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

// The hidden subcommand of the `switchyard` command that supervises a slot.
inline constexpr std::string_view k_supervise_command = "supervise-slot";

// What `switchyard status` shows of a supervised slot, kept by the
// supervisor in a small JSON file beside the slot's log.
struct SupervisorStatus {
  bool armed = false;        // restarts the service when it exits
  int restarts = 0;          // how often it did
  pid_t service_pid = 0;     // the service's process now, 0 while restarting
  std::string last_exit;     // "signal 9 (Killed)", "exit 1", "" before any
  std::string last_exit_at;  // UTC time of that exit
};

// The supervisor's status file for a slot logging to `log_file`.
std::filesystem::path supervisor_status_file(const std::filesystem::path& log_file);

// The file's contents, or nullopt when it is missing or unreadable (a slot
// started without a supervisor).
std::optional<SupervisorStatus> read_supervisor_status(const std::filesystem::path& file);

// The argument vector that runs `service` under a supervisor, or nullopt when
// the `switchyard` command is found neither beside this executable nor in
// PATH (the slot then runs unsupervised, as before).
std::optional<std::vector<std::string>> supervised_command(
    const std::vector<std::string>& service, const std::filesystem::path& status_file);

// True when `pid` is a slot supervisor (its command line says so), so that a
// live slot started before supervisors existed is never sent SIGUSR1, whose
// default action would end it.
bool is_slot_supervisor(pid_t pid);

// The backoff before restart number `restart` (1-based): 200 ms, doubling,
// at most 30 s.
Duration restart_backoff(int restart);

// Runs `service` and supervises it until it ends unarmed or a stop signal
// arrives; the exit code to end with (the service's, or 128 + its signal).
int supervise_slot(const std::vector<std::string>& service,
                   const std::filesystem::path& status_file);

}  // namespace switchyard
