#include "runner/host/nginx.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include <spdlog/fmt/fmt.h>

#include "runner/core/log.hpp"
#include "runner/host/nginx_config.hpp"
#include "runner/util/atomic_file.hpp"
#include "runner/util/file_descriptor.hpp"
#include "runner/util/interrupt.hpp"
#include "runner/util/process.hpp"

namespace switchyard {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds k_poll_interval{20};

// Reads a whole file; nullopt with errno set when it cannot be opened.
std::optional<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Error unreadable(const fs::path& path, std::string_view what, std::string_view fix) {
  return usage_error(
      fmt::format("{}: cannot read {} ({}); {}", path.string(), what, errno_text(), fix));
}

// An nginx worker that got the graceful-shutdown signal retitles itself
// "nginx: worker process is shutting down" just before it closes its
// listening sockets.
bool shutting_down(pid_t pid) {
  std::optional<std::string> title = read_file(fmt::format("/proc/{}/cmdline", pid));
  return title && title->find("shutting down") != std::string::npos;
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> children;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator("/proc", error)) {
    std::string name = entry.path().filename().string();
    pid_t pid = 0;
    auto [end, parse_error] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (parse_error != std::errc() || end != name.data() + name.size()) continue;
    auto stat = read_process_stat(pid);
    if (stat && stat->parent == parent && stat->state != 'Z') {
      children.push_back(pid);
    }
  }
  std::sort(children.begin(), children.end());
  return children;
}

// Polls `done` every k_poll_interval until it holds or `timeout` passes (or
// the step is interrupted); returns whether it held.
template <typename Predicate>
bool wait_until(Duration timeout, Predicate done) {
  Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (Clock::now() >= deadline || interrupted()) return false;
    std::this_thread::sleep_for(k_poll_interval);
  }
}

// The socket inodes `pid` holds open; nullopt when its fds cannot be read
// (another user's process without the privilege to look).
std::optional<std::set<unsigned long>> socket_inodes(pid_t pid) {
  std::set<unsigned long> inodes;
  std::error_code error;
  fs::directory_iterator fds(fmt::format("/proc/{}/fd", pid), error);
  if (error) return std::nullopt;
  for (const fs::directory_entry& fd : fds) {
    std::error_code link_error;
    std::string target = fs::read_symlink(fd.path(), link_error).string();
    if (link_error || !target.starts_with("socket:[")) continue;
    inodes.insert(std::stoul(target.substr(8)));
  }
  return inodes;
}

// The socket inodes of the ESTABLISHED TCP connections (IPv4 and IPv6) whose
// remote port is `port`. A busy host lists tens of thousands of sockets
// (mostly TIME_WAIT) there, so each table is read in one go and split by
// hand: a stream per line made one poll take 50-200 ms under load.
std::set<unsigned long> established_to_port(int port) {
  std::set<unsigned long> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::optional<std::string> content = read_file(table);
    if (!content) continue;
    std::string_view rest(*content);
    bool header = true;
    while (!rest.empty()) {
      size_t end = rest.find('\n');
      std::string_view line = rest.substr(0, end);
      rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
      if (std::exchange(header, false)) continue;
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      std::array<std::string_view, 10> fields;
      size_t count = 0;
      size_t at = 0;
      while (count < fields.size()) {
        at = line.find_first_not_of(' ', at);
        if (at == std::string_view::npos) break;
        size_t stop = line.find(' ', at);
        fields[count++] = line.substr(at, stop == std::string_view::npos ? stop : stop - at);
        if (stop == std::string_view::npos) break;
        at = stop;
      }
      if (count < fields.size() || fields[3] != "01") continue;  // TCP_ESTABLISHED
      std::string_view remote = fields[2];
      size_t colon = remote.rfind(':');
      if (colon == std::string_view::npos) continue;
      int remote_port = 0;
      auto [port_end, port_error] = std::from_chars(remote.data() + colon + 1,
                                                    remote.data() + remote.size(), remote_port, 16);
      if (port_error != std::errc() || remote_port != port) continue;
      unsigned long inode = 0;
      auto [inode_end, inode_error] =
          std::from_chars(fields[9].data(), fields[9].data() + fields[9].size(), inode);
      if (inode_error != std::errc()) continue;
      inodes.insert(inode);
    }
  }
  return inodes;
}

// The socket inodes the children of `master` (nginx's workers) hold; nullopt
// without the right to read their fds.
std::optional<std::set<unsigned long>> worker_sockets(pid_t master) {
  std::set<unsigned long> inodes;
  for (pid_t worker : children_of(master)) {
    std::optional<std::set<unsigned long>> held = socket_inodes(worker);
    if (!held) return std::nullopt;
    inodes.insert(held->begin(), held->end());
  }
  return inodes;
}

}  // namespace

Result<int> Nginx::live_port() const {
  if (m_settings.mode == NginxMode::Reload) {
    std::optional<std::string> content = read_file(m_settings.include_file);
    if (!content) {
      std::string example = m_settings.include_format == IncludeFormat::SetVariable
                                ? "set $service_port 8081;"
                                : fmt::format("server {}:8081;", m_settings.upstream_host);
      return unreadable(m_settings.include_file, "the nginx include",
                        fmt::format("create it with the live port, e.g. `{}`", example));
    }
    return parse_include(m_settings, *content);
  }
  std::optional<std::string> content = read_file(m_settings.live_port_file);
  if (!content) {
    return unreadable(m_settings.live_port_file, "the live port",
                      "create it holding the live port, e.g. 8081");
  }
  return parse_live_port(m_settings.live_port_file, *content);
}

Result<void> Nginx::test_config() const {
  ProcessSpec spec;
  spec.argv = {m_settings.binary, "-t", "-q"};
  if (!m_settings.prefix.empty()) {
    spec.argv.insert(spec.argv.end(), {"-p", m_settings.prefix.string()});
  }
  if (!m_settings.conf.empty()) spec.argv.insert(spec.argv.end(), {"-c", m_settings.conf.string()});
  spec.timeout = std::chrono::seconds(30);
  Result<ProcessOutcome> outcome = run_process(spec);
  if (!outcome) return outcome.error();
  if (!outcome->succeeded()) {
    return failure(fmt::format("nginx -t: {}", nginx_error_line(outcome->output_tail)));
  }
  return {};
}

Result<pid_t> Nginx::master_pid() const {
  fs::path pid_file = m_settings.pid_file;
  if (pid_file.empty()) {
    fs::path conf = m_settings.conf.empty() ? fs::path("/etc/nginx/nginx.conf") : m_settings.conf;
    if (!conf.is_absolute() && !m_settings.prefix.empty()) conf = m_settings.prefix / conf;
    std::optional<std::string> conf_text = read_file(conf);
    std::optional<fs::path> directive = conf_text ? pid_directive(*conf_text) : std::nullopt;
    pid_file = directive ? *directive : fs::path("/run/nginx.pid");
    if (!pid_file.is_absolute()) {
      pid_file =
          (m_settings.prefix.empty() ? fs::path("/usr/share/nginx") : m_settings.prefix) / pid_file;
    }
  }
  std::optional<std::string> text = read_file(pid_file);
  if (!text) {
    return unavailable(fmt::format(
        "{}: cannot read the nginx master's pid ({}); is nginx running? (set the pid file if it "
        "lives elsewhere)",
        pid_file.string(), errno_text()));
  }
  std::string_view digits(*text);
  while (!digits.empty() && std::isspace(static_cast<unsigned char>(digits.back()))) {
    digits.remove_suffix(1);
  }
  if (digits.empty()) {
    // `nginx -t` creates the pid file empty when no master runs from it.
    return unavailable(fmt::format(
        "{}: empty, so no nginx master runs from it; start nginx (or set the pid file if it "
        "lives elsewhere)",
        pid_file.string()));
  }
  pid_t pid = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
  if (error != std::errc() || end != digits.data() + digits.size() || pid <= 1) {
    return unavailable(
        fmt::format("{}: expected the nginx master's pid, found \"{}\"; is this nginx's pid file?",
                    pid_file.string(), digits.substr(0, 40)));
  }
  if (!process_alive(pid)) {
    return unavailable(
        fmt::format("{}: nginx master {} is not running; start nginx", pid_file.string(), pid));
  }
  return pid;
}

std::vector<pid_t> Nginx::worker_pids() const {
  Result<pid_t> master = master_pid();
  if (!master) return {};
  return children_of(*master);
}

Result<std::vector<pid_t>> Nginx::switch_to(int port) {
  if (port < 1 || port > 65535) {
    return usage_error(fmt::format("nginx: cannot switch to port {}; a port is 1-65535", port));
  }
  if (m_settings.mode == NginxMode::Seamless) {
    // Only a slot with an upstream block in the snippet can be routed to.
    if (std::find(m_settings.slot_ports.begin(), m_settings.slot_ports.end(), port) ==
        m_settings.slot_ports.end()) {
      return usage_error(fmt::format(
          "{}: port {} is not a slot port ({}); nginx has an upstream block only for those",
          m_settings.live_port_file.string(), port, fmt::join(m_settings.slot_ports, ", ")));
    }
    Result<void> written = write_file_atomically(m_settings.live_port_file, format_live_port(port));
    if (!written) return written.error();
    log::info("nginx: {} now routes to port {} (seamless, no reload)",
              m_settings.live_port_file.string(), port);
    return std::vector<pid_t>{};
  }

  // Write the new include, keeping the user's comments and other lines.
  const fs::path& include = m_settings.include_file;
  std::optional<std::string> previous = read_file(include);
  std::string next;
  if (previous) {
    Result<std::string> replaced = replace_include_port(m_settings, *previous, port);
    if (!replaced) return replaced.error();
    next = std::move(*replaced);
  } else {
    next = format_include(m_settings, port);
  }
  auto restore = [&]() -> Result<void> {
    if (previous) return write_file_atomically(include, *previous);
    std::error_code error;
    fs::remove(include, error);
    return {};
  };
  auto fail_restored = [&](const Error& cause, std::string_view what) -> Error {
    Result<void> restored = restore();
    if (!restored) {
      return Error{cause.code, fmt::format("{}; restoring the previous include failed too: {}",
                                           cause.message, restored.error().message)};
    }
    return Error{cause.code,
                 fmt::format("{}; the previous include was restored and {}", cause.message, what)};
  };
  Result<void> written = write_file_atomically(include, next);
  if (!written) return written.error();

  // Test the configuration as nginx will load it.
  Result<void> tested = test_config();
  if (!tested) return fail_restored(tested.error(), "nothing changed");

  // Reload: SIGHUP to the master, as `nginx -s reload` does, without
  // depending on how -s would resolve the pid file.
  Result<pid_t> master = master_pid();
  if (!master) return fail_restored(master.error(), "nothing changed");
  std::vector<pid_t> old_workers = children_of(*master);
  if (::kill(*master, SIGHUP) != 0) {
    return fail_restored(unavailable(fmt::format("nginx: cannot signal master {} ({}); run "
                                                 "switchyard as the user nginx runs as, or root",
                                                 *master, errno_text())),
                         "nothing changed");
  }

  // The reload took effect once a worker of the new generation runs and every
  // old worker has stopped accepting: nginx starts the new workers first and
  // only then tells the old ones to shut down, and until they do, a new
  // connection may still land on the old configuration. nginx keeps the old
  // workers when it rejects a reload (a port it cannot bind, say), so no new
  // worker within the timeout means the reload failed.
  std::set<pid_t> old_set(old_workers.begin(), old_workers.end());
  bool reloaded = wait_until(m_settings.reload_timeout, [&] {
    std::vector<pid_t> children = children_of(*master);
    bool new_generation = std::any_of(children.begin(), children.end(),
                                      [&](pid_t child) { return !old_set.contains(child); });
    return new_generation && std::all_of(old_workers.begin(), old_workers.end(), [](pid_t old) {
             return !process_alive(old) || shutting_down(old);
           });
  });
  if (!reloaded) {
    return fail_restored(
        failure(fmt::format("nginx: master {} started no new workers within {} of the reload; "
                            "nginx rejected it (see its error log)",
                            *master, format_duration(m_settings.reload_timeout))),
        "nginx still serves the old port");
  }
  log::info("nginx: {} now routes to port {} (reloaded master {})", include.string(), port,
            *master);
  return old_workers;
}

bool Nginx::wait_drained(int old_port, const std::vector<pid_t>& old_workers) {
  if (m_settings.mode == NginxMode::Reload) {
    // Old workers finish their in-flight requests, close their idle
    // keep-alive connections, and exit.
    return wait_until(m_settings.drain_timeout, [&] {
      return std::none_of(old_workers.begin(), old_workers.end(), process_alive);
    });
  }

  // Seamless mode: no worker generation ends, so the old slot is drained when
  // no connection from nginx to `old_port` is left. Idle connections in
  // nginx's upstream keep-alive pool count too: nginx never reuses them (the
  // router no longer names the old slot), and they close on their own after
  // upstream_keepalive_timeout, which therefore bounds the drain: every pooled
  // connection goes idle at the switch. Waiting for them, rather than treating them as safe to cut,
  // means "no connection" is also "no request in flight", which the connection table cannot
  // otherwise tell apart from an idle connection.
  return wait_until(m_settings.drain_timeout, [&] { return requests_in_flight(old_port) == 0; });
}

int Nginx::requests_in_flight(int port) const {
  // The connection table is read first, and the master and its workers'
  // sockets (a walk of /proc and of every worker's fds, slow on a busy
  // machine) only while some connection to the port is left, so a drain's
  // poll that finds none costs two small reads.
  std::set<unsigned long> connections = established_to_port(port);
  if (connections.empty()) return 0;
  Result<pid_t> master = master_pid();
  std::optional<std::set<unsigned long>> ours =
      master ? worker_sockets(*master) : std::optional<std::set<unsigned long>>();
  // Without the master (or the right to read its workers' fds) every
  // connection to the port counts: a drain that waits too long is safe, one
  // that stops too early is not.
  if (!ours) return static_cast<int>(connections.size());
  return static_cast<int>(
      std::count_if(connections.begin(), connections.end(),
                    [&](unsigned long inode) { return ours->contains(inode); }));
}

std::string Nginx::config_snippet() const {
  return switchyard::config_snippet(m_settings);
}

}  // namespace switchyard
