// The runner's own host subcommands, `switchyard status`, `switchyard restore`
// and the hidden `switchyard expire-warm` and `switchyard supervise-slot`, and
// what every host command's main shares: loading the target settings from a
// step's configuration.
#pragma once

#include <map>
#include <string>

#include "runner/cli/step.hpp"
#include "runner/host/settings.hpp"
#include "runner/host/state.hpp"
#include "runner/host/status.hpp"
#include "runner/host/warm_expiry.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

// Loads switchyard.yml for a host command with `flags` (key path -> value)
// on top, and reads the target section.
Result<HostSettings> load_host_settings(const StepContext& context,
                                        const std::map<std::string, std::string>& flags = {});
// --lock-timeout (target.lock_timeout), for every host command that takes
// the host lock.
CLI::Option* add_lock_timeout_flag(CLI::App& app, CommonOptions& options);
// `switchyard status ...`, `switchyard restore ...` and the hidden
// `switchyard expire-warm ...` (argv[0] is the subcommand).
int status_main(int argc, char** argv);
int restore_main(int argc, char** argv);
int expire_warm_main(int argc, char** argv);
int supervise_slot_main(int argc, char** argv);

}  // namespace switchyard
