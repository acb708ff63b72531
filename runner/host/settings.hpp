// The `target` section of switchyard.yml (and the `health` section the gate
// shares with verify-health), read once into plain values that
// the host commands (switch-traffic, rollback, status, restore) share.
// docs/HOST.md and docs/CONFIG.md describe every key.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runner/core/config.hpp"
#include "runner/host/nginx.hpp"
#include "runner/host/slots.hpp"
#include "runner/host/state.hpp"
#include "runner/net/health_settings.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

// The gate on a new slot reads the same health section as verify-health.
using HostHealthSettings = HealthSettings;

struct HostSettings {
  std::string app;
  std::vector<int> ports = {8081, 8082};  // the first is "blue", the second "green"
  SlotSettings slots;
  HostHealthSettings health;
  NginxSettings nginx;
  // How the switch reaches nginx to confirm the new version answers.
  std::string nginx_url = "http://127.0.0.1/";
  Duration confirm_timeout{std::chrono::seconds(10)};
  Duration drain_timeout{std::chrono::seconds(30)};
  Duration keep_warm{0};
  int keep_releases = 5;
  HostPaths paths;
  Duration lock_timeout{std::chrono::minutes(10)};

  // "blue" for the first port, "green" for the second.
  std::string slot_name(int port) const;
};

// Reads the target keys from `config` and checks them (exit 2 naming the key).
Result<HostSettings> load_host_settings(const Config& config);

// Checks settings built by hand (tests) or by load_host_settings.
Result<void> validate_host_settings(const HostSettings& settings);

}  // namespace switchyard
