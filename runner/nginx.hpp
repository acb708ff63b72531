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

  // Where the master's pid is read from (empty: the conf's `pid` directive,
  // else nginx's built-in default, /run/nginx.pid on Debian).
  std::filesystem::path pid_file;
  // How long a SIGHUP may take to bring up the new worker generation before
  // the reload counts as rejected.
  Duration reload_timeout{std::chrono::seconds(10)};
  // Names the upstream blocks of the snippet: `<upstream_name>` (reload mode,
  // `server` include) and `<upstream_name>_<port>` per slot (seamless mode).
  // Letters, digits, `_`, `-` and `.`; one per app sharing an nginx.
  std::string upstream_name = "switchyard";
  std::vector<int> slot_ports{8081, 8082};  // seamless mode: one upstream each
  int upstream_keepalive = 32;              // idle connections kept per worker and slot
  // How long nginx keeps an idle connection to a slot open. Seamless mode
  // waits for these to close before the old slot counts as drained, so this
  // bounds the drain of an old slot (see wait_drained in nginx.cpp): every
  // pooled connection goes idle at the switch. Under load a pooled connection
  // is reused within milliseconds, so a short timeout costs nothing there;
  // when traffic is sparse it costs a loopback connect per request.
  Duration upstream_keepalive_timeout{std::chrono::milliseconds(100)};
  // The njs router (empty: share/switchyard/nginx/router.js beside the
  // installed binaries) and the module that runs it.
  std::filesystem::path router_script;
  std::filesystem::path js_module = "/usr/lib/nginx/modules/ngx_http_js_module.so";
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

  // The running master, read from the pid file; exit 3 naming the pid file
  // when nginx is not running.
  Result<pid_t> master_pid() const;

  // The current children of the master (the workers, including old ones
  // still shutting down); empty when nginx is not running.
  std::vector<pid_t> worker_pids() const;

  // Runs `nginx -t` on the configuration; fails (exit 1) with nginx's own
  // first error line.
  Result<void> test_config() const;

 private:
  NginxSettings m_settings;
};

}  // namespace switchyard
