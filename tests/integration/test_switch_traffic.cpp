// switchyard-switch-traffic against a real private nginx and the real sample
// service (versions 1.0.0, 2.0.0, 3.0.0): the zero-downtime path in both
// nginx modes, every way a new version can fail its gate, a broken nginx
// config, the host lock, SIGKILL in each phase, sha256 refusal, retention.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <future>
#include <iterator>
#include <thread>

#include "runner/host/nginx_config.hpp"
#include "tests/integration/host_harness.hpp"

namespace switchyard {
namespace {

using namespace std::chrono_literals;
using host_harness::context_of;

class SwitchTrafficTest : public host_harness::HostTest {};

struct ModeCase {
  const char* name;
  NginxMode mode;
  IncludeFormat format;
};

class SwitchTrafficModeTest : public SwitchTrafficTest,
                              public ::testing::WithParamInterface<ModeCase> {};

// v1 -> v2 -> v3: each switch moves traffic, the old slot is stopped once
// drained, and the result, state and history say what happened.
TEST_P(SwitchTrafficModeTest, DeploysThreeVersionsInTurn) {
  start({.mode = GetParam().mode, .include_format = GetParam().format});
  if (IsSkipped()) return;

  auto first = m_host->deploy("1.0.0");
  ASSERT_EQ(first.exit_code, 0) << context_of(first);
  EXPECT_EQ(m_host->version_through_nginx(), "1.0.0");
  auto result = first.json();
  EXPECT_EQ(result["version"].as_string(), "1.0.0");
  EXPECT_EQ(result["port"].as_int64(), m_host->port(1));
  EXPECT_EQ(result["slot"].as_string(), "green");
  EXPECT_EQ(result["previous_version"].as_string(), "");

  // Traffic through nginx never fails while v2 and v3 replace it.
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> answered{0};
  std::thread traffic([&] {
    while (!stop) {
      auto version = m_host->version_through_nginx();
      if (version != "1.0.0" && version != "2.0.0" && version != "3.0.0") {
        ++failures;
      }
      ++answered;
      std::this_thread::sleep_for(5ms);
    }
  });
  auto second = m_host->deploy("2.0.0");
  auto second_pid = m_host->state().find_port(m_host->port(0))
                        ? m_host->state().find_port(m_host->port(0))->pid
                        : 0;
  auto third = m_host->deploy("3.0.0");
  stop = true;
  traffic.join();
  ASSERT_EQ(second.exit_code, 0) << context_of(second);
  ASSERT_EQ(third.exit_code, 0) << context_of(third);
  EXPECT_EQ(failures.load(), 0) << "of " << answered.load() << " requests through nginx";
  EXPECT_GT(answered.load(), 20);
  EXPECT_EQ(m_host->version_through_nginx(), "3.0.0");
  EXPECT_EQ(second.json()["previous_version"].as_string(), "1.0.0");
  // Every request finished within the drain: none was cut.
  EXPECT_EQ(second.json()["cut_requests"].as_int64(), 0);
  EXPECT_EQ(second.json()["port"].as_int64(), m_host->port(0));
  EXPECT_EQ(third.json()["port"].as_int64(), m_host->port(1));

  auto state = m_host->state();
  ASSERT_NE(state.live(), nullptr);
  EXPECT_EQ(state.live()->version, "3.0.0");
  EXPECT_EQ(state.previous_version, "2.0.0");
  const auto* old_slot = state.find_port(m_host->port(0));
  ASSERT_NE(old_slot, nullptr);
  EXPECT_EQ(old_slot->status, SlotStatus::Stopped);
  EXPECT_GT(second_pid, 0);
  EXPECT_FALSE(nginx_harness::running(second_pid)) << "the drained v2 slot still runs";

  auto history = m_host->history();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[2].version, "3.0.0");
  EXPECT_EQ(history[2].outcome, "success");
  EXPECT_EQ(history[2].from_version, "2.0.0");
  EXPECT_EQ(history[2].from_port, m_host->port(0));
  EXPECT_EQ(history[2].to_port, m_host->port(1));
  std::vector<std::string> phases;
  for (const auto& [phase, ms] : history[2].durations_ms)
    phases.push_back(phase);
  EXPECT_EQ(phases, (std::vector<std::string>{"fetch", "boot", "healthy", "switched", "drained"}));
}

// POSTs to the sample service's /slow?ms=`ms` through nginx on `port` and
// waits up to a minute for the answer: its HTTP status, 0 when the
// connection broke without one. POST, because nginx does not resend a
// non-idempotent request to the other slot when the one it chose goes away.
int post_slow(int port, int ms) {
  int fd = nginx_harness::connect_loopback(port);
  if (fd < 0) return 0;
  timeval timeout{60, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string request = "POST /slow?ms=" + std::to_string(ms) +
                        " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n"
                        "Connection: close\r\n\r\nx";
  std::string answer;
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
      static_cast<ssize_t>(request.size())) {
    char chunk[4096];
    ssize_t got = 0;
    while (answer.size() < 12 && (got = ::recv(fd, chunk, sizeof(chunk), 0)) > 0)
      answer.append(chunk, static_cast<size_t>(got));
  }
  ::close(fd);
  return answer.size() >= 12 ? std::stoi(answer.substr(9, 3)) : 0;
}

// A request longer than target.drain_timeout is cut when the old slot is
// stopped, and switch-traffic says how many were, in its log and its result.
TEST_P(SwitchTrafficModeTest, ARequestLongerThanTheDrainTimeoutIsCountedAsCut) {
  start({.mode = GetParam().mode, .include_format = GetParam().format});
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  int old_port = m_host->port(1);
  int nginx_port = m_host->nginx().port();
  // Longer than the new slot's boot, gate, switch and drain together.
  auto slow = std::async(std::launch::async, [nginx_port] { return post_slow(nginx_port, 30000); });
  std::this_thread::sleep_for(300ms);  // the request reaches the old slot

  auto run = m_host->deploy("2.0.0", {}, {{"SWITCHYARD_TARGET__DRAIN_TIMEOUT", "1s"}});
  ASSERT_EQ(run.exit_code, 0) << context_of(run);
  EXPECT_EQ(run.json()["cut_requests"].as_int64(), 1) << context_of(run);
  EXPECT_NE(run.err.find("port " + std::to_string(old_port) +
                         ": 1 request still in flight after target.drain_timeout (1s); stopping "
                         "it anyway, which cuts it unless the service finishes it within "
                         "target.stop_grace (5s)"),
            std::string::npos)
      << run.err;
  // It was cut: the old service ended (SHUTDOWN_GRACE_MS 2000) before it answered.
  EXPECT_EQ(slow.get(), 502);
  EXPECT_EQ(m_host->version_through_nginx(), "2.0.0");
}

INSTANTIATE_TEST_SUITE_P(
    BothNginxModes, SwitchTrafficModeTest,
    ::testing::Values(ModeCase{"ReloadSet", NginxMode::Reload, IncludeFormat::SetVariable},
                      ModeCase{"ReloadServer", NginxMode::Reload, IncludeFormat::UpstreamServer},
                      ModeCase{"Seamless", NginxMode::Seamless, IncludeFormat::SetVariable}),
    [](const auto& info) { return std::string(info.param.name); });

// Each way a new version fails its gate: no switch, v1 answers, exit 1, and
// history says why.
struct GateFailure {
  const char* name;
  std::map<std::string, std::string> environment;
  std::string health_timeout;
  std::string expected_what;  // what the one-line error says after the subject
  bool logs_why = false;      // the service prints why it failed (FAIL_BOOT)
};

class GateFailureTest : public SwitchTrafficTest,
                        public ::testing::WithParamInterface<GateFailure> {};

TEST_P(GateFailureTest, KeepsTheOldVersionServing) {
  start({.health_timeout = GetParam().health_timeout});
  if (IsSkipped()) return;
  deploy_ok("1.0.0");

  auto run = m_host->deploy("2.0.0", {}, GetParam().environment);
  EXPECT_EQ(run.exit_code, 1) << context_of(run);
  auto log =
      m_host->paths().release_dir("2.0.0") / ("slot-" + std::to_string(m_host->port(0)) + ".log");
  EXPECT_EQ(run.json()["error"].as_string(),
            "hello 2.0.0 on port " + std::to_string(m_host->port(0)) + ": " +
                GetParam().expected_what + "; the old version 1.0.0 keeps serving; see " +
                log.string());
  EXPECT_EQ(m_host->version_through_nginx(), "1.0.0");
  EXPECT_FALSE(nginx_harness::wait_listening(m_host->port(0), 200ms)) << "the new slot still runs";

  auto history = m_host->history();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].outcome, "failed");
  EXPECT_EQ(history[1].reason, run.json()["error"].as_string());
  EXPECT_FALSE(history[1].last_health.empty());
  if (GetParam().logs_why) {
    EXPECT_NE(history[1].log_tail.find("FAIL_BOOT"), std::string::npos)
        << "no tail of the new slot's log: " << history[1].log_tail;
  }
  auto state = m_host->state();
  ASSERT_NE(state.live(), nullptr);
  EXPECT_EQ(state.live()->version, "1.0.0");
}

INSTANTIATE_TEST_SUITE_P(
    EveryWay, GateFailureTest,
    ::testing::Values(GateFailure{"Unhealthy",
                                  {{"SWITCHYARD_TARGET__ENVIRONMENT__FAIL_HEALTH", "1"}},
                                  "3s",
                                  "not healthy after 3s (status DOWN)"},
                      GateFailure{"ExitsAtBoot",
                                  {{"SWITCHYARD_TARGET__ENVIRONMENT__FAIL_BOOT", "1"}},
                                  "20s",
                                  "exited before it became healthy (last health answer: "
                                  "connection refused)",
                                  true},
                      GateFailure{"SlowerThanTheDeadline",
                                  {{"SWITCHYARD_TARGET__ENVIRONMENT__STARTUP_DELAY_MS", "8000"}},
                                  "2s",
                                  "not healthy after 2s (connection refused)"}),
    [](const auto& info) { return std::string(info.param.name); });

// nginx rejects the new configuration: the include is restored, the new slot
// stopped, v1 keeps answering, exit 1 with nginx's own message.
TEST_F(SwitchTrafficTest, BrokenNginxConfigIsRestoredAndTheOldVersionServes) {
  start();
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  auto include_before = nginx_harness::read_text(m_host->nginx().settings().include_file);
  auto conf = nginx_harness::read_text(m_host->nginx().settings().conf);
  m_host->nginx().write_conf(conf + "\nno_such_directive on;\n");

  auto run = m_host->deploy("2.0.0");
  EXPECT_EQ(run.exit_code, 1) << context_of(run);
  std::string error(run.json()["error"].as_string());
  EXPECT_NE(error.find("unknown directive \"no_such_directive\""), std::string::npos) << error;
  EXPECT_NE(error.find("; the old version 1.0.0 keeps serving"), std::string::npos) << error;
  EXPECT_EQ(nginx_harness::read_text(m_host->nginx().settings().include_file), include_before);
  EXPECT_EQ(m_host->version_through_nginx(), "1.0.0");
  EXPECT_FALSE(nginx_harness::wait_listening(m_host->port(0), 200ms));
  EXPECT_EQ(m_host->history().back().outcome, "failed");
}

// nginx does not confirm the new version (here target.nginx.url reaches the
// old slot, as a misrouted nginx would): switched back, new slot stopped.
TEST_F(SwitchTrafficTest, UnconfirmedSwitchIsUndone) {
  start();
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  std::string old_url = "http://127.0.0.1:" + std::to_string(m_host->port(1)) + "/version";
  m_host->set_nginx_url(old_url);

  auto run = m_host->deploy("2.0.0");
  EXPECT_EQ(run.exit_code, 1) << context_of(run);
  EXPECT_EQ(run.json()["error"].as_string(),
            old_url + ": answered version 1.0.0, not 2.0.0 (port " +
                std::to_string(m_host->port(0)) + "), after the switch; switched back to port " +
                std::to_string(m_host->port(1)) + "; the old version 1.0.0 keeps serving");
  EXPECT_EQ(m_host->version_through_nginx(), "1.0.0");
  EXPECT_EQ(*m_host->nginx().nginx().live_port(), m_host->port(1));
  EXPECT_FALSE(nginx_harness::wait_listening(m_host->port(0), 200ms));
  auto state = m_host->state();
  ASSERT_NE(state.live(), nullptr);
  EXPECT_EQ(state.live()->version, "1.0.0");
  EXPECT_EQ(m_host->history().back().outcome, "failed");
}

// Two deploys at once: the second waits, names the holder, exits 4; the
// lock is free again once the first is killed.
TEST_F(SwitchTrafficTest, SecondDeployWaitsThenExits4NamingTheHolder) {
  start();
  if (IsSkipped()) return;
  auto log = m_host->dir() / "first.log";
  auto jar = host_harness::version_jar("1.0.0");
  pid_t first =
      m_host->start_in_background({(host_harness::k_bin_dir / "switchyard-switch-traffic").string(),
                                   "--artifact", jar->string()},
                                  {{"SWITCHYARD_TEST_PAUSE_AT", "locked"}}, log);
  ASSERT_TRUE(host_harness::wait_for_text(log, "test pause at locked"))
      << nginx_harness::read_text(log);

  auto second = m_host->deploy("2.0.0", {"--lock-timeout", "1s"});
  EXPECT_EQ(second.exit_code, 4) << context_of(second);
  std::string error(second.json()["error"].as_string());
  auto lock = (m_host->state_dir() / "lock").string();
  EXPECT_EQ(
      error.rfind(lock + ": held by pid " + std::to_string(first) + " deploying 1.0.0 since ", 0),
      0u)
      << error;
  EXPECT_NE(error.find("; wait, or stop that deploy"), std::string::npos) << error;
  EXPECT_NE(second.err.find("waiting up to 1s"), std::string::npos) << second.err;

  ::kill(first, SIGKILL);
  ::waitpid(first, nullptr, 0);
  deploy_ok("2.0.0");
}

// SIGKILL at each phase: traffic keeps flowing, the next deploy cleans up
// the leftovers and succeeds, and no slot process is orphaned.
class KillTest : public SwitchTrafficTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(KillTest, TrafficKeepsFlowingAndTheNextDeploySucceeds) {
  start();
  if (IsSkipped()) return;
  deploy_ok("1.0.0");

  std::string phase = GetParam();
  auto log = m_host->dir() / "killed.log";
  auto jar = host_harness::version_jar("2.0.0");
  pid_t killed =
      m_host->start_in_background({(host_harness::k_bin_dir / "switchyard-switch-traffic").string(),
                                   "--artifact", jar->string()},
                                  {{"SWITCHYARD_TEST_PAUSE_AT", phase}}, log);
  ASSERT_TRUE(host_harness::wait_for_text(log, "test pause at " + phase))
      << nginx_harness::read_text(log);
  ::kill(killed, SIGKILL);
  ::waitpid(killed, nullptr, 0);

  // nginx points at a healthy slot whichever phase it died in.
  std::string version = m_host->version_through_nginx();
  bool switched = phase == "switched" || phase == "drained";
  EXPECT_EQ(version, switched ? "2.0.0" : "1.0.0") << "killed at " << phase;
  auto leftover = m_host->state();

  auto next = m_host->deploy("3.0.0");
  ASSERT_EQ(next.exit_code, 0) << context_of(next);
  EXPECT_EQ(m_host->version_through_nginx(), "3.0.0");
  // Whatever the killed deploy started is stopped now.
  for (const auto& slot : leftover.slots) {
    if (slot.version == "2.0.0" && slot.pid > 0) {
      EXPECT_FALSE(nginx_harness::running(slot.pid)) << "orphan 2.0.0 slot, pid " << slot.pid;
    }
  }
  for (const auto& slot : m_host->state().slots) {
    if (slot.version != "3.0.0") {
      EXPECT_EQ(slot.status, SlotStatus::Stopped) << slot.version;
    }
  }
  EXPECT_TRUE(leftover_release_dirs(m_host->paths()).empty());
}

INSTANTIATE_TEST_SUITE_P(EachPhase, KillTest,
                         ::testing::Values("locked", "fetched", "started", "health", "switched",
                                           "drained"),
                         [](const auto& info) { return std::string(info.param); });

// SIGTERM (a cancelled CI job) during the health gate: the new slot is
// stopped, the old version keeps serving, exit 130, history says so.
TEST_F(SwitchTrafficTest, InterruptDuringTheGateStopsTheNewSlotAndExits130) {
  start();
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  auto log = m_host->dir() / "interrupted.log";
  auto jar = host_harness::version_jar("2.0.0");
  pid_t deploy =
      m_host->start_in_background({(host_harness::k_bin_dir / "switchyard-switch-traffic").string(),
                                   "--artifact", jar->string()},
                                  {{"SWITCHYARD_TEST_PAUSE_AT", "health"}}, log);
  ASSERT_TRUE(host_harness::wait_for_text(log, "test pause at health"))
      << nginx_harness::read_text(log);
  ::kill(deploy, SIGTERM);
  int status = 0;
  ::waitpid(deploy, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << nginx_harness::read_text(log);
  EXPECT_EQ(WEXITSTATUS(status), 130) << nginx_harness::read_text(log);
  EXPECT_NE(nginx_harness::read_text(log).find(
                "hello 2.0.0 on port " + std::to_string(m_host->port(0)) +
                ": interrupted before the switch; stopped it; the old version 1.0.0 keeps serving"),
            std::string::npos)
      << nginx_harness::read_text(log);
  EXPECT_EQ(m_host->version_through_nginx(), "1.0.0");
  EXPECT_FALSE(nginx_harness::wait_listening(m_host->port(0), 200ms));
  EXPECT_EQ(m_host->history().back().outcome, "interrupted");
  EXPECT_EQ(m_host->state().find_port(m_host->port(0))->status, SlotStatus::Stopped);
}

// A sha256 mismatch is refused before anything starts; no sha256 at all is
// bad input unless --no-verify.
TEST_F(SwitchTrafficTest, RefusesASha256MismatchBeforeStartingAnything) {
  start();
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  auto jar = host_harness::version_jar("2.0.0");
  std::string wrong(64, 'a');

  auto run = m_host->deploy("2.0.0", {"--sha256", wrong});
  EXPECT_EQ(run.exit_code, 1) << context_of(run);
  std::string error(run.json()["error"].as_string());
  EXPECT_NE(error.find("sha256"), std::string::npos) << error;
  EXPECT_NE(error.find(wrong), std::string::npos) << error;
  EXPECT_FALSE(nginx_harness::wait_listening(m_host->port(0), 300ms)) << "a slot was started";
  EXPECT_EQ(m_host->state().slots.size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(m_host->paths().release_dir("2.0.0")));
  EXPECT_EQ(m_host->version_through_nginx(), "1.0.0");

  // Without a manifest and without --sha256 there is nothing to check against.
  auto bare = m_host->dir() / "bare" / "hello-2.0.0.jar";
  std::filesystem::create_directories(bare.parent_path());
  std::filesystem::copy_file(*jar, bare);
  auto unverified = m_host->run("switch-traffic", {"--artifact", bare.string(), "--json"});
  EXPECT_EQ(unverified.exit_code, 2) << context_of(unverified);
  EXPECT_EQ(unverified.json()["error"].as_string(),
            bare.string() +
                ": no sha256 to verify it against; pass --sha256, put its manifest "
                "(hello-2.0.0.jar.manifest.json) beside it, or pass --no-verify");

  auto accepted = m_host->run("switch-traffic",
                              {"--artifact", bare.string(), "--release", "2.0.0", "--no-verify"});
  EXPECT_EQ(accepted.exit_code, 0) << context_of(accepted);
  EXPECT_EQ(m_host->version_through_nginx(), "2.0.0");
}

// The release label is --release. An empty one (an expression that came out
// empty in a workflow), a bare one, or the old --version LABEL exit 2 before
// anything happens: no lock, no fetch, no slot; state and history unchanged.
TEST_F(SwitchTrafficTest, AnEmptyOrOldStyleReleaseLabelChangesNothing) {
  start();
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  auto read = [](const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string state = read(m_host->paths().state_file());
  const std::string history = read(m_host->paths().history_file());
  ASSERT_FALSE(state.empty());
  ASSERT_FALSE(history.empty());
  auto jar = host_harness::version_jar("2.0.0");
  ASSERT_TRUE(jar);

  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  std::vector<Case> cases = {
      {{"--artifact", jar->string(), "--release", ""},
       "switchyard-switch-traffic: --release: empty value; give it a value or leave the flag "
       "out"},
      {{"--artifact", jar->string(), "--release=", "--json"},
       "switchyard-switch-traffic: --release: empty value; give it a value or leave the flag "
       "out"},
      // The harness adds --config PATH after the arguments.
      {{"--artifact", jar->string(), "--release"},
       "switchyard-switch-traffic: --release: no value (the next argument is the flag "
       "--config); give it a value or leave the flag out"},
      {{"--release", "--artifact", jar->string()},
       "switchyard-switch-traffic: --release: no value (the next argument is the flag "
       "--artifact); give it a value or leave the flag out"},
      {{"--artifact", jar->string(), "--version", "2.0.0"},
       "switchyard-switch-traffic: --version prints the program's version and takes no other "
       "argument; the release label is now --release LABEL (build-jar: --release-template T), "
       "see CHANGELOG.md"},
      {{"--artifact", jar->string(), "--version"},
       "switchyard-switch-traffic: --version prints the program's version and takes no other "
       "argument; the release label is now --release LABEL (build-jar: --release-template T), "
       "see CHANGELOG.md"},
      {{"--artifact", "", "--release", "2.0.0"},
       "switchyard-switch-traffic: --artifact: empty value; give it a value or leave the flag "
       "out"},
  };
  for (const auto& c : cases) {
    auto run = m_host->run("switch-traffic", c.args);
    EXPECT_EQ(run.exit_code, 2) << context_of(run);
    EXPECT_NE(run.err.find("error: " + c.error + "\n"), std::string::npos) << run.err;
    EXPECT_EQ(read(m_host->paths().state_file()), state) << context_of(run);
    EXPECT_EQ(read(m_host->paths().history_file()), history) << context_of(run);
    EXPECT_FALSE(std::filesystem::exists(m_host->paths().release_dir("2.0.0")));
    EXPECT_EQ(m_host->version_through_nginx(), "1.0.0");
  }
}

// keep_releases 2: after v1, v2, v3 only v3 (live) and v2 (previous) remain.
TEST_F(SwitchTrafficTest, RetentionKeepsTheLiveAndThePreviousRelease) {
  start({.keep_releases = 2});
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  deploy_ok("2.0.0");
  auto third = m_host->deploy("3.0.0");
  ASSERT_EQ(third.exit_code, 0) << context_of(third);
  EXPECT_EQ(boost::json::serialize(third.json()["deleted_releases"]), "[\"1.0.0\"]");
  std::vector<std::string> kept;
  for (const auto& release : list_releases(m_host->paths()))
    kept.push_back(release.version);
  EXPECT_EQ(kept, (std::vector<std::string>{"2.0.0", "3.0.0"}));
}

TEST_F(SwitchTrafficTest, DryRunChangesNothingAndPrintNginxConfigPrintsTheSnippet) {
  start();
  if (IsSkipped()) return;
  auto run = m_host->deploy("1.0.0", {"--dry-run"});
  EXPECT_EQ(run.exit_code, 0) << context_of(run);
  EXPECT_TRUE(run.json()["dry_run"].as_bool());
  EXPECT_NE(run.err.find("would start hello 1.0.0 on port " + std::to_string(m_host->port(1))),
            std::string::npos)
      << run.err;
  EXPECT_FALSE(std::filesystem::exists(m_host->paths().state_file()));
  EXPECT_FALSE(nginx_harness::wait_listening(m_host->port(1), 200ms));

  auto snippet = m_host->run("switch-traffic", {"--print-nginx-config"});
  EXPECT_EQ(snippet.exit_code, 0) << context_of(snippet);
  EXPECT_EQ(snippet.out, config_snippet(m_host->nginx().settings()));
}

}  // namespace
}  // namespace switchyard
