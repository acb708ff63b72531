#include "runner/deploy/rollout.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <sstream>
#include <thread>

#include "runner/core/ci.hpp"
#include "runner/core/log.hpp"
#include "runner/core/manifest.hpp"
#include "runner/util/interrupt.hpp"
#include "runner/util/sha256.hpp"

namespace switchyard {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t elapsed_ms(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

std::string text_of(const json::object& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
}

std::int64_t number_of(const json::object& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->value().is_int64() ? it->value().as_int64() : 0;
}

// A local artifact's path (a plain path or file://); empty for a URL.
std::string local_artifact_path(const std::string& artifact) {
  if (artifact.starts_with("file://")) return artifact.substr(7);
  if (artifact.find("://") != std::string::npos) return "";
  return artifact;
}

// Runs `work(i)` for every index at once, one thread each, and waits.
void in_parallel(std::size_t count, const std::function<void(std::size_t)>& work) {
  std::vector<std::thread> threads;
  threads.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    threads.emplace_back(work, i);
  for (auto& thread : threads)
    thread.join();
}

// Sleeps `delay`, waking early on Ctrl-C.
void pause_between_batches(Duration delay) {
  auto until = Clock::now() + delay;
  while (Clock::now() < until && !interrupted()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// One host of the rollout: its agent session and what happened to it.
struct FleetHost {
  HostSession session;
  HostResult result;
  bool connected = false;  // an ssh master is open
  bool switched = false;   // this rollout changed what it serves
  Clock::time_point started;
};

// How hosts are reached: over ssh (a master connection each), or this machine.
class Reach {
 public:
  virtual ~Reach() = default;
  virtual Result<void> connect(const HostAddress& host) = 0;
  virtual ChannelSpec agent(const HostAddress& host) const = 0;
  virtual void disconnect(const HostAddress& host) = 0;
  // A local file must travel to the host (ssh), or the host can read it (local).
  virtual bool streams_artifacts() const = 0;
};

class SshReach : public Reach {
 public:
  explicit SshReach(const DeploySettings& settings) : m_transport(settings.ssh) {}
  Result<void> prepare(const std::string& key) { return m_transport.prepare(key); }
  Result<void> connect(const HostAddress& host) override { return m_transport.connect(host); }
  ChannelSpec agent(const HostAddress& host) const override {
    return m_transport.agent_command(host);
  }
  void disconnect(const HostAddress& host) override { m_transport.disconnect(host); }
  bool streams_artifacts() const override { return true; }

 private:
  SshTransport m_transport;
};

class LocalReach : public Reach {
 public:
  Result<void> connect(const HostAddress&) override { return {}; }
  ChannelSpec agent(const HostAddress&) const override { return local_agent_command(); }
  void disconnect(const HostAddress&) override {}
  bool streams_artifacts() const override { return false; }
};

// The action the lock records while the rollout holds it.
std::string lock_action(const FleetRequest& request) {
  return request.action == FleetAction::Rollback ? "rolling back (request-deploy)"
                                                 : "deploying (request-deploy)";
}

// The exit code that sums up several failures: a lock held (4) says the
// most, then an unreachable host (3), then bad configuration (2).
ExitCode worst(const std::vector<Error>& errors) {
  for (ExitCode code :
       {ExitCode::Interrupted, ExitCode::Locked, ExitCode::Unavailable, ExitCode::Usage}) {
    for (const auto& error : errors) {
      if (error.code == code) return code;
    }
  }
  return ExitCode::Failure;
}

std::string joined(const std::vector<Error>& errors) {
  std::string text;
  for (const auto& error : errors)
    text += (text.empty() ? "" : "; ") + error.message;
  return text;
}

class Rollout {
 public:
  Rollout(const DeploySettings& settings, const RemoteConfig& config, const FleetRequest& request,
          const HostLogHandler& on_log, Reach& reach)
      : m_settings(settings), m_config(config), m_request(request), m_reach(reach) {
    for (const auto& address : settings.hosts) {
      FleetHost host{HostSession(address, on_log), {}, false, false, {}};
      host.result.host = address.text;
      m_hosts.push_back(std::move(host));
    }
    m_ports.resize(m_hosts.size());
  }

  FleetOutcome run() {
    FleetOutcome outcome;
    // Preflight: every host before any host changes.
    std::vector<Error> problems = preflight();
    if (!problems.empty()) {
      outcome.error =
          Error{worst(problems), "preflight failed, no host was changed: " + joined(problems)};
    } else if (m_request.action == FleetAction::Status) {
      for (auto& host : m_hosts)
        host.result.result = host.result.before.empty() ? "nothing live" : "live";
    } else if (m_request.dry_run) {
      plan();
    } else {
      outcome.error = roll();
    }
    finish();
    for (auto& host : m_hosts)
      outcome.hosts.push_back(host.result);
    return outcome;
  }

 private:
  std::vector<Error> preflight() {
    std::vector<std::optional<Error>> errors(m_hosts.size());
    bool takes_lock = m_request.action != FleetAction::Status && !m_request.dry_run;
    in_parallel(m_hosts.size(), [&](std::size_t i) {
      FleetHost& host = m_hosts[i];
      auto fail = [&](const Error& error, const char* result) {
        host.result.result = result;
        host.result.message = error.message;
        errors[i] = error;
      };
      auto start = Clock::now();
      if (auto connected = m_reach.connect(host.session.address()); !connected) {
        return fail(connected.error(), "unreachable");
      }
      host.connected = true;
      host.result.phases_ms.emplace_back("connect", elapsed_ms(start));
      if (auto started = host.session.start(m_reach.agent(host.session.address())); !started) {
        return fail(started.error(), "unreachable");
      }
      if (auto opened = host.session.open(m_config, m_request.requested_by); !opened) {
        return fail(opened.error(), "not touched");
      }
      auto status = host.session.status();
      if (!status) return fail(status.error(), "not touched");
      host.result.before = text_of(*status, "release");
      host.result.before_port = static_cast<int>(number_of(*status, "port"));
      host.result.before_app_version = text_of(*status, "app_version");
      host.result.after = host.result.before;
      host.result.after_port = host.result.before_port;
      host.result.since = text_of(*status, "since");
      if (auto it = status->find("healthy"); it != status->end() && it->value().is_bool()) {
        host.result.healthy = it->value().as_bool();
      }
      if (auto it = status->find("ports"); it != status->end() && it->value().is_array()) {
        for (const auto& port : it->value().as_array()) {
          if (port.is_int64()) m_ports[i].push_back(static_cast<int>(port.as_int64()));
        }
      }
      if (!takes_lock) return;
      if (auto locked =
              host.session.lock(m_settings.lock_timeout, lock_action(m_request), m_request.release);
          !locked) {
        return fail(locked.error(), "not touched");
      }
    });
    std::vector<Error> problems;
    for (auto& error : errors) {
      if (error) problems.push_back(*error);
    }
    return problems;
  }

  // --dry-run: what each host runs now and what it would do.
  void plan() {
    for (std::size_t i = 0; i < m_hosts.size(); ++i) {
      HostResult& result = m_hosts[i].result;
      const auto& ports = m_ports[i];
      int idle = ports.empty() ? 0 : ports[0];
      if (ports.size() == 2 && result.before_port == ports[0]) idle = ports[1];
      std::string now = result.before.empty()
                            ? "nothing live"
                            : result.before + " on port " + std::to_string(result.before_port);
      if (m_request.action == FleetAction::Rollback) {
        result.result = "would roll back";
        result.message =
            "runs " + now + "; would go back to " +
            (m_request.to.empty() ? std::string("the previous release") : m_request.to);
      } else {
        result.result = "would deploy";
        result.message = "runs " + now + "; would start " +
                         (m_request.release.empty() ? m_request.artifact : m_request.release) +
                         " on port " + std::to_string(idle) + " and switch to it";
      }
      log::info("[{}] {}", result.host, result.message);
    }
  }

  struct HostArtifact {
    std::string path;    // what switch-traffic gets as --artifact
    bool moved = false;  // it was sent or fetched into the host's staging area
  };

  // Where the host finds the artifact: fetched into its staging area from
  // the presigned URL (--presign), streamed there (ssh, a local file), or as
  // given (a local file on this machine, an s3:// or http(s):// URL). A
  // manifest goes beside it, so the host's release records the app_version.
  Result<HostArtifact> artifact_on_host(FleetHost& host) {
    if (!m_config.artifact_url.empty()) {
      auto fetched = host.session.fetch_presigned(m_request.sha256, m_request.manifest);
      if (!fetched) return fetched.error();
      return HostArtifact{*fetched, true};
    }
    std::string local = local_artifact_path(m_request.artifact);
    if (local.empty()) return HostArtifact{m_request.artifact, false};
    if (!m_reach.streams_artifacts()) return HostArtifact{fs::absolute(local).string(), false};
    auto sent = host.session.send_artifact(local);
    if (!sent) return sent.error();
    if (auto manifest = manifest_path_for(local); fs::is_regular_file(manifest)) {
      if (auto beside = host.session.send_artifact(manifest); !beside) return beside.error();
    }
    return HostArtifact{*sent, true};
  }

  // One host's change: deploy the release, or roll back. Returns its
  // failure; runs in a thread of its own when the batch has several hosts.
  std::optional<Error> change(FleetHost& host) {
    host.started = Clock::now();
    HostResult& result = host.result;
    std::vector<std::string> args;
    std::string step = "switch-traffic";
    if (m_request.action == FleetAction::Rollback) {
      step = "rollback";
      if (!m_request.to.empty()) args = {"--release", m_request.to};
    } else {
      auto transfer_start = Clock::now();
      auto artifact = artifact_on_host(host);
      if (!artifact) {
        result.result = artifact.error().code == ExitCode::Unavailable ? "unreachable" : "failed";
        result.message = artifact.error().message;
        return artifact.error();
      }
      if (artifact->moved) result.phases_ms.emplace_back("transfer", elapsed_ms(transfer_start));
      args = {"--artifact", artifact->path};
      if (!m_request.sha256.empty()) args.insert(args.end(), {"--sha256", m_request.sha256});
      if (!m_request.release.empty()) args.insert(args.end(), {"--release", m_request.release});
    }
    auto done = host.session.run(step, args, true);
    result.duration_ms = elapsed_ms(host.started);
    if (!done) {
      result.result = "unreachable";
      result.message = done.error().message;
      return done.error();
    }
    int exit_code = static_cast<int>(number_of(*done, "exit_code"));
    json::object step_result;
    if (auto it = done->find("result"); it != done->end() && it->value().is_object()) {
      step_result = it->value().as_object();
    }
    if (auto it = step_result.find("durations");
        it != step_result.end() && it->value().is_object()) {
      for (const auto& [phase, ms] : it->value().as_object()) {
        if (ms.is_int64()) result.phases_ms.emplace_back(std::string(phase), ms.as_int64());
      }
    }
    if (exit_code == 0) {
      host.switched = true;
      result.result = m_request.action == FleetAction::Rollback ? "rolled back" : "deployed";
      result.after = text_of(step_result, "version");
      result.after_port = static_cast<int>(number_of(step_result, "port"));
      return std::nullopt;
    }
    std::string message = text_of(step_result, "error");
    if (message.empty()) message = step + " exited " + std::to_string(exit_code);
    Error error{static_cast<ExitCode>(exit_code), result.host + ": " + message};
    result.result = exit_code == 130 ? "interrupted" : "failed";
    result.message = error.message;
    return error;
  }

  // Batches of `batch` hosts; the first failure (or Ctrl-C) stops it.
  std::optional<Error> roll() {
    std::size_t batch = static_cast<std::size_t>(std::max(1, m_settings.batch));
    for (std::size_t first = 0; first < m_hosts.size(); first += batch) {
      if (interrupted()) break;
      if (first > 0 && m_settings.batch_pause > Duration::zero()) {
        log::info("waiting {} before the next batch", format_duration(m_settings.batch_pause));
        pause_between_batches(m_settings.batch_pause);
        if (interrupted()) break;
      }
      std::size_t count = std::min(batch, m_hosts.size() - first);
      std::vector<std::optional<Error>> failures(count);
      if (count == 1) {
        // One host at a time: its lines form a group in CI.
        CiGroup group(m_hosts[first].result.host);
        failures[0] = change(m_hosts[first]);
      } else {
        in_parallel(count, [&](std::size_t i) { failures[i] = change(m_hosts[first + i]); });
      }
      for (auto& failure : failures) {
        if (failure) m_failures.push_back(std::move(*failure));
      }
      if (!m_failures.empty()) break;
    }
    if (m_failures.empty() && !interrupted()) return std::nullopt;
    undo_switched();
    return summarise();
  }

  // Hosts this rollout switched go back to what they ran before (unless
  // --no-rollback-on-failure); a first deploy's new slot is stopped.
  void undo_switched() {
    for (auto& host : m_hosts) {
      if (!host.switched) continue;
      HostResult& result = host.result;
      if (!m_settings.rollback_on_failure) {
        result.message = "left on " + result.after + " (--no-rollback-on-failure)";
        continue;
      }
      CiGroup group(result.host + ": undo");
      Result<json::object> done =
          result.before.empty() ? host.session.retire()
                                : host.session.run("rollback", {"--release", result.before}, false);
      if (!done) {
        result.result = "rollback failed";
        result.message = done.error().message;
        continue;
      }
      if (number_of(*done, "exit_code") != 0) {
        result.result = "rollback failed";
        json::object step_result;
        if (auto it = done->find("result"); it != done->end() && it->value().is_object()) {
          step_result = it->value().as_object();
        }
        result.message = result.host + ": " + text_of(step_result, "error");
        continue;
      }
      result.result = m_request.action == FleetAction::Rollback ? "restored" : "rolled back";
      result.after = result.before;
      result.after_port = result.before.empty() ? 0 : result.before_port;
      host.switched = false;
    }
  }

  Error summarise() const {
    std::vector<Error> errors = m_failures;
    if (interrupted()) errors.push_back(Error{ExitCode::Interrupted, "interrupted"});
    std::string undone;
    for (const auto& host : m_hosts) {
      if (host.result.result == "rolled back" || host.result.result == "restored") {
        undone += (undone.empty() ? "" : ", ") + host.result.host + " back on " +
                  (host.result.after.empty() ? std::string("nothing (first release stopped)")
                                             : host.result.after);
      }
    }
    std::string message = joined(m_failures);
    if (message.empty()) message = "interrupted";
    if (!undone.empty()) message += "; " + undone;
    // Unreachable beats a failed deploy; Ctrl-C beats both.
    ExitCode code = ExitCode::Failure;
    if (std::any_of(errors.begin(), errors.end(),
                    [](const Error& e) { return e.code == ExitCode::Unavailable; })) {
      code = ExitCode::Unavailable;
    }
    if (interrupted()) code = ExitCode::Interrupted;
    return Error{code, message};
  }

  // Ends every agent (releasing its lock) and closes the ssh masters.
  void finish() {
    in_parallel(m_hosts.size(), [&](std::size_t i) {
      m_hosts[i].session.close();
      if (m_hosts[i].connected) m_reach.disconnect(m_hosts[i].session.address());
    });
  }

  const DeploySettings& m_settings;
  const RemoteConfig& m_config;
  const FleetRequest& m_request;
  Reach& m_reach;
  std::vector<FleetHost> m_hosts;
  std::vector<std::vector<int>> m_ports;  // each host's two slot ports
  std::vector<Error> m_failures;
};

}  // namespace

Result<Via> parse_via(std::string_view text) {
  if (text == "local") return Via::Local;
  if (text == "ssh") return Via::Ssh;
  if (text == "codedeploy") return Via::CodeDeploy;
  return usage_error("deploy.via: \"" + std::string(text) +
                     "\" is not a way to deploy; use local, ssh or codedeploy");
}

Result<DeploySettings> load_deploy_settings(const Config& config, const fs::path& config_directory,
                                            const std::map<std::string, std::string>& environment) {
  DeploySettings settings;
  std::string text;
  SWITCHYARD_READ(text, config.string("deploy.via"));
  SWITCHYARD_READ(settings.via, parse_via(text));
  std::vector<std::string> hosts;
  SWITCHYARD_READ(hosts, config.string_list("deploy.hosts"));
  for (const auto& host : hosts) {
    auto address = parse_host_address(host);
    if (!address) return address.error();
    settings.hosts.push_back(*address);
  }
  if (settings.via == Via::Local) {
    // One box: this machine, whatever deploy.hosts says for other environments.
    settings.hosts = {HostAddress{"local", "", "localhost", 0}};
  } else if (settings.via == Via::Ssh && settings.hosts.empty()) {
    // CodeDeploy finds its instances through the deployment group instead.
    return usage_error(
        "deploy.hosts: empty; list the hosts (deploy.hosts: [deploy@web1]) or pass "
        "--host USER@HOST");
  }
  std::int64_t number = 0;
  SWITCHYARD_READ(number, config.integer("deploy.batch"));
  if (number < 1) {
    return usage_error(config.origin("deploy.batch") + ": deploy.batch: " + std::to_string(number) +
                       " hosts at a time; use 1 or more");
  }
  settings.batch = static_cast<int>(number);
  SWITCHYARD_READ(settings.batch_pause, config.duration("deploy.batch_pause"));
  SWITCHYARD_READ(settings.rollback_on_failure, config.boolean("deploy.rollback_on_failure"));
  SWITCHYARD_READ(settings.lock_timeout, config.duration("target.lock_timeout"));
  SWITCHYARD_READ(settings.ssh.remote_bin, config.string("deploy.remote_bin"));
  SWITCHYARD_READ(settings.ssh.options, config.string_list("deploy.ssh.options"));
  SWITCHYARD_READ(text, config.string("deploy.ssh.known_hosts"));
  if (!text.empty()) {
    fs::path known_hosts = text;
    settings.ssh.known_hosts =
        known_hosts.is_absolute() ? known_hosts : config_directory / known_hosts;
  }
  SWITCHYARD_READ(text, config.string("deploy.ssh.identity_file"));
  bool secret = false;
  SWITCHYARD_READ(text,
                  resolve_env_reference("deploy.ssh.identity_file", text, environment, &secret));
  if (secret) {
    // A key in a CI secret: never logged, written to a private file for ssh.
    for (std::size_t start = 0; start < text.size();) {
      auto end = text.find('\n', start);
      add_secret(text.substr(start, end == std::string::npos ? end : end - start));
      if (end == std::string::npos) break;
      start = end + 1;
    }
    settings.identity_key = text;
  } else if (text.starts_with("~/")) {
    auto home = environment.find("HOME");
    settings.ssh.identity_file =
        (home == environment.end() ? fs::path("/root") : fs::path(home->second)) / text.substr(2);
  } else {
    settings.ssh.identity_file = text;
  }
  return settings;
}

Result<void> resolve_artifact(FleetRequest& request) {
  if (request.artifact.empty()) {
    return usage_error("--artifact: required; name the jar (a path, file://, s3:// or a URL)");
  }
  if (!request.release.empty() && !is_artifact_label(request.release)) {
    return usage_error("--release \"" + request.release +
                       "\": a release label is letters, digits, '.', '_' and '-'");
  }
  std::string local = local_artifact_path(request.artifact);
  if (local.empty()) return {};
  std::error_code error;
  if (!fs::is_regular_file(local, error)) {
    return usage_error(local +
                       ": no such artifact; build it first (switchyard build-jar) or fix "
                       "--artifact");
  }
  auto manifest = read_manifest(manifest_path_for(local));
  if (manifest) {
    if (request.sha256.empty()) request.sha256 = manifest->sha256;
    if (request.release.empty()) request.release = manifest->version;
  }
  if (request.release.empty()) request.release = fs::path(local).stem().string();
  if (request.sha256.empty()) {
    // Streamed to every host: each checks it arrived as it left.
    auto digest = sha256_file(local);
    if (!digest) return digest.error();
    request.sha256 = *digest;
  }
  return {};
}

FleetOutcome run_fleet(const DeploySettings& settings, const RemoteConfig& config,
                       const FleetRequest& request, const HostLogHandler& on_log) {
  switch (settings.via) {
    case Via::Local: {
      LocalReach reach;
      return Rollout(settings, config, request, on_log, reach).run();
    }
    case Via::Ssh: {
      SshReach reach(settings);
      if (auto prepared = reach.prepare(settings.identity_key); !prepared) {
        return FleetOutcome{{}, prepared.error()};
      }
      return Rollout(settings, config, request, on_log, reach).run();
    }
    case Via::CodeDeploy:
      // CodeDeploy runs its own rollout of the fleet (deploy_with_codedeploy):
      // request-deploy hands it over before any host is reached from here.
      break;
  }
  return FleetOutcome{
      {},
      usage_error("--via codedeploy: CodeDeploy reaches the hosts itself; there is no "
                  "host-by-host rollout to run")};
}

namespace {

std::string change_text(const HostResult& host) {
  auto name = [](const std::string& release) {
    return release.empty() ? std::string("-") : release;
  };
  if (host.before == host.after) return name(host.after);
  return name(host.before) + " -> " + name(host.after);
}

std::string seconds_text(std::int64_t ms) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(1);
  out << static_cast<double>(ms) / 1000.0 << "s";
  return out.str();
}

}  // namespace

std::string format_fleet_table(const FleetOutcome& outcome, FleetAction action) {
  std::vector<std::vector<std::string>> rows;
  if (action == FleetAction::Status) {
    rows.push_back({"host", "release", "port", "health", "since"});
    for (const auto& host : outcome.hosts) {
      rows.push_back(
          {host.host, host.before.empty() ? "-" : host.before,
           host.before_port ? std::to_string(host.before_port) : "-",
           host.result == "live" ? (host.healthy ? "healthy" : "UNHEALTHY") : host.result,
           host.since.empty() ? "-" : host.since});
    }
  } else {
    rows.push_back({"host", "before -> after", "result", "duration"});
    for (const auto& host : outcome.hosts) {
      rows.push_back({host.host, change_text(host), host.result,
                      host.duration_ms ? seconds_text(host.duration_ms) : "-"});
    }
  }
  std::vector<std::size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string fleet_summary_markdown(const FleetOutcome& outcome, FleetAction action) {
  std::string out = action == FleetAction::Status ? "### switchyard: fleet status\n\n"
                                                  : "### switchyard: request-deploy\n\n";
  if (action == FleetAction::Status) {
    out += "| host | release | port | health | since |\n|---|---|---|---|---|\n";
    for (const auto& host : outcome.hosts) {
      out += "| " + host.host + " | " + (host.before.empty() ? "-" : host.before) + " | " +
             (host.before_port ? std::to_string(host.before_port) : "-") + " | " +
             (host.healthy ? "healthy" : "unhealthy") + " | " + host.since + " |\n";
    }
    return out;
  }
  out += "| host | before → after | result | duration |\n|---|---|---|---|\n";
  for (const auto& host : outcome.hosts) {
    std::string change = change_text(host);
    if (auto arrow = change.find(" -> "); arrow != std::string::npos)
      change.replace(arrow, 4, " → ");
    out += "| " + host.host + " | " + change + " | " + host.result + " | " +
           (host.duration_ms ? seconds_text(host.duration_ms) : "-") + " |\n";
  }
  return out;
}

json::array fleet_to_json(const FleetOutcome& outcome) {
  json::array hosts;
  for (const auto& host : outcome.hosts) {
    json::object phases;
    for (const auto& [phase, ms] : host.phases_ms)
      phases[phase.ends_with("_ms") ? phase : phase + "_ms"] = ms;
    json::value previous_app_version = nullptr;
    if (!host.before_app_version.empty()) previous_app_version = host.before_app_version;
    hosts.push_back({{"host", host.host},
                     {"before", host.before},
                     {"before_port", host.before_port},
                     {"previous_app_version", std::move(previous_app_version)},
                     {"after", host.after},
                     {"after_port", host.after_port},
                     {"result", host.result},
                     {"message", host.message},
                     {"since", host.since},
                     {"healthy", host.healthy},
                     {"duration_ms", host.duration_ms},
                     {"phases", std::move(phases)}});
  }
  return hosts;
}

}  // namespace switchyard
