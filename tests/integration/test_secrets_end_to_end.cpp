// Secrets, proven: a distinct sentinel in every secret input, the pipeline's
// steps run as the real executables under the GitHub adapter and under the
// Jenkins one, and then every place a secret could leak is searched: 0
// occurrences. Inputs covered: the AWS secret key and session token (the push
// to S3 through s3rver), a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE
// and AWS_ROLE_ARN: the host's fetch from S3, with credentials from the STS
// stand-in of tests/support/aws_standins.py), a health header given as
// `env:NAME` (switch-traffic's gate and verify-health), a `target.environment`
// value given as `env:NAME` (which must reach the service, and does), and, in
// a second test, the ssh private key of `request-deploy --via ssh` given as
// `deploy.ssh.identity_file: env:NAME`, deploying through a real sshd on
// loopback to the same host (a key cannot be a chosen sentinel: its base64
// body lines are searched for). build-jar takes no secret input.
//
// Exemptions, by name: the service's own environment (/proc/<pid>/environ of
// the slot) is where its variables belong; systemd mode's environment file is
// the one file that may hold them (this test runs process mode, so there is
// none); and `::add-mask::<secret>` lines on stderr under GitHub, which the
// runner consumes and which DESIGN.md names as the one line a secret is
// written.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "tests/integration/host_harness.hpp"
#include "tests/integration/s3_harness.hpp"
#include "tests/support/python_standin.hpp"

namespace switchyard {
namespace {

using namespace std::chrono_literals;
using host_harness::context_of;
using host_harness::StepRun;
namespace fs = std::filesystem;

const std::string k_secret_key = "sySentinelSecretKey7f3a9c";     // AWS_SECRET_ACCESS_KEY
const std::string k_session_token = "sySentinelSessionTok91c2e";  // AWS_SESSION_TOKEN
const std::string k_probe_header = "sySentinelProbeHeader0b8d";   // health.headers: env:PROBE_TOKEN
const std::string k_web_identity =
    "sySentinelWebIdentity5e2d";  // AWS_WEB_IDENTITY_TOKEN_FILE's text
const std::string k_service_secret = "sySentinelServiceEnv3a61";  // target.environment: env:
const std::vector<std::string> k_sentinels = {k_secret_key, k_session_token, k_probe_header,
                                              k_web_identity, k_service_secret};

// Reads /proc/<pid>/cmdline of every process, every few milliseconds, while
// it lives, and remembers each command line that held one of `sentinels`.
class CommandLineWatch {
 public:
  explicit CommandLineWatch(std::vector<std::string> sentinels = k_sentinels)
      : m_sentinels(std::move(sentinels)) {
    m_thread = std::thread([this] {
      while (!m_stop) {
        scan();
        std::this_thread::sleep_for(5ms);
      }
    });
  }
  ~CommandLineWatch() { stop(); }
  void stop() {
    m_stop = true;
    if (m_thread.joinable()) m_thread.join();
  }
  const std::set<std::string>& hits() const { return m_hits; }
  std::size_t processes_seen() const { return m_seen.size(); }

 private:
  void scan() {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator("/proc", error)) {
      auto name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::string cmdline = read_proc_file(entry.path() / "cmdline");
      m_seen.insert(name + ":" + cmdline.substr(0, 64));
      for (const auto& sentinel : m_sentinels) {
        if (cmdline.find(sentinel) != std::string::npos) m_hits.insert(cmdline);
      }
    }
  }

  // With read(2): a process that exits mid-read is an empty answer, not an
  // exception.
  static std::string read_proc_file(const fs::path& path) {
    std::string text;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return text;
    char buffer[4096];
    ssize_t count;
    while ((count = ::read(fd, buffer, sizeof(buffer))) > 0)
      text.append(buffer, static_cast<std::size_t>(count));
    ::close(fd);
    return text;
  }

  std::vector<std::string> m_sentinels;
  std::atomic<bool> m_stop{false};
  std::set<std::string> m_hits;
  std::set<std::string> m_seen;
  std::thread m_thread;
};

// Where one of `sentinels` appears in `text` (named `where`), one line per
// hit; GitHub's ::add-mask:: lines are the named exemption.
std::vector<std::string> leaks_in(const std::string& where, const std::string& text,
                                  const std::vector<std::string>& sentinels = k_sentinels) {
  std::vector<std::string> found;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("::add-mask::", 0) == 0) continue;
    for (const auto& sentinel : sentinels) {
      if (line.find(sentinel) != std::string::npos) found.push_back(where + ": " += line);
    }
  }
  return found;
}

std::vector<std::string> leaks_under(const fs::path& directory,
                                     const std::vector<std::string>& sentinels) {
  std::vector<std::string> found;
  std::error_code error;
  for (const auto& entry : fs::recursive_directory_iterator(directory, error)) {
    if (!entry.is_regular_file()) continue;
    auto more = leaks_in(entry.path().string(), nginx_harness::read_text(entry.path()), sentinels);
    found.insert(found.end(), more.begin(), more.end());
  }
  return found;
}

// The watch itself can fail: a command line holding a sentinel is seen.
TEST(SecretsWatch, SeesASentinelOnACommandLine) {
  CommandLineWatch watch;
  pid_t planted = nginx_harness::spawn({"/bin/sh", "-c", "sleep 0.3", k_session_token});
  ::waitpid(planted, nullptr, 0);
  watch.stop();
  EXPECT_EQ(watch.hits().size(), 1u);
  EXPECT_EQ(leaks_in("text", "a " + k_probe_header + " b\n::add-mask::" + k_secret_key).size(), 1u);
}

// Puts `lines` into the config file after the first line `after`.
void insert_into_config(const fs::path& config, const std::string& after,
                        const std::string& lines) {
  std::string text = nginx_harness::read_text(config);
  auto at = text.find(after);
  ASSERT_NE(at, std::string::npos) << after << " is not in " << config;
  text.insert(at + after.size(), lines);
  std::ofstream out(config, std::ios::trunc);
  out << text;
}

// The text of /proc/<pid>/environ, NUL-separated entries as lines.
std::string environ_of(pid_t pid) {
  std::string text = nginx_harness::read_text("/proc/" + std::to_string(pid) + "/environ");
  std::replace(text.begin(), text.end(), '\0', '\n');
  return text;
}

class SecretsEndToEndTest : public host_harness::HostTest,
                            public ::testing::WithParamInterface<const char*> {
 protected:
  bool github() const { return std::string(GetParam()) == "GitHub"; }
  fs::path ci() const { return m_host->dir() / "ci"; }

  // The host's configuration with the two `env:NAME` secrets: a health
  // header and a variable of the service's environment.
  void configure_env_references() {
    fs::create_directories(ci());
    insert_into_config(m_host->config(), "health:\n",
                       "  headers:\n    X-Probe-Token: env:PROBE_TOKEN\n");
    insert_into_config(m_host->config(), "  environment:\n",
                       "    SERVICE_SECRET: env:SERVICE_SECRET\n");
  }

  // The variables every step gets: the CI adapter's, and the `env:NAME`
  // secrets' values.
  std::map<std::string, std::string> ci_environment() const {
    std::map<std::string, std::string> environment = {
        {"PROBE_TOKEN", k_probe_header},
        {"SERVICE_SECRET", k_service_secret},
    };
    if (github()) {
      environment["GITHUB_ACTIONS"] = "true";
      environment["GITHUB_OUTPUT"] = (ci() / "github_output").string();
      environment["GITHUB_ENV"] = (ci() / "github_env").string();
      environment["GITHUB_STEP_SUMMARY"] = (ci() / "step_summary.md").string();
      environment["JENKINS_URL"] = "";
    } else {
      environment["JENKINS_URL"] = "http://jenkins.invalid/";
      environment["SWITCHYARD_OUTPUT_FILE"] = (ci() / "jenkins_outputs").string();
      environment["GITHUB_ACTIONS"] = "";
    }
    return environment;
  }

  // verify-health through the host's nginx, with the header from the
  // environment, expecting `version`.
  StepRun verify(const std::string& version,
                 const std::map<std::string, std::string>& environment) {
    return m_host->run(
        "verify-health",
        {"--header", "X-Probe-Token: env:PROBE_TOKEN", "--expect-version", version,
         "http://127.0.0.1:" + std::to_string(m_host->nginx().port()) + "/actuator/health",
         "--json"},
        environment);
  }

  // Searches every place a secret could leak for `sentinels`, and checks
  // that the search had something to read: the steps' output, the state dir
  // (state, history, releases, slot logs), the CI files, nginx's logs,
  // `more_places`, and every command line `watch` saw. The service's own
  // environment must hold SERVICE_SECRET (it is where that secret belongs).
  void expect_no_leaks(const std::vector<std::pair<std::string, StepRun>>& runs,
                       CommandLineWatch& watch, const std::vector<std::string>& sentinels,
                       const std::vector<fs::path>& more_places = {}) {
    watch.stop();
    // The sentinels did reach the programs: the GitHub runner was told to
    // mask each one that a step registered.
    if (github()) {
      std::string err;
      for (const auto& [step, run] : runs)
        err += run.err;
      for (const auto& sentinel : sentinels) {
        EXPECT_NE(err.find("::add-mask::" + sentinel), std::string::npos) << sentinel << "\n"
                                                                          << err;
      }
    }

    std::vector<std::string> leaks;
    auto add = [&](const std::vector<std::string>& more) {
      leaks.insert(leaks.end(), more.begin(), more.end());
    };
    for (const auto& [step, run] : runs) {
      add(leaks_in(step + " stdout", run.out, sentinels));
      add(leaks_in(step + " stderr", run.err, sentinels));
    }
    std::vector<fs::path> places = {m_host->state_dir(), ci(), m_host->nginx().prefix() / "logs"};
    places.insert(places.end(), more_places.begin(), more_places.end());
    for (const auto& place : places)
      add(leaks_under(place, sentinels));
    for (const auto& cmdline : watch.hits())
      leaks.push_back("/proc/<pid>/cmdline: " + cmdline);
    EXPECT_TRUE(leaks.empty()) << [&] {
      std::string text;
      for (const auto& leak : leaks)
        text += leak + "\n";
      return text;
    }();
    EXPECT_GT(watch.processes_seen(), 3u);
    // The CI files were written (a search of empty files proves nothing).
    if (github()) {
      EXPECT_FALSE(nginx_harness::read_text(ci() / "github_output").empty());
      EXPECT_FALSE(nginx_harness::read_text(ci() / "step_summary.md").empty());
    } else {
      EXPECT_FALSE(nginx_harness::read_text(ci() / "jenkins_outputs").empty());
    }
    auto state = m_host->state();
    ASSERT_NE(state.live(), nullptr);
    EXPECT_FALSE(nginx_harness::read_text(state.live()->log_file).empty());
    EXPECT_NE(environ_of(state.live()->pid).find("\nSERVICE_SECRET=" + k_service_secret + "\n"),
              std::string::npos)
        << "the service did not get target.environment's SERVICE_SECRET";
  }
};

TEST_P(SecretsEndToEndTest, NoSentinelReachesAnyOutput) {
  start();
  if (IsSkipped()) return;
  stores_test::S3rverWithProxy s3;
  if (!s3.start()) GTEST_SKIP() << "s3rver did not start (run scripts/setup for tests/node)";
  configure_env_references();

  // The web identity token and the STS stand-in's log hold the token by
  // design: they live outside every searched place.
  auto secrets = m_host->dir() / "secrets";
  fs::create_directories(secrets);
  {
    std::ofstream token(secrets / "web-identity-token");
    token << k_web_identity;
  }
  // STS answers with the one key id s3rver knows.
  test_support::PythonStandIn sts(
      std::string(SWITCHYARD_SOURCE_DIR) + "/tests/support/aws_standins.py", secrets / "sts.jsonl",
      {"--sts-access-key-id", "S3RVER"});
  ASSERT_GT(sts.port(), 0) << "tests/support/aws_standins.py did not start";

  auto environment = ci_environment();
  environment.insert({
      {"AWS_REGION", "us-east-1"},
      {"AWS_EC2_METADATA_DISABLED", "true"},
      {"AWS_SHARED_CREDENTIALS_FILE", (ci() / "no-credentials").string()},
      {"AWS_CONFIG_FILE", (ci() / "no-config").string()},
      {"SWITCHYARD_ARTIFACT__ENDPOINT", s3.endpoint()},
  });
  // The push signs with keys from the environment; the host's fetch with
  // credentials the chain gets for the web identity token.
  auto with_keys = environment;
  with_keys.insert({{"AWS_ACCESS_KEY_ID", "S3RVER"},
                    {"AWS_SECRET_ACCESS_KEY", k_secret_key},
                    {"AWS_SESSION_TOKEN", k_session_token}});
  auto with_web_identity = environment;
  with_web_identity.insert(
      {{"AWS_WEB_IDENTITY_TOKEN_FILE", (secrets / "web-identity-token").string()},
       {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/switchyard-deploy"},
       {"AWS_ENDPOINT_URL_STS", sts.url()}});

  auto jar = host_harness::version_jar("2.0.0");
  ASSERT_TRUE(jar);
  std::vector<std::pair<std::string, StepRun>> runs;
  CommandLineWatch watch;
  runs.emplace_back("push-artifact", m_host->run("push-artifact",
                                                 {"--store", "s3://artifacts/team", "--release",
                                                  "2.0.0", "--json", jar->string()},
                                                 with_keys));
  ASSERT_EQ(runs.back().second.exit_code, 0) << context_of(runs.back().second);
  std::string uri(runs.back().second.json()["artifact_uri"].as_string());
  runs.emplace_back(
      "switch-traffic",
      m_host->run("switch-traffic", {"--artifact", uri, "--endpoint", s3.endpoint(), "--json"},
                  with_web_identity));
  ASSERT_EQ(runs.back().second.exit_code, 0) << context_of(runs.back().second);
  runs.emplace_back("verify-health", verify("2.0.0", environment));
  ASSERT_EQ(runs.back().second.exit_code, 0) << context_of(runs.back().second);
  runs.emplace_back("status", m_host->run("", {"status", "--json"}, environment));

  // The fetch did use the web identity token.
  bool token_sent = false;
  for (const auto& request : sts.requests()) {
    token_sent |= request.at("body").as_string().find("WebIdentityToken=" + k_web_identity) !=
                  std::string::npos;
  }
  EXPECT_TRUE(token_sent) << "STS never received the web identity token";
  expect_no_leaks(runs, watch, k_sentinels);
}

// An sshd on loopback that lets in the holder of one fresh client key, as
// root (request-deploy then deploys to this very host over ssh).
class LoopbackSshd {
 public:
  explicit LoopbackSshd(const fs::path& dir) : m_dir(dir) {}
  ~LoopbackSshd() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGTERM);
      ::waitpid(m_pid, nullptr, 0);
    }
  }
  LoopbackSshd(const LoopbackSshd&) = delete;
  LoopbackSshd& operator=(const LoopbackSshd&) = delete;

  // "" when it answers, or why not.
  std::string start() {
    if (::geteuid() != 0) return "sshd on loopback needs root";
    if (!fs::exists("/usr/sbin/sshd") || !fs::exists("/usr/bin/ssh-keygen"))
      return "sshd or ssh-keygen: not installed (scripts/setup installs openssh-server)";
    fs::create_directories(m_dir);
    fs::create_directories("/run/sshd");
    for (const char* key : {"client_key", "host_key"}) {
      switchyard::ProcessSpec spec;
      spec.argv = {"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", key, "-f",
                   (m_dir / key).string()};
      auto made = switchyard::run_process(spec);
      if (!made || !made->succeeded()) return std::string("ssh-keygen ") + key + " failed";
    }
    fs::copy_file(m_dir / "client_key.pub", m_dir / "authorized_keys");
    m_port = nginx_harness::free_port();
    {
      std::ofstream config(m_dir / "sshd_config");
      config << "ListenAddress 127.0.0.1\nPort " << m_port << "\nHostKey "
             << (m_dir / "host_key").string() << "\nAuthorizedKeysFile "
             << (m_dir / "authorized_keys").string()
             << "\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
                "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPidFile none\n";
      std::istringstream host_key(nginx_harness::read_text(m_dir / "host_key.pub"));
      std::string type;
      std::string key;
      host_key >> type >> key;
      std::ofstream known_hosts(known_hosts_file());
      known_hosts << "[127.0.0.1]:" << m_port << " " << type << " " << key << "\n";
    }
    m_pid = nginx_harness::spawn({"/usr/sbin/sshd", "-D", "-f", (m_dir / "sshd_config").string(),
                                  "-E", (m_dir / "sshd.log").string()});
    if (m_pid <= 0 || !nginx_harness::wait_listening(m_port))
      return "sshd did not start: " + nginx_harness::read_text(m_dir / "sshd.log");
    return "";
  }

  std::string address() const { return "root@127.0.0.1:" + std::to_string(m_port); }
  fs::path known_hosts_file() const { return m_dir / "known_hosts"; }
  std::string private_key() const { return nginx_harness::read_text(m_dir / "client_key"); }

  // The lines of the private key's base64 body that are this key's own (the
  // first is the same in every OpenSSH key).
  std::vector<std::string> private_key_lines() const {
    std::vector<std::string> lines;
    std::istringstream in(private_key());
    std::string line;
    bool first = true;
    while (std::getline(in, line)) {
      if (line.starts_with("-----")) continue;
      if (!first && line.size() >= 40) lines.push_back(line);
      first = false;
    }
    return lines;
  }

 private:
  fs::path m_dir;
  pid_t m_pid = -1;
  int m_port = 0;
};

// The ssh private key (and the env:NAME secrets, which request-deploy
// resolves and sends to the host over ssh): request-deploy --via ssh to a
// real sshd, then verify-health and status.
TEST_P(SecretsEndToEndTest, NoSshKeyLineReachesAnyOutput) {
  start();
  if (IsSkipped()) return;
  LoopbackSshd sshd(m_host->dir() / "sshd");
  if (auto why = sshd.start(); !why.empty()) GTEST_SKIP() << why;
  configure_env_references();
  {
    std::ofstream out(m_host->config(), std::ios::app);
    out << "deploy:\n  via: ssh\n  hosts: [" << sshd.address()
        << "]\n  remote_bin: " << (host_harness::k_bin_dir / "switchyard").string()
        << "\n  ssh:\n    identity_file: env:DEPLOY_SSH_KEY\n    known_hosts: "
        << sshd.known_hosts_file().string() << "\n";
  }
  auto sentinels = sshd.private_key_lines();
  ASSERT_GE(sentinels.size(), 3u) << sshd.private_key();
  sentinels.insert(sentinels.end(), {k_probe_header, k_service_secret});
  auto environment = ci_environment();
  environment["DEPLOY_SSH_KEY"] = sshd.private_key();

  auto jar = host_harness::version_jar("2.0.0");
  ASSERT_TRUE(jar);
  std::vector<std::pair<std::string, StepRun>> runs;
  CommandLineWatch watch(sentinels);
  runs.emplace_back(
      "request-deploy",
      m_host->run("request-deploy", {"--artifact", jar->string(), "--json"}, environment));
  ASSERT_EQ(runs.back().second.exit_code, 0) << context_of(runs.back().second);
  runs.emplace_back("verify-health", verify("2.0.0", environment));
  ASSERT_EQ(runs.back().second.exit_code, 0) << context_of(runs.back().second);
  runs.emplace_back("status", m_host->run("", {"status", "--json"}, environment));

  // request-deploy hands ssh the key in a private file of its own, which
  // must be gone once it exits.
  std::vector<fs::path> ssh_directories;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/tmp", error)) {
    if (entry.path().filename().string().starts_with("switchyard-ssh-"))
      ssh_directories.push_back(entry.path());
  }
  expect_no_leaks(runs, watch, sentinels, ssh_directories);
}

INSTANTIATE_TEST_SUITE_P(BothAdapters, SecretsEndToEndTest, ::testing::Values("GitHub", "Jenkins"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace switchyard
