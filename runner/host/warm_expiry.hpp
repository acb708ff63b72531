// The timer that stops a warm slot once `target.keep_warm` has passed.
#pragma once

#include <filesystem>
#include <string>

#include "runner/host/slots.hpp"
#include "runner/host/state.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

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

}  // namespace switchyard
