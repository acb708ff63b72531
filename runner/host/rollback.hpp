// Rollback: back to the previous release, or to any kept one. When that
// release still runs warm on the idle slot it is an instant switch;
// otherwise it starts from releases/<version>/ through the same health gate
// and switch as a deploy (switch.hpp).
#pragma once

#include <string>
#include <vector>

#include "runner/host/settings.hpp"
#include "runner/host/switch.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

struct RollbackRequest {
  std::string to;  // empty: the release before the live one
};

Result<SwitchOutcome> run_rollback(const HostSettings& settings, const RollbackRequest& request);

struct KeptRelease {
  ReleaseInfo release;
  bool live = false;
  bool previous = false;  // the one before the live one: the default rollback
  bool warm = false;      // still running on the idle slot: an instant rollback
};

// Every kept release, newest first, marking the live, previous and warm ones.
Result<std::vector<KeptRelease>> list_kept_releases(const HostSettings& settings);

// The --list table for a person.
std::string format_kept_releases(const std::vector<KeptRelease>& releases);

}  // namespace switchyard
