#include "runner/host/settings.hpp"

#include <cctype>
#include <charconv>

#include "runner/core/log.hpp"
#include "runner/util/environment.hpp"

namespace switchyard {
namespace {

// A directory setting with {app} replaced by the service's name; `fallback`
// when it is empty.
std::string app_directory(std::string text, const std::string& app, std::string_view fallback) {
  if (auto at = text.find("{app}"); at != std::string::npos) text.replace(at, 5, app);
  if (text.empty()) text = std::string(fallback) + app;
  return text;
}

}  // namespace

std::string HostSettings::slot_name(int port) const {
  if (!ports.empty() && port == ports[0]) return "blue";
  return "green";
}

Result<HostSettings> load_host_settings(const Config& config) {
  HostSettings settings;
  SWITCHYARD_READ(settings.app, config.string("app"));
  settings.slots.app = settings.app;
  settings.slots.environment = config.environment();

  std::pair<int, int> ports;
  SWITCHYARD_READ(ports, config.port_pair("target.ports"));
  settings.ports = {ports.first, ports.second};

  SWITCHYARD_READ(settings.slots.start_command, config.string_list("target.start_command"));
  SWITCHYARD_READ(settings.slots.environment_variables, config.string_map("target.environment"));
  // A value may be env:NAME: read from this process's environment and masked
  // (request-deploy resolves them before sending the configuration to a host).
  auto process_environment = current_environment();
  for (auto& [name, value] : settings.slots.environment_variables) {
    bool secret = false;
    SWITCHYARD_READ(value, resolve_env_reference("target.environment." + name, value,
                                                 process_environment, &secret));
    if (secret) add_secret(value);
  }
  std::string text;
  SWITCHYARD_READ(text, config.string("target.working_directory"));
  settings.slots.working_directory = text;
  SWITCHYARD_READ(settings.slots.user, config.string("target.user"));
  SWITCHYARD_READ(settings.slots.stop_grace, config.duration("target.stop_grace"));
  std::string run_as;
  SWITCHYARD_READ(run_as, config.string("target.run_as"));
  SWITCHYARD_READ(text, config.string("target.systemd.unit_dir"));
  settings.slots.unit_directory = text;
  if (run_as == "process") {
    settings.slots.run_as = RunAs::Process;
  } else if (run_as == "systemd") {
    settings.slots.run_as = RunAs::Systemd;
  } else if (run_as == "auto") {
    settings.slots.run_as = run_as_on_this_host(settings.slots.unit_directory);
  } else {
    return usage_error(config.origin("target.run_as") + ": target.run_as: \"" + run_as +
                       "\" is not a way to run a slot; use auto, process or systemd");
  }
  SWITCHYARD_READ(settings.slots.systemctl, config.string("target.systemd.systemctl"));
  SWITCHYARD_READ(text, config.string("target.systemd.run_dir"));
  settings.slots.run_directory = app_directory(text, settings.app, "/run/switchyard/");

  // The health gate shares the health section with verify-health.
  SWITCHYARD_READ(settings.health, read_health_settings(config));
  std::int64_t number = 0;

  SWITCHYARD_READ(text, config.string("target.nginx.mode"));
  if (text == "reload") {
    settings.nginx.mode = NginxMode::Reload;
  } else if (text == "seamless") {
    settings.nginx.mode = NginxMode::Seamless;
  } else {
    return usage_error(config.origin("target.nginx.mode") + ": target.nginx.mode: \"" + text +
                       "\" is not a mode; use reload or seamless");
  }
  SWITCHYARD_READ(settings.nginx.binary, config.string("target.nginx.binary"));
  SWITCHYARD_READ(text, config.string("target.nginx.prefix"));
  settings.nginx.prefix = text;
  SWITCHYARD_READ(text, config.string("target.nginx.conf"));
  settings.nginx.conf = text;
  SWITCHYARD_READ(text, config.string("target.nginx.include"));
  settings.nginx.include_file = text;
  SWITCHYARD_READ(text, config.string("target.nginx.include_format"));
  if (text == "set") {
    settings.nginx.include_format = IncludeFormat::SetVariable;
  } else if (text == "server") {
    settings.nginx.include_format = IncludeFormat::UpstreamServer;
  } else {
    return usage_error(config.origin("target.nginx.include_format") +
                       ": target.nginx.include_format: \"" + text +
                       "\" is not a format; use set (set $service_port N;) or server "
                       "(server 127.0.0.1:N;)");
  }
  SWITCHYARD_READ(text, config.string("target.nginx.live_port_file"));
  settings.nginx.live_port_file = text;
  SWITCHYARD_READ(text, config.string("target.nginx.pid_file"));
  settings.nginx.pid_file = text;
  SWITCHYARD_READ(settings.nginx.upstream_name, config.string("target.nginx.upstream_name"));
  SWITCHYARD_READ(text, config.string("target.nginx.router_script"));
  settings.nginx.router_script = text;
  settings.nginx.slot_ports = settings.ports;
  SWITCHYARD_READ(settings.nginx_url, config.string("target.nginx.url"));
  SWITCHYARD_READ(settings.confirm_timeout, config.duration("target.nginx.confirm_timeout"));

  SWITCHYARD_READ(settings.drain_timeout, config.duration("target.drain_timeout"));
  settings.nginx.drain_timeout = settings.drain_timeout;
  SWITCHYARD_READ(settings.keep_warm, config.duration("target.keep_warm"));
  SWITCHYARD_READ(number, config.integer("target.keep_releases"));
  settings.keep_releases = static_cast<int>(number);
  SWITCHYARD_READ(settings.lock_timeout, config.duration("target.lock_timeout"));
  SWITCHYARD_READ(text, config.string("target.state_dir"));
  settings.paths.state_dir = app_directory(text, settings.app, "/var/lib/switchyard/");
  if (settings.nginx.live_port_file.empty()) {
    settings.nginx.live_port_file = settings.paths.state_dir / "live-port";
  }

  if (auto valid = validate_host_settings(settings); !valid) return valid.error();
  return settings;
}

Result<void> validate_host_settings(const HostSettings& settings) {
  if (settings.app.empty()) {
    return usage_error("app: not set; name the service at the top of switchyard.yml (app: hello)");
  }
  for (char c : settings.app) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return usage_error("app: \"" + settings.app +
                         "\" has characters that cannot be in a path or unit name; use letters, "
                         "digits, '-', '_' and '.'");
    }
  }
  if (settings.ports.size() != 2 || settings.ports[0] == settings.ports[1]) {
    return usage_error("target.ports: give two different ports, e.g. [8081, 8082]");
  }
  if (settings.slots.start_command.empty()) {
    return usage_error(
        "target.start_command: empty; give the command as a list, e.g. "
        "[java, -jar, \"{artifact}\", \"--server.port={port}\"]");
  }
  if (settings.health.path.empty() || settings.health.path[0] != '/') {
    return usage_error("target.health.path: \"" + settings.health.path +
                       "\" must start with /, e.g. /actuator/health");
  }
  if (settings.nginx.mode == NginxMode::Reload && settings.nginx.include_file.empty()) {
    return usage_error(
        "target.nginx.include: not set; reload mode rewrites this include (see "
        "switchyard-switch-traffic --print-nginx-config)");
  }
  if (settings.keep_releases < 2) {
    return usage_error("target.keep_releases: " + std::to_string(settings.keep_releases) +
                       " is too few; keep at least 2 (the live release and the one before it)");
  }
  if (settings.paths.state_dir.empty()) {
    return usage_error("target.state_dir: empty; default is /var/lib/switchyard/<app>");
  }
  return {};
}

}  // namespace switchyard
