// Secrets, proven: a distinct sentinel in every secret input, the pipeline's
// steps run as the real executables under the GitHub adapter and under the
// Jenkins one, and then every place a secret could leak is searched: 0
// occurrences. Inputs covered: the AWS secret key and session token (push to
// S3 through s3rver and the host's fetch from it) and a health header given
// as `env:NAME` (switch-traffic's gate and verify-health). Not covered here,
// and why: build-jar takes no secret input; a web identity token is only read
// by the credential chain when no keys are in the environment and needs the
// STS stand-in (tests/integration/test_aws_credentials.cpp covers its
// masking); `target.environment` values given as `env:NAME` and the ssh
// private key of request-deploy do not exist on this branch.
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

#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "tests/integration/host_harness.hpp"
#include "tests/integration/s3_harness.hpp"

namespace switchyard {
namespace {

using namespace std::chrono_literals;
using host_harness::context_of;
using host_harness::StepRun;
namespace fs = std::filesystem;

const std::vector<std::string> k_sentinels = {
    "sySentinelSecretKey7f3a9c",  // AWS_SECRET_ACCESS_KEY
    "sySentinelSessionTok91c2e",  // AWS_SESSION_TOKEN
    "sySentinelProbeHeader0b8d",  // health.headers X-Probe-Token: env:PROBE_TOKEN
};

// Reads /proc/<pid>/cmdline of every process, every few milliseconds, while
// it lives, and remembers each command line that held a sentinel.
class CommandLineWatch {
 public:
  CommandLineWatch() {
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
      for (const auto& sentinel : k_sentinels) {
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

  std::atomic<bool> m_stop{false};
  std::set<std::string> m_hits;
  std::set<std::string> m_seen;
  std::thread m_thread;
};

// Where a sentinel appears in `text` (named `where`), one line per hit;
// GitHub's ::add-mask:: lines are the named exemption.
std::vector<std::string> leaks_in(const std::string& where, const std::string& text) {
  std::vector<std::string> found;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("::add-mask::", 0) == 0) continue;
    for (const auto& sentinel : k_sentinels) {
      if (line.find(sentinel) != std::string::npos) found.push_back(where + ": " + line);
    }
  }
  return found;
}

std::vector<std::string> leaks_under(const fs::path& directory) {
  std::vector<std::string> found;
  std::error_code error;
  for (const auto& entry : fs::recursive_directory_iterator(directory, error)) {
    if (!entry.is_regular_file()) continue;
    auto more = leaks_in(entry.path().string(), nginx_harness::read_text(entry.path()));
    found.insert(found.end(), more.begin(), more.end());
  }
  return found;
}

// The watch itself can fail: a command line holding a sentinel is seen.
TEST(SecretsWatch, SeesASentinelOnACommandLine) {
  CommandLineWatch watch;
  pid_t planted = nginx_harness::spawn({"/bin/sh", "-c", "sleep 0.3", k_sentinels[1]});
  ::waitpid(planted, nullptr, 0);
  watch.stop();
  EXPECT_EQ(watch.hits().size(), 1u);
  EXPECT_EQ(leaks_in("text", "a " + k_sentinels[2] + " b\n::add-mask::" + k_sentinels[0]).size(),
            1u);
}

class SecretsEndToEndTest : public host_harness::HostTest,
                            public ::testing::WithParamInterface<const char*> {};

TEST_P(SecretsEndToEndTest, NoSentinelReachesAnyOutput) {
  start();
  if (IsSkipped()) return;
  stores_test::S3rverWithProxy s3;
  if (!s3.start()) GTEST_SKIP() << "s3rver did not start (run scripts/setup for tests/node)";
  bool github = std::string(GetParam()) == "GitHub";

  // The health probe sends a header read from the environment.
  std::string config = nginx_harness::read_text(m_host->config());
  auto health = config.find("health:\n");
  ASSERT_NE(health, std::string::npos);
  config.insert(health + 8, "  headers:\n    X-Probe-Token: env:PROBE_TOKEN\n");
  {
    std::ofstream out(m_host->config(), std::ios::trunc);
    out << config;
  }

  auto ci = m_host->dir() / "ci";
  fs::create_directories(ci);
  std::map<std::string, std::string> environment = {
      {"AWS_ACCESS_KEY_ID", "S3RVER"},
      {"AWS_SECRET_ACCESS_KEY", k_sentinels[0]},
      {"AWS_SESSION_TOKEN", k_sentinels[1]},
      {"AWS_REGION", "us-east-1"},
      {"AWS_EC2_METADATA_DISABLED", "true"},
      {"AWS_SHARED_CREDENTIALS_FILE", (ci / "no-credentials").string()},
      {"AWS_CONFIG_FILE", (ci / "no-config").string()},
      {"PROBE_TOKEN", k_sentinels[2]},
      {"SWITCHYARD_ARTIFACT__ENDPOINT", s3.endpoint()},
  };
  if (github) {
    environment["GITHUB_ACTIONS"] = "true";
    environment["GITHUB_OUTPUT"] = (ci / "github_output").string();
    environment["GITHUB_ENV"] = (ci / "github_env").string();
    environment["GITHUB_STEP_SUMMARY"] = (ci / "step_summary.md").string();
    environment["JENKINS_URL"] = "";
  } else {
    environment["JENKINS_URL"] = "http://jenkins.invalid/";
    environment["SWITCHYARD_OUTPUT_FILE"] = (ci / "jenkins_outputs").string();
    environment["GITHUB_ACTIONS"] = "";
  }

  auto jar = host_harness::version_jar("2.0.0");
  ASSERT_TRUE(jar);
  std::vector<std::pair<std::string, StepRun>> runs;
  CommandLineWatch watch;
  runs.emplace_back("push-artifact", m_host->run("push-artifact",
                                                 {"--store", "s3://artifacts/team", "--release",
                                                  "2.0.0", "--json", jar->string()},
                                                 environment));
  ASSERT_EQ(runs.back().second.exit_code, 0) << context_of(runs.back().second);
  std::string uri(runs.back().second.json()["artifact_uri"].as_string());
  runs.emplace_back(
      "switch-traffic",
      m_host->run("switch-traffic", {"--artifact", uri, "--endpoint", s3.endpoint(), "--json"},
                  environment));
  ASSERT_EQ(runs.back().second.exit_code, 0) << context_of(runs.back().second);
  runs.emplace_back(
      "verify-health",
      m_host->run(
          "verify-health",
          {"--header", "X-Probe-Token: env:PROBE_TOKEN", "--expect-version", "2.0.0",
           "http://127.0.0.1:" + std::to_string(m_host->nginx().port()) + "/actuator/health",
           "--json"},
          environment));
  ASSERT_EQ(runs.back().second.exit_code, 0) << context_of(runs.back().second);
  runs.emplace_back("status", m_host->run("", {"status", "--json"}, environment));
  watch.stop();

  // The sentinels did reach the programs: the GitHub runner was told to
  // mask each one that a step registered.
  if (github) {
    std::string err;
    for (const auto& [step, run] : runs)
      err += run.err;
    EXPECT_NE(err.find("::add-mask::" + k_sentinels[0]), std::string::npos) << err;
  }

  std::vector<std::string> leaks;
  for (const auto& [step, run] : runs) {
    for (const auto& leak : leaks_in(step + " stdout", run.out))
      leaks.push_back(leak);
    for (const auto& leak : leaks_in(step + " stderr", run.err))
      leaks.push_back(leak);
  }
  // State, history, releases and the slot logs all live in the state dir.
  for (const auto& leak : leaks_under(m_host->state_dir()))
    leaks.push_back(leak);
  for (const auto& leak : leaks_under(ci))
    leaks.push_back(leak);
  for (const auto& leak : leaks_under(m_host->nginx().prefix() / "logs"))
    leaks.push_back(leak);
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
  if (github) {
    EXPECT_FALSE(nginx_harness::read_text(ci / "github_output").empty());
    EXPECT_FALSE(nginx_harness::read_text(ci / "step_summary.md").empty());
  } else {
    EXPECT_FALSE(nginx_harness::read_text(ci / "jenkins_outputs").empty());
  }
  auto state = m_host->state();
  ASSERT_NE(state.live(), nullptr);
  EXPECT_FALSE(nginx_harness::read_text(state.live()->log_file).empty());
}

INSTANTIATE_TEST_SUITE_P(BothAdapters, SecretsEndToEndTest, ::testing::Values("GitHub", "Jenkins"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace switchyard
