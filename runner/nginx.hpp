// nginx, switched two ways (DESIGN.md, "Zero-downtime switch on one host"):
// `reload` rewrites an include and reloads; `seamless` never reloads: an njs
// router reads the live port from a file that the switch replaces atomically.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "runner/duration.hpp"
#include "runner/result.hpp"

namespace switchyard {

enum class NginxMode { Reload, Seamless };

// What the include holds in reload mode.
enum class IncludeFormat {
  SetVariable,     // set $service_port 8082;
  UpstreamServer,  // server 127.0.0.1:8082;
};

struct NginxSettings {
  NginxMode mode = NginxMode::Reload;
  std::string binary = "nginx";
  std::filesystem::path prefix;        // nginx -p (empty: nginx's default)
  std::filesystem::path conf;          // nginx -c (empty: nginx's default)
  std::filesystem::path include_file;  // reload mode
  IncludeFormat include_format = IncludeFormat::SetVariable;
  std::filesystem::path live_port_file;  // seamless mode
  std::string upstream_host = "127.0.0.1";
  Duration drain_timeout{std::chrono::seconds(30)};
};

class Nginx {
 public:
  explicit Nginx(NginxSettings settings) : m_settings(std::move(settings)) {}
  const NginxSettings& settings() const { return m_settings; }

  // The port nginx sends traffic to now (from the include or the live-port
  // file); exit 2 naming the file when it cannot be read or parsed.
  Result<int> live_port() const;

  // Points nginx at `port`. Reload mode: writes the include through a temp
  // file and rename, runs `nginx -t` (on failure restores the previous
  // include and fails with nginx's own message), reloads, and returns the
  // pids of the worker generation that was serving before. Seamless mode:
  // replaces the live-port file atomically; nothing is reloaded.
  Result<std::vector<pid_t>> switch_to(int port);

  // Waits until nothing still routes to `old_port`: in reload mode the
  // `old_workers` have exited; in seamless mode no connection from nginx to
  // `old_port` is open. Bounded by the drain timeout; returns false on timeout.
  bool wait_drained(int old_port, const std::vector<pid_t>& old_workers);

  // The snippet a user adds to the nginx they already run
  // (`switch-traffic --print-nginx-config`).
  std::string config_snippet() const;

 private:
  NginxSettings m_settings;
};

}  // namespace switchyard
