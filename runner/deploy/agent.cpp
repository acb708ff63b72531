#include "runner/deploy/agent.hpp"

#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "runner/core/config.hpp"
#include "runner/core/log.hpp"
#include "runner/deploy/channel.hpp"
#include "runner/host/lock.hpp"
#include "runner/host/settings.hpp"
#include "runner/host/state.hpp"
#include "runner/host/status.hpp"
#include "runner/host/switch.hpp"
#include "runner/store/store.hpp"
#include "runner/util/environment.hpp"
#include "runner/util/interrupt.hpp"

namespace switchyard {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

void send(const json::object& event) {
  json::value value = event;
  std::cout << mask_secrets(json::serialize(value)) << "\n" << std::flush;
}

void send_error(const Error& error) {
  send({{"event", "error"},
        {"exit_code", static_cast<int>(error.code)},
        {"message", mask_secrets(error.message)}});
}

std::string text_of(const json::object& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
}

// The step executables sit beside this one (a package installs them together).
std::string step_program(const std::string& step) {
  std::error_code error;
  auto self = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    auto beside = self.parent_path() / ("switchyard-" + step);
    if (::access(beside.c_str(), X_OK) == 0) return beside.string();
  }
  return "switchyard-" + step;
}

class Agent {
 public:
  int run() {
    ::signal(SIGPIPE, SIG_IGN);
    send({{"event", "hello"},
          {"version", SWITCHYARD_VERSION},
          {"protocol", k_agent_protocol},
          {"features", json::array{k_agent_feature_fetch}}});
    while (auto line = m_input.line()) {
      if (line->empty()) continue;
      json::error_code parse_error;
      auto value = json::parse(*line, parse_error);
      if (parse_error || !value.is_object()) {
        send_error(usage_error("agent: a request is not a JSON object; the client is broken"));
        return 2;
      }
      const auto& request = value.as_object();
      auto handled = handle(request);
      if (!handled) send_error(handled.error());
    }
    return 0;
  }

 private:
  Result<void> handle(const json::object& request) {
    std::string op = text_of(request, "op");
    if (op == "open") return open(request);
    if (!m_settings) return usage_error("agent: \"" + op + "\" before \"open\"");
    if (op == "status") return status();
    if (op == "lock") return lock(request);
    if (op == "receive") return receive(request);
    if (op == "fetch") return fetch(request);
    if (op == "run") return run_step(request);
    if (op == "retire") return retire();
    if (op == "interrupt") return {};  // nothing in flight
    return usage_error("agent: unknown request \"" + op + "\"");
  }

  Result<void> open(const json::object& request) {
    if (auto it = request.find("secrets"); it != request.end() && it->value().is_array()) {
      for (const auto& secret : it->value().as_array()) {
        if (secret.is_string()) add_secret(secret.as_string());
      }
    }
    m_config_text = text_of(request, "config");
    m_requested_by = text_of(request, "requested_by");
    m_artifact_url = text_of(request, "artifact_url");
    ConfigLoadOptions options;
    options.document = m_config_text;
    auto config = Config::load(options);
    if (!config) return config.error();
    auto settings = load_host_settings(*config);
    if (!settings) return settings.error();
    m_settings = std::move(*settings);
    send({{"event", "opened"},
          {"app", m_settings->app},
          {"state_dir", m_settings->paths.state_dir.string()}});
    return {};
  }

  Result<void> status() {
    json::object event{{"event", "status"}};
    auto state = read_state(m_settings->paths);
    if (!state) return state.error();
    if (const auto* live = state->live()) {
      event["release"] = live->version;
      event["port"] = live->port;
      event["since"] = live->since;
      // What its service reports, for switchyard run's version check.
      auto release = read_release_info(m_settings->paths, live->version);
      if (release && !release->app_version.empty()) event["app_version"] = release->app_version;
    }
    event["previous"] = state->previous_version;
    auto found = host_status(*m_settings);
    if (found) {
      event["healthy"] = found->healthy;
      event["health"] = found->health;
      event["running"] = found->running;
    }
    json::array ports;
    for (int port : m_settings->ports)
      ports.push_back(port);
    event["ports"] = std::move(ports);
    send(event);
    return {};
  }

  Result<void> lock(const json::object& request) {
    LockHolder self;
    self.pid = ::getpid();
    self.action = text_of(request, "action");
    self.version = text_of(request, "release");
    self.since = utc_now();
    self.who = m_requested_by;
    Duration timeout = m_settings->lock_timeout;
    if (auto it = request.find("timeout_ms"); it != request.end() && it->value().is_int64()) {
      timeout = std::chrono::milliseconds(it->value().as_int64());
    }
    auto taken = HostLock::acquire(
        m_settings->paths.lock_file(), self, timeout, [&](const LockHolder& holder) {
          log::info("{}: held by {}; waiting", m_settings->paths.lock_file().string(),
                    holder.describe());
        });
    if (!taken) return taken.error();
    m_lock = std::move(*taken);
    send({{"event", "locked"}});
    return {};
  }

  // Receives a streamed artifact into the release staging area
  // (<state_dir>/incoming/), where switch-traffic fetches and verifies it.
  Result<void> receive(const json::object& request) {
    std::string name = fs::path(text_of(request, "name")).filename().string();
    if (name.empty() || name == "." || name == "..") name = "artifact";
    std::uint64_t size = 0;
    if (auto it = request.find("size"); it != request.end() && it->value().is_int64()) {
      size = static_cast<std::uint64_t>(it->value().as_int64());
    }
    auto directory = staging_directory();
    std::error_code error;
    fs::create_directories(directory, error);
    auto path = directory / name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    bool complete = m_input.bytes(size, [&](std::string_view chunk) {
      out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      return static_cast<bool>(out);
    });
    out.close();
    if (!complete || !out) {
      fs::remove_all(directory, error);
      return unavailable(path.string() +
                         ": the artifact did not arrive whole; check the space "
                         "on the host and the connection");
    }
    m_incoming = directory;
    send({{"event", "received"}, {"path", path.string()}});
    return {};
  }

  // Fetches the presigned URL the client opened with (request-deploy
  // --presign) into the staging area through the http store, which checks
  // the sha256 on the way (switch-traffic checks it again), with the
  // manifest the client read beside it.
  Result<void> fetch(const json::object& request) {
    if (m_artifact_url.empty()) {
      return usage_error("agent: fetch without a presigned URL (a client bug)");
    }
    auto directory = staging_directory();
    auto path = fetch_with_manifest(directory, request);
    if (!path) {
      std::error_code error;
      fs::remove_all(directory, error);
      return path.error();
    }
    m_incoming = directory;
    send({{"event", "received"}, {"path", path->string()}});
    return {};
  }

  // The artifact from the presigned URL into `directory`, and the manifest
  // of the fetch request beside it.
  Result<fs::path> fetch_with_manifest(const fs::path& directory, const json::object& request) {
    auto fetched = fetch_artifact(m_artifact_url, directory, text_of(request, "sha256"));
    if (!fetched) return fetched.error();
    if (std::string text = text_of(request, "manifest"); !text.empty()) {
      auto manifest = manifest_from_json(text, "the manifest request-deploy sent");
      if (!manifest) return manifest.error();
      auto written = write_manifest(*manifest, manifest_path_for(fetched->path));
      if (!written) return written.error();
    }
    return fetched->path;
  }

  // Where an artifact waits for switch-traffic: <state_dir>/incoming/<pid>/.
  fs::path staging_directory() const {
    return m_settings->paths.state_dir / "incoming" / std::to_string(::getpid());
  }

  // Runs switch-traffic or rollback with the configuration on its stdin and
  // the held lock as fd 3, passing its log lines on (masked) as they come.
  Result<void> run_step(const json::object& request) {
    std::string step = text_of(request, "step");
    if (step != "switch-traffic" && step != "rollback") {
      return usage_error("agent: \"" + step + "\" is not a step the agent runs");
    }
    if (!m_lock.held()) return usage_error("agent: run before lock (a client bug)");
    ChannelSpec spec;
    spec.argv = {step_program(step), "--config", "-", "--json"};
    if (auto it = request.find("args"); it != request.end() && it->value().is_array()) {
      for (const auto& arg : it->value().as_array()) {
        if (arg.is_string()) spec.argv.emplace_back(arg.as_string());
      }
    }
    spec.pass_fd = m_lock.descriptor();
    spec.set_environment[k_held_lock_variable] = "3";
    if (!m_requested_by.empty()) spec.set_environment["SWITCHYARD_REQUESTED_BY"] = m_requested_by;
    auto child = Channel::start(spec);
    if (!child) return child.error();
    if (auto written = child->write(m_config_text); !written) {
      // It exited before reading: what it printed says why.
    }
    child->close_input();

    std::string result_text;
    bool signalled = false;
    auto on_line = [&](Stream stream, std::string_view line) {
      if (stream == Stream::Stdout) {
        result_text += std::string(line);
      } else {
        std::cerr << mask_secrets(line) << "\n" << std::flush;
      }
    };
    auto wake_on_input = [&]() { return signalled || m_input.closed() ? -1 : STDIN_FILENO; };
    while (child->read(std::chrono::milliseconds(200), on_line, wake_on_input()) !=
           Channel::ReadOutcome::Closed) {
      if (signalled) continue;
      // An interrupt request, or the client gone: the step undoes its switch.
      auto next = m_input.poll_line(std::chrono::milliseconds(0));
      if ((next && next->find("\"interrupt\"") != std::string::npos) || m_input.closed() ||
          interrupted()) {
        child->signal(SIGTERM);
        signalled = true;
      }
    }
    int exit_code = child->wait();
    if (!m_incoming.empty()) {
      std::error_code error;
      fs::remove_all(m_incoming, error);
      m_incoming.clear();
    }
    json::object event{{"event", "done"}, {"exit_code", exit_code}};
    json::error_code parse_error;
    auto result = json::parse(result_text, parse_error);
    if (!parse_error && result.is_object()) event["result"] = result;
    send(event);
    return {};
  }

  // Undoes a host's first deploy, which has nothing to roll back to: stops
  // the new slot and records it. nginx keeps pointing at the stopped port,
  // where nothing served before this deploy either.
  Result<void> retire() {
    if (!m_lock.held()) return usage_error("agent: retire before lock (a client bug)");
    Host host(*m_settings);
    if (auto loaded = host.load(); !loaded) return loaded.error();
    HostState& state = host.state();
    const SlotRecord* live = state.live();
    if (live == nullptr) {
      send({{"event", "done"}, {"exit_code", 0}});
      return {};
    }
    SlotRecord record = *live;
    host.slots().stop(record);
    HistoryRecord history;
    history.time = utc_now();
    history.action = "retire";
    history.who = m_requested_by;
    history.app = m_settings->app;
    history.from_version = record.version;
    history.from_port = record.port;
    history.from_slot = record.slot;
    history.outcome = "success";
    history.reason = "the rollout failed on another host; this host's first release is stopped";
    record.status = SlotStatus::Stopped;
    record.since = utc_now();
    record.pid = 0;
    state.put(record);
    if (auto saved = host.save(); !saved) return saved.error();
    (void)append_history(host.paths(), history);
    send({{"event", "done"}, {"exit_code", 0}, {"result", {{"retired", record.version}}}});
    return {};
  }

  InputReader m_input{STDIN_FILENO};
  std::optional<HostSettings> m_settings;
  std::string m_config_text;
  std::string m_requested_by;
  std::string m_artifact_url;  // --presign: a secret, registered at open
  HostLock m_lock;
  fs::path m_incoming;
};

}  // namespace

int run_agent() {
  install_interrupt_handlers();
  return Agent().run();
}

}  // namespace switchyard
