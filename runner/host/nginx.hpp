// nginx, switched two ways (DESIGN.md, "Zero-downtime switch on one host"):
// `reload` rewrites an include and reloads; `seamless` never reloads: an njs
// router reads the live port from a file that the switch replaces atomically.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "runner/host/nginx_config.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

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

  // How many requests nginx has in flight to `port` now: its workers' open
  // connections to the port (every connection to the port when the workers'
  // sockets cannot be read). Asked after wait_drained timed out, each is a
  // request the old slot is still answering: old workers (reload) close their
  // idle upstream connections when they shut down, and idle pooled ones
  // (seamless) close after the upstream keepalive_timeout, so only one whose
  // request ended within that timeout is counted without being in flight.
  int requests_in_flight(int port) const;

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
