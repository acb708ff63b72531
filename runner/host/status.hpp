// What a host runs now (`switchyard status`), and bringing the live release
// back after a reboot (`switchyard restore`).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "runner/host/settings.hpp"
#include "runner/host/state.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

struct HostStatus {
  std::string app;
  std::string version;  // empty: nothing live
  int port = 0;
  std::string slot;
  pid_t pid = 0;
  bool running = false;
  std::int64_t uptime_seconds = -1;  // -1: unknown
  bool healthy = false;
  std::string health;  // the one probe's answer
  std::string previous_version;
  std::string warm_version;  // a warm slot's version, when one runs
  int nginx_port = 0;        // what nginx points at; 0 when unknown
  // Process mode: what the live slot's supervisor saw (slots_supervisor.hpp).
  bool supervised = false;
  int restarts = 0;
  std::string last_exit;     // "signal 9 (Killed)"; empty before any
  std::string last_exit_at;  // UTC
  // A slot recorded as starting with no deploy holding the lock: a killed
  // deploy left it, and the next deploy stops it.
  std::string abandoned_version;
  int abandoned_port = 0;
  // systemd mode: the live instance's environment file, when it is gone (a
  // reboot empties /run) and the instance therefore cannot start.
  std::string missing_environment_file;
};

// What runs now: read from state, one health probe, no lock taken.
Result<HostStatus> host_status(const HostSettings& settings);
std::string format_host_status(const HostStatus& status);

// After a reboot: the live release recorded in state no longer runs (process
// mode: nothing starts it at boot; systemd mode: its environment file went
// with /run, so its enabled instance failed); start it again on its port
// (systemd mode: writing the environment file anew) and gate it on health
// (nginx already points there). A no-op when it runs.
Result<HostStatus> restore_live_release(const HostSettings& settings);

}  // namespace switchyard
