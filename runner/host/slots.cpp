#include "runner/host/slots.hpp"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "runner/core/log.hpp"
#include "runner/host/slots_supervisor.hpp"
#include "runner/util/atomic_file.hpp"
#include "runner/util/process.hpp"

namespace switchyard {
namespace fs = std::filesystem;

namespace {

constexpr const char* k_placeholders = "{artifact}, {port}, {version}, {environment} or {slot}";

// Replaces each {name} in `text` with `lookup(name)`; fails on a name that
// `lookup` does not know.
Result<std::string> expand_placeholders(
    std::string_view text,
    const std::function<std::optional<std::string>(std::string_view)>& lookup) {
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    auto open = text.find('{', at);
    if (open == std::string_view::npos) {
      out.append(text.substr(at));
      break;
    }
    auto close = text.find('}', open);
    if (close == std::string_view::npos) {
      out.append(text.substr(at));
      break;
    }
    out.append(text.substr(at, open - at));
    auto name = text.substr(open + 1, close - open - 1);
    // Only {lower_case} is a placeholder: a shell's ${HOME} or a JSON
    // argument's braces pass through as written.
    if (name.empty() ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string_view::npos) {
      out.append(text.substr(open, 1));
      at = open + 1;
      continue;
    }
    auto value = lookup(name);
    if (!value) {
      return usage_error("target.start_command: unknown placeholder {" + std::string(name) +
                         "} in \"" + std::string(text) + "\"; use " + k_placeholders);
    }
    out.append(*value);
    at = close + 1;
  }
  return out;
}

Result<std::string> run_systemctl(const SlotSettings& settings, std::vector<std::string> args) {
  ProcessSpec spec;
  spec.argv = {settings.systemctl};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.timeout = std::chrono::seconds(90);
  std::string output;
  auto outcome = run_process(spec, [&](Stream stream, std::string_view line) {
    if (stream == Stream::Stdout) output += std::string(line) + "\n";
  });
  if (!outcome) return outcome.error();
  if (!outcome->succeeded()) {
    std::string command = settings.systemctl;
    for (const auto& arg : args)
      command += " " + arg;
    std::string tail = outcome->output_tail;
    while (!tail.empty() && tail.back() == '\n')
      tail.pop_back();
    auto newline = tail.rfind('\n');
    if (newline != std::string::npos) tail = tail.substr(newline + 1);
    return failure(command + ": exit " + std::to_string(outcome->exit_code) +
                   (tail.empty() ? "" : " (" + tail + ")") + "; see journalctl -xe");
  }
  return output;
}

// A value for a systemd unit or environment file: double-quoted, with
// backslash and quote escaped (systemd_escape_literal doubles `$` and `%`).
std::string systemd_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// `text` with every `$` and `%` doubled: systemd expands both in a unit file
// (variables and specifiers), and `$$` and `%%` are their literal forms.
std::string systemd_escape_literal(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '$' || c == '%') out += c;
    out += c;
  }
  return out;
}

class ProcessSlotRunner : public SlotRunner {
 public:
  explicit ProcessSlotRunner(SlotSettings settings) : m_settings(std::move(settings)) {}

  Result<SlotRecord> start(const SlotLaunch& launch) override {
    auto argv = expand_start_command(m_settings.start_command, m_settings, launch);
    if (!argv) return argv.error();
    ProcessSpec spec;
    auto user_prefix = run_as_user_prefix();
    if (!user_prefix) return user_prefix.error();
    spec.argv = *user_prefix;
    spec.argv.insert(spec.argv.end(), argv->begin(), argv->end());
    spec.working_directory =
        m_settings.working_directory.empty() ? launch.release_dir : m_settings.working_directory;
    spec.set_environment = m_settings.environment_variables;
    spec.set_environment[std::string(k_slot_token_variable)] = launch.token;
    spec.unset_environment = k_job_kill_markers;
    std::error_code error;
    fs::create_directories(launch.log_file.parent_path(), error);
    // Under a supervisor, which brings the service back once the slot is
    // live; a program that cannot be found is reported by starting it bare.
    auto status_file = supervisor_status_file(launch.log_file);
    fs::remove(status_file, error);
    if (!find_program(spec.argv.front()).empty() ||
        spec.argv.front().find('/') != std::string::npos) {
      if (auto supervised = supervised_command(spec.argv, status_file)) spec.argv = *supervised;
    }
    auto pid = spawn_detached(spec, launch.log_file);
    if (!pid) return pid.error();
    SlotRecord record = slot_record(launch);
    record.pid = *pid;
    record.start_ticks = process_start_ticks(*pid);
    return record;
  }

  bool running(const SlotRecord& record) override {
    return slot_process_running(record) ||
           (record.pid <= 0 && !find_slot_token(record.token).empty());
  }

  bool stop(const SlotRecord& record) override {
    switch (slot_process_identity(record)) {
      case SlotIdentity::Proven:
        return stop_process_group(record.pid, m_settings.stop_grace);
      case SlotIdentity::Unproven:
        // Never signal a process that may be someone else's: say so instead.
        log::warn(
            "port {}: pid {} is not provably this slot's process (its start time or "
            "SWITCHYARD_SLOT_TOKEN differ from state.json); not signalling it",
            record.port, record.pid);
        break;
      case SlotIdentity::Gone:
        break;
    }
    // A deploy killed between recording the slot and recording its pid left
    // only the token it put in the slot's environment.
    bool stopped = true;
    for (pid_t pid : find_slot_token(record.token)) {
      stopped =
          stop_process_group(::getpgid(pid) > 0 ? ::getpgid(pid) : pid, m_settings.stop_grace) &&
          stopped;
    }
    return stopped;
  }

  // Nothing starts a process-mode slot at boot (`switchyard restore` does);
  // a live slot's supervisor restarts its service when it exits.
  Result<void> set_boot_enabled(const SlotRecord& record, bool enabled) override {
    set_restart_on_exit(record, enabled);
    return {};
  }

  // SIGUSR1 arms the supervisor, SIGUSR2 disarms it; only a proven
  // supervisor gets either (a slot started before supervisors existed is the
  // service itself, and SIGUSR1 would end it).
  void set_restart_on_exit(const SlotRecord& record, bool enabled) override {
    if (!slot_process_running(record) || !is_slot_supervisor(record.pid)) return;
    ::kill(record.pid, enabled ? SIGUSR1 : SIGUSR2);
  }

 private:
  // setpriv (util-linux) switches user and group in the child right before
  // it execs the service, so the slot never runs as root when told not to.
  Result<std::vector<std::string>> run_as_user_prefix() const {
    if (m_settings.user.empty()) return std::vector<std::string>{};
    struct passwd* entry = ::getpwnam(m_settings.user.c_str());
    if (entry == nullptr) {
      return usage_error("target.user: no user named \"" + m_settings.user +
                         "\" on this host; create it or remove target.user");
    }
    if (::geteuid() != 0 && entry->pw_uid != ::geteuid()) {
      return usage_error("target.user: running a slot as \"" + m_settings.user +
                         "\" needs root; deploy as root or remove target.user");
    }
    if (entry->pw_uid == ::geteuid()) return std::vector<std::string>{};
    return std::vector<std::string>{"setpriv", "--reuid=" + std::to_string(entry->pw_uid),
                                    "--regid=" + std::to_string(entry->pw_gid), "--init-groups",
                                    "--"};
  }

  SlotSettings m_settings;
};

// Creates `directory` (and its parents) and makes it 0700, however it was
// before: the files in it are readable by whoever may enter it.
Result<void> make_private_directory(const fs::path& directory) {
  std::error_code error;
  fs::create_directories(directory, error);
  if (!error) fs::permissions(directory, fs::perms::owner_all, error);
  if (error) {
    return unavailable(directory.string() +
                       ": cannot create it private (mode 0700) for systemd's environment files (" +
                       error.message() + "); deploy as root, or set target.systemd.run_dir");
  }
  return {};
}

class SystemdSlotRunner : public SlotRunner {
 public:
  SystemdSlotRunner(SlotSettings settings, fs::path state_dir)
      : m_settings(std::move(settings)), m_state_dir(std::move(state_dir)) {}

  Result<SlotRecord> start(const SlotLaunch& launch) override {
    // Write (or refresh) the template unit and the instance's values.
    auto unit = systemd_unit_text(m_settings, m_state_dir);
    if (!unit) return unit.error();
    std::error_code error;
    fs::create_directories(m_settings.unit_directory, error);
    auto unit_file = m_settings.unit_directory / (m_settings.app + "@.service");
    auto written = write_file_atomically(unit_file, *unit, 0644);
    if (!written) return written.error();
    // target.environment may hold credentials the service needs: 0600, in a
    // directory only its owner enters, on /run (never on a disk).
    if (auto made = make_private_directory(m_settings.run_directory); !made) return made.error();
    written = write_file_atomically(systemd_environment_file(m_settings, launch.port),
                                    environment_file_text(launch), 0600);
    if (!written) return written.error();
    // Earlier versions kept it on the disk, in <state_dir>/slots/: that copy goes.
    fs::remove(m_state_dir / "slots" / (std::to_string(launch.port) + ".env"), error);
    fs::remove(m_state_dir / "slots", error);  // only when empty

    std::string instance = instance_name(launch.port);
    if (auto reloaded = run_systemctl(m_settings, {"daemon-reload"}); !reloaded) {
      return reloaded.error();
    }
    if (auto started = run_systemctl(m_settings, {"start", instance}); !started) {
      return started.error();
    }
    SlotRecord record = slot_record(launch);
    record.log_file = "journalctl -u " + instance;
    auto pid = run_systemctl(m_settings, {"show", "--property=MainPID", "--value", instance});
    if (pid) record.pid = static_cast<pid_t>(std::atoi(pid->c_str()));
    record.start_ticks = record.pid > 0 ? process_start_ticks(record.pid) : 0;
    return record;
  }

  bool running(const SlotRecord& record) override {
    return run_systemctl(m_settings, {"is-active", "--quiet", instance_name(record.port)}).ok();
  }

  // A stopped instance's environment file goes with it, so the secrets in it
  // stay on the host no longer than the service that needs them runs.
  bool stop(const SlotRecord& record) override {
    if (!run_systemctl(m_settings, {"stop", instance_name(record.port)}).ok()) return false;
    std::error_code error;
    fs::remove(systemd_environment_file(m_settings, record.port), error);
    return true;
  }

  Result<void> set_boot_enabled(const SlotRecord& record, bool enabled) override {
    auto done =
        run_systemctl(m_settings, {enabled ? "enable" : "disable", instance_name(record.port)});
    if (!done) return done.error();
    return {};
  }

 private:
  std::string instance_name(int port) const {
    return m_settings.app + "@" + std::to_string(port) + ".service";
  }

  std::string environment_file_text(const SlotLaunch& launch) const {
    std::ostringstream text;
    text << "# Written by switchyard for " << instance_name(launch.port) << "\n";
    text << "SWITCHYARD_ARTIFACT=" << systemd_quote(launch.artifact.string()) << "\n";
    text << "SWITCHYARD_VERSION=" << systemd_quote(launch.version) << "\n";
    text << "SWITCHYARD_ENVIRONMENT=" << systemd_quote(m_settings.environment) << "\n";
    text << "SWITCHYARD_SLOT=" << systemd_quote(launch.slot) << "\n";
    for (const auto& [name, value] : m_settings.environment_variables) {
      text << name << "=" << systemd_quote(value) << "\n";
    }
    return text.str();
  }

  SlotSettings m_settings;
  fs::path m_state_dir;
};

}  // namespace

Result<std::vector<std::string>> expand_start_command(const std::vector<std::string>& command,
                                                      const SlotSettings& settings,
                                                      const SlotLaunch& launch) {
  if (command.empty()) {
    return usage_error(
        "target.start_command: empty; give the command as a list, e.g. "
        "[java, -jar, \"{artifact}\", \"--server.port={port}\"]");
  }
  auto lookup = [&](std::string_view name) -> std::optional<std::string> {
    if (name == "artifact") return launch.artifact.string();
    if (name == "port") return std::to_string(launch.port);
    if (name == "version") return launch.version;
    if (name == "environment") return settings.environment;
    if (name == "slot") return launch.slot;
    return std::nullopt;
  };
  std::vector<std::string> argv;
  for (const auto& argument : command) {
    auto expanded = expand_placeholders(argument, lookup);
    if (!expanded) return expanded.error();
    argv.push_back(std::move(*expanded));
  }
  return argv;
}

SlotRecord slot_record(const SlotLaunch& launch) {
  SlotRecord record;
  record.port = launch.port;
  record.slot = launch.slot;
  record.version = launch.version;
  record.artifact = launch.artifact;
  record.log_file = launch.log_file;
  record.token = launch.token;
  return record;
}

SlotLaunch slot_launch(const HostPaths& paths, const ReleaseInfo& release, int port,
                       std::string slot) {
  SlotLaunch launch;
  launch.port = port;
  launch.slot = std::move(slot);
  launch.version = release.version;
  launch.release_dir = paths.release_dir(release.version);
  launch.artifact = release_artifact(paths, release);
  launch.log_file = launch.release_dir / ("slot-" + std::to_string(port) + ".log");
  launch.token = new_slot_token();
  return launch;
}

std::uint64_t process_start_ticks(pid_t pid) {
  if (pid <= 0) return 0;
  auto stat = read_process_stat(pid);
  if (!stat || stat->dead()) return 0;  // gone, or dead and not yet reaped
  return stat->start_ticks;
}

std::string new_slot_token() {
  std::random_device random;
  std::string token;
  for (int i = 0; i < 4; ++i) {
    char part[9];
    std::snprintf(part, sizeof(part), "%08x", random());
    token += part;
  }
  return token;
}

namespace {

// True when the environment `pid` was started with holds `token` as
// SWITCHYARD_SLOT_TOKEN (false when it cannot be read: not ours to judge).
bool environment_has_token(const fs::path& process_dir, std::string_view token) {
  if (token.empty()) return false;
  std::string needle = std::string(k_slot_token_variable) + "=" + std::string(token);
  std::ifstream in(process_dir / "environ", std::ios::binary);
  std::string variable;
  while (std::getline(in, variable, '\0')) {
    if (variable == needle) return true;
  }
  return false;
}

}  // namespace

std::vector<pid_t> find_slot_token(std::string_view token) {
  std::vector<pid_t> found;
  if (token.empty()) return found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/proc", error)) {
    auto name = entry.path().filename().string();
    if (name.empty() || name.size() > 9 ||
        name.find_first_not_of("0123456789") != std::string::npos)
      continue;
    if (!environment_has_token(entry.path(), token)) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid > 1 && process_start_ticks(pid) != 0) found.push_back(pid);
  }
  return found;
}

SlotIdentity slot_process_identity(const SlotRecord& record) {
  if (record.pid <= 0) return SlotIdentity::Gone;
  auto ticks = process_start_ticks(record.pid);
  if (ticks == 0) return SlotIdentity::Gone;
  // pid 1 is init; a record without a start time or a token (a corrupted or
  // hand-edited state.json) proves nothing about whoever has that pid now.
  if (record.pid == 1 || record.start_ticks == 0 || record.token.empty()) {
    return SlotIdentity::Unproven;
  }
  if (ticks != record.start_ticks) return SlotIdentity::Gone;  // the pid was reused
  if (!environment_has_token(fs::path("/proc") / std::to_string(record.pid), record.token)) {
    return SlotIdentity::Unproven;
  }
  return SlotIdentity::Proven;
}

bool slot_process_running(const SlotRecord& record) {
  return slot_process_identity(record) == SlotIdentity::Proven;
}

namespace {

// <run_directory>/<instance>.env: `instance` is a port, or %i in the unit.
fs::path environment_file_of(const SlotSettings& settings, std::string_view instance) {
  return settings.run_directory / (std::string(instance) + ".env");
}

}  // namespace

fs::path systemd_environment_file(const SlotSettings& settings, int port) {
  return environment_file_of(settings, std::to_string(port));
}

Result<std::string> systemd_unit_text(const SlotSettings& settings, const fs::path& state_dir) {
  if (settings.app.empty()) return usage_error("app: not set; name the service in switchyard.yml");
  if (settings.start_command.empty()) {
    return usage_error("target.start_command: empty; give the command as a list");
  }
  if (settings.run_directory.empty()) {
    return usage_error(
        "target.systemd.run_dir: empty; default is /run/switchyard/<app>, where systemd mode "
        "keeps each instance's environment file");
  }
  // Placeholders become what systemd expands itself: the port is the
  // instance name, the rest come from the instance's environment file.
  auto lookup = [](std::string_view name) -> std::optional<std::string> {
    if (name == "port") return "%i";
    if (name == "artifact") return "${SWITCHYARD_ARTIFACT}";
    if (name == "version") return "${SWITCHYARD_VERSION}";
    if (name == "environment") return "${SWITCHYARD_ENVIRONMENT}";
    if (name == "slot") return "${SWITCHYARD_SLOT}";
    return std::nullopt;
  };
  std::string exec_start;
  for (std::size_t i = 0; i < settings.start_command.size(); ++i) {
    std::string argument = settings.start_command[i];
    if (i == 0 && argument.find('/') == std::string::npos) {
      // systemd wants an absolute program path.
      auto found = find_program(argument);
      if (!found.empty()) argument = found.string();
    }
    // Escape what the user wrote, then expand our placeholders, so a literal
    // `$` or `%` in the command stays literal.
    auto expanded = expand_placeholders(systemd_escape_literal(argument), lookup);
    if (!expanded) return expanded.error();
    if (!exec_start.empty()) exec_start += ' ';
    exec_start += systemd_quote(*expanded);
  }
  auto grace_seconds = std::max<long long>(
      1, std::chrono::duration_cast<std::chrono::seconds>(settings.stop_grace).count());
  std::ostringstream unit;
  unit << "# Written by switchyard: one instance per port (" << settings.app
       << "@8081, ...). Do not edit; change switchyard.yml instead.\n"
       << "[Unit]\n"
       << "Description=" << systemd_escape_literal(settings.app) << " on port %i (switchyard)\n"
       << "After=network.target\n\n"
       << "[Service]\n"
       << "Type=simple\n"
       << "# Required (no '-'): /run is emptied at boot, and an instance must fail to start\n"
       << "# rather than run without its variables; `switchyard restore` writes it again.\n"
       << "EnvironmentFile=" << environment_file_of(settings, "%i").string() << "\n"
       << "WorkingDirectory="
       << (settings.working_directory.empty() ? state_dir : settings.working_directory).string()
       << "\n";
  if (!settings.user.empty()) unit << "User=" << settings.user << "\n";
  unit << "ExecStart=" << exec_start << "\n"
       << "KillMode=control-group\n"
       << "KillSignal=SIGTERM\n"
       << "TimeoutStopSec=" << grace_seconds << "\n"
       << "Restart=on-failure\n"
       << "RestartSec=2\n\n"
       << "[Install]\n"
       << "WantedBy=multi-user.target\n";
  return unit.str();
}

RunAs choose_run_as(bool systemd_is_pid1, bool may_manage_units) {
  return systemd_is_pid1 && may_manage_units ? RunAs::Systemd : RunAs::Process;
}

RunAs run_as_on_this_host(const fs::path& unit_directory) {
  // sd_booted(3)'s test: /run/systemd/system exists only when systemd is
  // the init system; PID 1's name says the same inside a container.
  std::ifstream comm("/proc/1/comm");
  std::string init;
  std::getline(comm, init);
  std::error_code error;
  bool systemd = init == "systemd" && fs::is_directory("/run/systemd/system", error);
  bool may_manage = ::geteuid() == 0 && ::access(unit_directory.c_str(), W_OK) == 0;
  return choose_run_as(systemd, may_manage);
}

std::unique_ptr<SlotRunner> make_slot_runner(const SlotSettings& settings,
                                             const fs::path& state_dir) {
  if (settings.run_as == RunAs::Systemd) {
    return std::make_unique<SystemdSlotRunner>(settings, state_dir);
  }
  return std::make_unique<ProcessSlotRunner>(settings);
}

}  // namespace switchyard
