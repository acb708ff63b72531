// The runner's own host subcommands, `switchyard status` and `switchyard
// restore`, and what every host command's main shares.
#pragma once

#include <map>
#include <string>

#include "runner/duration.hpp"
#include "runner/host_settings.hpp"
#include "runner/host_state.hpp"
#include "runner/result.hpp"
#include "runner/step.hpp"

namespace switchyard {

// Loads switchyard.yml for a host command with `flags` (key path -> value)
// on top, and reads the target section.
Result<HostSettings> load_host_settings(const StepContext& context,
                                        const std::map<std::string, std::string>& flags = {});

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
};

// What runs now: read from state, one health probe, no lock taken.
Result<HostStatus> host_status(const HostSettings& settings);
std::string format_host_status(const HostStatus& status);

// After a reboot in process mode: the live release recorded in state no
// longer runs; start it again on its port and gate it on health (nginx
// already points there). A no-op when it runs.
Result<HostStatus> restore_live_release(const HostSettings& settings);

// Stops the warm slot on `port` once target.keep_warm has passed, if it is
// still the same warm slot (same token). Run detached by switch-traffic
// (process mode) as the hidden `switchyard expire-warm`; the next deploy
// stops an expired warm slot too, should this never run (a reboot).
Result<void> expire_warm_slot(const HostPaths& paths, int port, const std::string& token,
                              Duration grace);

// Starts `switchyard expire-warm` detached for `slot`, to run at its
// warm_until. False (with a warning) when the switchyard command is missing.
bool schedule_warm_expiry(const HostPaths& paths, const SlotRecord& slot, Duration keep_warm,
                          Duration grace);

// `switchyard status ...`, `switchyard restore ...` and the hidden
// `switchyard expire-warm ...` (argv[0] is the subcommand).
int status_main(int argc, char** argv);
int restore_main(int argc, char** argv);
int expire_warm_main(int argc, char** argv);

}  // namespace switchyard
