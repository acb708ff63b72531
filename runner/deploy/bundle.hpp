// The CodeDeploy revision bundle: a reproducible zip (libzip) holding the
// jar and its manifest, the environment's resolved configuration (with
// `env:NAME` references kept as references), appspec.yml and the hook
// scripts that run switchyard on the instance:
//
//   appspec.yml
//   hooks/common.sh             shared by the hooks (settings, env file)
//   hooks/before-install.sh     switchyard present and new enough; env:NAME set
//   hooks/application-start.sh  switchyard-switch-traffic on the staged jar
//   hooks/validate-service.sh   switchyard-verify-health through this instance's nginx
//   switchyard/<jar>, switchyard/<jar>.manifest.json, switchyard/switchyard.yml,
//   switchyard/hook-settings    copied by `files:` to the staging directory
//
// ApplicationStop has no hook (the old version keeps serving until the
// switch); BlockTraffic/AllowTraffic are left to CodeDeploy's load balancer
// integration.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "runner/core/config.hpp"
#include "runner/core/manifest.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

// AppSpec allows a hook at most an hour.
inline constexpr std::chrono::seconds k_appspec_max_timeout{3600};

struct BundleInput {
  std::filesystem::path jar;
  Manifest manifest;        // app, version (the release label), app_version, sha256, file
  std::string config_yaml;  // resolved_config_yaml()
  std::vector<std::string> env_names;  // the env:NAME references in it
  // Where `files:` puts the jar and configuration on the instance:
  // <target.state_dir>/codedeploy/<release>.
  std::string stage_dir;
  // /etc/switchyard/<app>.env: NAME=VALUE lines, mode 0600, read by the hooks.
  std::string env_file;
  // The health URL through this instance's own nginx (target.nginx.url +
  // health.path); a load balancer's would answer from other instances.
  std::string validate_url;
  Duration health_timeout{std::chrono::seconds(60)};
  // How long ApplicationStart and ValidateService may take (appspec timeout).
  std::chrono::seconds application_start_timeout{600};
  std::chrono::seconds validate_service_timeout{120};
  std::chrono::seconds before_install_timeout{60};
  // The oldest switchyard the hooks work with (they pass --release).
  std::string min_switchyard_version;
  std::string runas = "root";
};

struct Bundle {
  std::filesystem::path path;
  std::uint64_t size = 0;
};

// The environment's configuration as switchyard.yml text (top-level keys
// only, every key set anywhere after precedence, defaults left out), for the
// instance's switch-traffic and verify-health. Values stay as written, so an
// `env:NAME` reference stays a reference. `env_names` receives the NAMEs.
// The deploy.* and build.* sections are left out: they mean nothing on the
// instance.
std::string resolved_config_yaml(const Config& config, std::vector<std::string>& env_names);

// Reads what the bundle needs from `config` (state_dir, nginx url, health
// path and timeouts) and fills the hook timeouts so that they fit them.
Result<BundleInput> bundle_input_from(const Config& config, const std::filesystem::path& jar,
                                      const Manifest& manifest);

// appspec.yml for `input` (version 0.0, os linux, files, hooks).
std::string render_appspec(const BundleInput& input);

// Writes the zip to `output`: entries in a fixed order, every timestamp
// 2000-01-01 00:00, hook scripts mode 0755 and the rest 0644, so the same
// input gives the same bytes (and the same S3 ETag). The jar is stored, the
// rest deflated. Fails (exit 2) for a value that cannot go in the hook
// settings, exit 1 for a write error.
Result<Bundle> build_bundle(const BundleInput& input, const std::filesystem::path& output);

}  // namespace switchyard
