// A host for switch-traffic and rollback tests: a private nginx
// (nginx_harness.hpp) in front of two free loopback slot ports, a state
// directory, a switchyard.yml, and the sample service built as versions
// 1.0.0, 2.0.0 and 3.0.0 (tests/support/make-version-jar.sh), each with its
// manifest beside it. The steps run as the real executables.
//
// Header-only; everything lives in namespace host_harness.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runner/core/manifest.hpp"
#include "runner/host/slots.hpp"
#include "runner/host/state.hpp"
#include "runner/util/process.hpp"
#include "runner/util/sha256.hpp"
#include "tests/integration/nginx_harness.hpp"

namespace host_harness {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline const fs::path k_bin_dir = SWITCHYARD_BIN_DIR;

// The sample service as version `version`, with its manifest. ctest runs
// each test in its own process, so the jars are kept in the build tree,
// under a directory named after the sample jar's size and time: a rebuilt
// sample service gets fresh copies.
inline std::optional<fs::path> version_jar(const std::string& version) {
  std::error_code error;
  auto size = fs::file_size(SWITCHYARD_SAMPLE_JAR, error);
  if (error) return std::nullopt;
  auto time = fs::last_write_time(SWITCHYARD_SAMPLE_JAR, error).time_since_epoch().count();
  fs::path jars =
      k_bin_dir / "host-test-jars" / (std::to_string(size) + "-" + std::to_string(time));
  fs::path jar = jars / ("hello-service-" + version + ".jar");
  if (fs::exists(switchyard::manifest_path_for(jar))) return jar;
  switchyard::ProcessSpec spec;
  spec.argv = {"bash", SWITCHYARD_MAKE_VERSION_JAR, SWITCHYARD_SAMPLE_JAR, version, jar.string()};
  spec.timeout = 60s;
  auto made = switchyard::run_process(spec);
  if (!made || !made->succeeded()) return std::nullopt;
  switchyard::Manifest manifest;
  manifest.app = "hello";
  manifest.version = version;
  manifest.app_version = version;
  manifest.file = jar.filename().string();
  manifest.size = fs::file_size(jar);
  manifest.sha256 = *switchyard::sha256_file(jar);
  manifest.build_tool = "maven";
  if (!switchyard::write_manifest(manifest, switchyard::manifest_path_for(jar)))
    return std::nullopt;
  return jar;
}

struct StepRun {
  int exit_code = -1;
  std::string out;  // stdout: the --json result
  std::string err;  // stderr: logs and the one-line error
  boost::json::object json() const {
    boost::json::error_code error;
    auto value = boost::json::parse(out, error);
    return !error && value.is_object() ? value.as_object() : boost::json::object{};
  }
  // The last line of stderr: the one-line error a user sees.
  std::string last_error_line() const {
    std::string text = err;
    while (!text.empty() && text.back() == '\n')
      text.pop_back();
    auto newline = text.rfind('\n');
    return newline == std::string::npos ? text : text.substr(newline + 1);
  }
};

struct HostOptions {
  switchyard::NginxMode mode = switchyard::NginxMode::Reload;
  switchyard::IncludeFormat include_format = switchyard::IncludeFormat::SetVariable;
  std::string health_timeout = "20s";
  std::string keep_warm = "0s";
  int keep_releases = 5;
  std::string nginx_url;  // empty: GET /version through the private nginx
};

class TestHost {
 public:
  explicit TestHost(const HostOptions& options) : m_dir("switchyard-host"), m_options(options) {
    m_ports = {nginx_harness::free_port(), nginx_harness::free_port()};
    while (m_ports[1] == m_ports[0])
      m_ports[1] = nginx_harness::free_port();
    nginx_harness::NginxOptions nginx;
    nginx.mode = options.mode;
    nginx.include_format = options.include_format;
    nginx.slot_ports = m_ports;
    // Before the first deploy nginx points at the first port, where nothing
    // runs yet (a new host): the first deploy goes to the second port.
    nginx.live_port = m_ports[0];
    nginx.worker_processes = 1;
    m_nginx = std::make_unique<nginx_harness::PrivateNginx>(nginx);
    write_config();
  }
  ~TestHost() { stop_every_slot(); }

  // "" when nginx started.
  std::string start() { return m_nginx->start(); }

  const fs::path& dir() const { return m_dir.path(); }
  fs::path config() const { return m_dir.path() / "switchyard.yml"; }
  fs::path state_dir() const { return m_dir.path() / "state"; }
  switchyard::HostPaths paths() const { return {state_dir()}; }
  nginx_harness::PrivateNginx& nginx() { return *m_nginx; }
  int port(int index) const { return m_ports[static_cast<std::size_t>(index)]; }

  void write_config(const std::string& extra_target = "") {
    const auto& settings = m_nginx->settings();
    std::ofstream out(config());
    out << "app: hello\n"
        << "health:\n"
        << "  timeout: " << m_options.health_timeout << "\n"
        << "  interval: 50ms\n"
        << "  request_timeout: 1s\n"
        << "target:\n"
        << "  state_dir: " << state_dir().string() << "\n"
        << "  ports: [" << m_ports[0] << ", " << m_ports[1] << "]\n"
        << "  start_command: [java, -XX:TieredStopAtLevel=1, -XX:+UseSerialGC, -Xshare:auto, "
           "-jar, \"{artifact}\", \"--server.port={port}\"]\n"
        << "  environment:\n"
        << "    SHUTDOWN_GRACE_MS: \"2000\"\n"
        << "  drain_timeout: 5s\n"
        << "  stop_grace: 5s\n"
        << "  keep_warm: " << m_options.keep_warm << "\n"
        << "  keep_releases: " << m_options.keep_releases << "\n"
        << "  lock_timeout: 30s\n"
        << "  nginx:\n"
        << "    mode: " << (m_options.mode == switchyard::NginxMode::Reload ? "reload" : "seamless")
        << "\n"
        << "    binary: " << settings.binary << "\n"
        << "    prefix: " << settings.prefix.string() << "\n"
        << "    conf: " << settings.conf.string() << "\n"
        << "    pid_file: " << settings.pid_file.string() << "\n"
        << "    include: " << settings.include_file.string() << "\n"
        << "    include_format: "
        << (m_options.include_format == switchyard::IncludeFormat::SetVariable ? "set" : "server")
        << "\n"
        << "    live_port_file: " << settings.live_port_file.string() << "\n"
        << "    router_script: " << settings.router_script.string() << "\n"
        << "    url: "
        << (m_options.nginx_url.empty()
                ? "http://127.0.0.1:" + std::to_string(m_nginx->port()) + "/version"
                : m_options.nginx_url)
        << "\n"
        << "    confirm_timeout: 3s\n"
        << extra_target;
  }

  // Points target.nginx.url elsewhere (a confirmation that must fail).
  void set_nginx_url(const std::string& url) {
    m_options.nginx_url = url;
    write_config();
  }

  // Runs `switchyard-<step> args...` (or `switchyard args...` for step ""),
  // with --config added and `environment` on top of the test's own.
  StepRun run(const std::string& step, std::vector<std::string> args,
              const std::map<std::string, std::string>& environment = {}) const {
    switchyard::ProcessSpec spec;
    spec.argv = {(k_bin_dir / (step.empty() ? "switchyard" : "switchyard-" + step)).string()};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.argv.push_back("--config");
    spec.argv.push_back(config().string());
    spec.set_environment = environment;
    spec.timeout = 120s;
    StepRun run;
    auto outcome =
        switchyard::run_process(spec, [&](switchyard::Stream stream, std::string_view line) {
          (stream == switchyard::Stream::Stdout ? run.out : run.err) += std::string(line) + "\n";
        });
    if (outcome) run.exit_code = outcome->exit_code;
    return run;
  }

  StepRun deploy(const std::string& version, std::vector<std::string> extra = {},
                 const std::map<std::string, std::string>& environment = {}) const {
    auto jar = version_jar(version);
    std::vector<std::string> args = {"--artifact", jar ? jar->string() : "missing", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run("switch-traffic", args, environment);
  }

  // Starts a step in the background with its stderr in `log`; the pid.
  pid_t start_in_background(const std::vector<std::string>& args,
                            const std::map<std::string, std::string>& environment,
                            const fs::path& log) const {
    std::vector<std::string> argv = {"/usr/bin/env"};
    for (const auto& [name, value] : environment)
      argv.push_back(name + "=" + value);
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--config");
    argv.push_back(config().string());
    return nginx_harness::spawn(argv, log);
  }

  // The version nginx serves now (X-App-Version of GET /version), or why not.
  std::string version_through_nginx() const {
    auto response = nginx_harness::get_once(m_nginx->port(), "/version");
    if (!response) return "no response";
    if (response->status != 200) return "HTTP " + std::to_string(response->status);
    return response->header("x-app-version");
  }

  switchyard::HostState state() const {
    auto state = switchyard::read_state(paths());
    return state ? *state : switchyard::HostState{};
  }
  std::vector<switchyard::HistoryRecord> history() const {
    return switchyard::read_history(paths());
  }

  // Stops every slot process recorded in state, so no JVM outlives the test.
  void stop_every_slot() {
    for (const auto& slot : state().slots) {
      if (slot.pid > 0 && nginx_harness::running(slot.pid)) {
        ::kill(-slot.pid, SIGKILL);
      }
      for (pid_t pid : switchyard::find_slot_token(slot.token))
        ::kill(pid, SIGKILL);
    }
  }

 private:
  nginx_harness::TempDir m_dir;
  HostOptions m_options;
  std::vector<int> m_ports;
  std::unique_ptr<nginx_harness::PrivateNginx> m_nginx;
};

// Why these tests cannot run here, or nullopt.
inline std::optional<std::string> why_unavailable(bool need_njs) {
  if (auto why = nginx_harness::why_unavailable(need_njs)) return why;
  if (!fs::exists(SWITCHYARD_SAMPLE_JAR)) {
    return std::string(SWITCHYARD_SAMPLE_JAR) +
           " not built; build the sample_service_jar target (needs mvn and java)";
  }
  if (!version_jar("1.0.0")) return "tests/support/make-version-jar.sh failed; is `jar` installed?";
  return std::nullopt;
}

// What a step printed, for the message of a failed assertion.
inline std::string context_of(const StepRun& run) {
  return "exit " + std::to_string(run.exit_code) + "\nstdout: " + run.out + "\nstderr: " + run.err;
}

// The fixture of the host tests: one TestHost per test, which is skipped
// (saying why) where nginx, njs or the sample service is missing.
class HostTest : public ::testing::Test {
 protected:
  void start(HostOptions options = {}) {
    if (auto why = why_unavailable(options.mode == switchyard::NginxMode::Seamless)) {
      GTEST_SKIP() << *why;
    }
    m_host = std::make_unique<TestHost>(options);
    ASSERT_EQ(m_host->start(), "");
  }

  // Deploys `version` and expects it to succeed and to answer through nginx.
  void deploy_ok(const std::string& version) {
    auto run = m_host->deploy(version);
    ASSERT_EQ(run.exit_code, 0) << context_of(run);
    ASSERT_EQ(m_host->version_through_nginx(), version) << m_host->nginx().error_log();
  }

  std::unique_ptr<TestHost> m_host;
};

// Waits until `file` contains `text` (a test pause marker), up to `timeout`.
inline bool wait_for_text(const fs::path& file, const std::string& text,
                          std::chrono::milliseconds timeout = 60s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (nginx_harness::read_text(file).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

}  // namespace host_harness
