// The fault matrix (docs/RELIABILITY.md): one test per fault a host can meet
// during or between deploys, each with a load generator running through the
// test's private nginx. The bar: 0 failed requests wherever the old version
// was serving, the user told what happened in one line, the next deploy
// cleaning up and succeeding, no orphan process, no torn history line.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <boost/json.hpp>

#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "runner/host/slots_supervisor.hpp"
#include "runner/host/switch.hpp"
#include "tests/integration/host_harness.hpp"

namespace switchyard {
namespace {

using namespace std::chrono_literals;
using host_harness::context_of;
using host_harness::StepRun;
using nginx_harness::Load;
namespace fs = std::filesystem;

// Every line of history.jsonl is one whole JSON object: a killed deploy
// never leaves half a line.
void expect_no_torn_history_line(const host_harness::TestHost& host) {
  std::ifstream in(host.paths().history_file());
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    boost::json::error_code error;
    auto value = boost::json::parse(line, error);
    EXPECT_TRUE(!error && value.is_object()) << "history line " << number << ": " << line;
  }
}

// The processes whose command line names this test's state directory (the
// slots' artifacts live there), with their process groups.
std::map<pid_t, pid_t> processes_of(const host_harness::TestHost& host) {
  std::map<pid_t, pid_t> found;
  std::string needle = host.state_dir().string();
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/proc", error)) {
    auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(needle) == std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    if (process_start_ticks(pid) == 0) continue;  // a zombie
    found[pid] = ::getpgid(pid);
  }
  return found;
}

// Only the live slot's processes (its supervisor and service, one process
// group) run: nothing a killed deploy started is left behind.
void expect_no_orphan(const host_harness::TestHost& host) {
  auto state = host.state();
  ASSERT_NE(state.live(), nullptr);
  pid_t live_group = state.live()->pid;
  for (const auto& [pid, group] : processes_of(host)) {
    EXPECT_EQ(group, live_group) << "orphan process " << pid << " (group " << group
                                 << "); the live slot is group " << live_group;
  }
}

// `switchyard status --json` agrees with what nginx serves.
boost::json::object status_of(const host_harness::TestHost& host) {
  auto run = host.run("", {"status", "--json"});
  EXPECT_EQ(run.exit_code, 0) << context_of(run);
  return run.json();
}

void expect_status_tells_the_truth(const host_harness::TestHost& host) {
  auto status = status_of(host);
  std::string served = host.version_through_nginx();
  EXPECT_EQ(std::string(status["version"].as_string()), served) << boost::json::serialize(status);
  EXPECT_EQ(status["port"].as_int64(), status["nginx_port"].as_int64())
      << boost::json::serialize(status);
  EXPECT_TRUE(status["running"].as_bool()) << boost::json::serialize(status);
  EXPECT_TRUE(status["healthy"].as_bool()) << boost::json::serialize(status);
}

class FaultMatrixTest : public host_harness::HostTest {
 protected:
  void start_host(host_harness::HostOptions options = {}) {
    start(options);
    if (IsSkipped()) return;
    if (!test_seams_compiled()) GTEST_SKIP() << "built without SWITCHYARD_TEST_SEAMS";
  }

  // Fresh connections per request in reload mode: a reload closes idle
  // keep-alive connections by design (docs/NGINX.md), which is not a failed
  // request; a new connection must always be answered.
  std::unique_ptr<Load> load() {
    return std::make_unique<Load>(m_host->nginx().port(), 4, /*fresh_connections=*/true);
  }

  void expect_no_failed_request(Load& load) {
    load.stop();
    EXPECT_GT(load.requests(), 20);
    EXPECT_EQ(load.failed(), 0) << load.non_2xx() << " non-2xx, " << load.socket_errors()
                                << " socket errors of " << load.requests();
  }

  // A deploy of `version` in the background, paused at `phase`; its pid.
  pid_t deploy_paused_at(const std::string& version, const std::string& phase,
                         const fs::path& log) {
    auto jar = host_harness::version_jar(version);
    pid_t pid = m_host->start_in_background(
        {(host_harness::k_bin_dir / "switchyard-switch-traffic").string(), "--artifact",
         jar->string()},
        {{"SWITCHYARD_TEST_PAUSE_AT", phase}}, log);
    EXPECT_TRUE(host_harness::wait_for_text(log, "test pause at " + phase))
        << nginx_harness::read_text(log);
    return pid;
  }
};

// switch-traffic SIGKILLed in each phase, under load.
class KilledDeployTest : public FaultMatrixTest,
                         public ::testing::WithParamInterface<const char*> {};

TEST_P(KilledDeployTest, StatusTellsTheTruthAndTheNextDeployCleansUp) {
  start_host();
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  auto traffic = load();

  std::string phase = GetParam();
  pid_t killed = deploy_paused_at("2.0.0", phase, m_host->dir() / "killed.log");
  ::kill(killed, SIGKILL);
  ::waitpid(killed, nullptr, 0);

  // nginx points at a healthy slot whichever phase it died in, and status
  // says which; a slot the killed deploy was starting is named as left.
  bool switched = phase == "switched" || phase == "drained" || phase == "recording";
  EXPECT_EQ(m_host->version_through_nginx(), switched ? "2.0.0" : "1.0.0");
  expect_status_tells_the_truth(*m_host);
  bool left_starting = phase == "spawned" || phase == "started" || phase == "health";
  EXPECT_EQ(std::string(status_of(*m_host)["abandoned_version"].as_string()),
            left_starting ? "2.0.0" : "");
  expect_no_torn_history_line(*m_host);

  auto next = m_host->deploy("3.0.0");
  ASSERT_EQ(next.exit_code, 0) << context_of(next);
  EXPECT_EQ(m_host->version_through_nginx(), "3.0.0");
  expect_no_failed_request(*traffic);
  expect_status_tells_the_truth(*m_host);
  expect_no_orphan(*m_host);
  expect_no_torn_history_line(*m_host);
  for (const auto& slot : m_host->state().slots) {
    if (slot.version != "3.0.0") EXPECT_EQ(slot.status, SlotStatus::Stopped) << slot.version;
  }
  EXPECT_TRUE(leftover_release_dirs(m_host->paths()).empty());
}

INSTANTIATE_TEST_SUITE_P(EachPhase, KilledDeployTest,
                         ::testing::Values("locked", "fetching", "fetched", "spawned", "started",
                                           "health", "switched", "drained", "recording"),
                         [](const auto& info) { return std::string(info.param); });

// The live slot's JVM SIGKILLed between deploys: its supervisor starts it
// again on the same port, healthy within its boot time + 2 s; nginx is never
// pointed anywhere else; status counts the restart and names the exit.
TEST_F(FaultMatrixTest, LiveJvmKilledBetweenDeploysComesBack) {
  start_host();
  if (IsSkipped()) return;
  auto first = m_host->deploy("1.0.0");
  ASSERT_EQ(first.exit_code, 0) << context_of(first);
  auto durations = first.json()["durations"].as_object();
  auto boot = std::chrono::milliseconds(durations["boot_ms"].as_int64() +
                                        durations["healthy_ms"].as_int64());
  auto state = m_host->state();
  const auto* live = state.live();
  ASSERT_NE(live, nullptr);
  int port = live->port;
  auto supervisor = read_supervisor_status(supervisor_status_file(live->log_file));
  ASSERT_TRUE(supervisor) << "no supervisor status beside " << live->log_file;
  ASSERT_TRUE(supervisor->armed);
  pid_t jvm = supervisor->service_pid;
  ASSERT_GT(jvm, 0);
  ASSERT_NE(jvm, live->pid) << "the recorded pid is the supervisor, not the service";

  // Watch where nginx points for the whole outage.
  std::atomic<bool> watching{true};
  std::set<int> pointed_at;
  std::thread watcher([&] {
    while (watching) {
      if (auto at = m_host->nginx().nginx().live_port()) pointed_at.insert(*at);
      std::this_thread::sleep_for(20ms);
    }
  });
  auto traffic = load();
  std::this_thread::sleep_for(300ms);

  auto killed_at = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(jvm, SIGKILL), 0);
  bool back = false;
  while (std::chrono::steady_clock::now() - killed_at < boot + 2s + 5s) {
    auto response = nginx_harness::get_once(port, "/actuator/health");
    if (response && response->status == 200) {
      back = true;
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  auto outage = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - killed_at);
  watching = false;
  watcher.join();
  traffic->stop();
  std::printf(
      "live JVM killed: healthy again after %lld ms (boot %lld ms); %ld of %ld requests "
      "failed during the outage\n",
      static_cast<long long>(outage.count()), static_cast<long long>(boot.count()),
      traffic->failed(), traffic->requests());
  ASSERT_TRUE(back) << nginx_harness::read_text(live->log_file);
  EXPECT_LE(outage, boot + 2s);
  EXPECT_EQ(pointed_at, std::set<int>{port});
  EXPECT_EQ(m_host->version_through_nginx(), "1.0.0");

  auto status = status_of(*m_host);
  EXPECT_EQ(status["restarts"].as_int64(), 1) << boost::json::serialize(status);
  EXPECT_EQ(std::string(status["last_exit"].as_string()), "signal 9 (Killed)");
  EXPECT_TRUE(status["healthy"].as_bool());
  auto text = m_host->run("", {"status"});
  EXPECT_NE(text.out.find("  restarts: 1 (last exit: signal 9 (Killed) at "), std::string::npos)
      << text.out;
  EXPECT_NE(nginx_harness::read_text(live->log_file)
                .find("ended with signal 9 (Killed); restarting it in 200ms (restart 1)"),
            std::string::npos);

  // The next deploy stops the supervised slot for good: no restart, no orphan.
  deploy_ok("2.0.0");
  EXPECT_FALSE(nginx_harness::wait_listening(port, 300ms));
  expect_no_orphan(*m_host);
}

// A slot that is not live yet is not restarted: its deploy fails as before.
TEST_F(FaultMatrixTest, AStartingSlotThatExitsIsNotRestarted) {
  start_host();
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  auto traffic = load();
  auto run = m_host->deploy("2.0.0", {}, {{"SWITCHYARD_TARGET__ENVIRONMENT__FAIL_BOOT", "1"}});
  EXPECT_EQ(run.exit_code, 1) << context_of(run);
  EXPECT_NE(run.last_error_line().find("exited before it became healthy"), std::string::npos)
      << run.err;
  expect_no_failed_request(*traffic);
  auto state = m_host->state();
  const auto* failed = state.find_port(m_host->port(0));
  ASSERT_NE(failed, nullptr);
  auto supervisor = read_supervisor_status(supervisor_status_file(failed->log_file));
  ASSERT_TRUE(supervisor);
  EXPECT_EQ(supervisor->restarts, 0);
  EXPECT_FALSE(nginx_harness::wait_listening(m_host->port(0), 300ms));
}

// A stranger listens on the idle port: refused before anything starts.
TEST_F(FaultMatrixTest, IdlePortHeldByAStranger) {
  start_host();
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  auto traffic = load();
  int idle = m_host->port(0);
  pid_t stranger = nginx_harness::spawn(
      {nginx_harness::k_python.string(), "-c",
       "import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,"
       "1)\ns.bind(('127.0.0.1'," +
           std::to_string(idle) + "))\ns.listen(5)\ntime.sleep(600)"});
  ASSERT_TRUE(nginx_harness::wait_listening(idle));

  auto run = m_host->deploy("2.0.0");
  EXPECT_EQ(run.exit_code, 1) << context_of(run);
  EXPECT_EQ(std::string(run.json()["error"].as_string()),
            "port " + std::to_string(idle) +
                ": in use by a process switchyard did not start; stop it, or change "
                "target.ports; the old version 1.0.0 keeps serving");
  EXPECT_TRUE(nginx_harness::running(stranger)) << "switchyard touched the stranger";
  expect_no_failed_request(*traffic);
  expect_status_tells_the_truth(*m_host);

  ::kill(stranger, SIGKILL);
  ::waitpid(stranger, nullptr, 0);
  deploy_ok("2.0.0");
  expect_no_orphan(*m_host);
  expect_no_torn_history_line(*m_host);
}

// nginx is not running: the switch cannot happen; the new slot is stopped,
// the old one still runs, and once nginx is back it serves the old version.
TEST_F(FaultMatrixTest, NginxStopped) {
  start_host();
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  m_host->nginx().stop();

  auto run = m_host->deploy("2.0.0");
  EXPECT_EQ(run.exit_code, 3) << context_of(run);
  std::string error(run.json()["error"].as_string());
  EXPECT_NE(error.find("nginx"), std::string::npos) << error;
  EXPECT_NE(error.find("; the old version 1.0.0 keeps serving"), std::string::npos) << error;
  EXPECT_FALSE(nginx_harness::wait_listening(m_host->port(0), 300ms)) << "new slot left running";
  auto direct = nginx_harness::get_once(m_host->port(1), "/version");
  ASSERT_TRUE(direct) << "the old slot stopped";
  EXPECT_EQ(direct->header("x-app-version"), "1.0.0");

  ASSERT_EQ(m_host->nginx().start(), "");
  auto traffic = load();
  EXPECT_EQ(m_host->version_through_nginx(), "1.0.0");
  expect_status_tells_the_truth(*m_host);
  deploy_ok("2.0.0");
  expect_no_failed_request(*traffic);
  expect_no_orphan(*m_host);
}

// Someone broke nginx's configuration before the deploy (`nginx -t` already
// fails): nothing is reloaded, the include is restored, the old version
// keeps serving from nginx's running configuration.
TEST_F(FaultMatrixTest, NginxConfigBrokenBeforeTheDeploy) {
  start_host();
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  auto traffic = load();
  const auto& conf = m_host->nginx().settings().conf;
  std::string good_conf = nginx_harness::read_text(conf);
  std::string include_before = nginx_harness::read_text(m_host->nginx().settings().include_file);
  {
    std::ofstream out(conf, std::ios::app);
    out << "\nthis_is_not_a_directive;\n";
  }

  auto run = m_host->deploy("2.0.0");
  EXPECT_EQ(run.exit_code, 1) << context_of(run);
  std::string error(run.json()["error"].as_string());
  EXPECT_NE(error.find("nginx -t"), std::string::npos) << error;
  EXPECT_NE(error.find("this_is_not_a_directive"), std::string::npos) << error;
  EXPECT_NE(error.find("; the old version 1.0.0 keeps serving"), std::string::npos) << error;
  EXPECT_EQ(nginx_harness::read_text(m_host->nginx().settings().include_file), include_before);
  EXPECT_FALSE(nginx_harness::wait_listening(m_host->port(0), 300ms)) << "new slot left running";
  EXPECT_EQ(m_host->version_through_nginx(), "1.0.0");
  expect_status_tells_the_truth(*m_host);

  m_host->nginx().write_conf(good_conf);
  deploy_ok("2.0.0");
  expect_no_failed_request(*traffic);
  expect_no_orphan(*m_host);
  expect_no_torn_history_line(*m_host);
}

// The state directory's disk is full (a 4 MiB tmpfs in a mount namespace of
// this test's own): the deploy fails before anything starts, state.json and
// history are intact, and once there is room the next deploy succeeds.
TEST_F(FaultMatrixTest, StateDirectoryDiskFull) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  // A private mount namespace: the tmpfs is seen only by this test process
  // and what it starts, and goes away with them.
  ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << std::strerror(errno);
  ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0)
      << std::strerror(errno);
  start_host();
  if (IsSkipped()) return;
  fs::create_directories(m_host->state_dir());
  ASSERT_EQ(::mount("tmpfs", m_host->state_dir().c_str(), "tmpfs", 0, "size=4m"), 0)
      << std::strerror(errno);
  deploy_ok("1.0.0");
  auto traffic = load();
  std::string state_before = nginx_harness::read_text(m_host->paths().state_file());
  std::string history_before = nginx_harness::read_text(m_host->paths().history_file());

  // Fill the disk.
  auto filler = m_host->state_dir() / "filler";
  {
    std::ofstream out(filler, std::ios::binary);
    std::string block(64 * 1024, 'x');
    while (out.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
  }

  auto run = m_host->deploy("2.0.0");
  EXPECT_NE(run.exit_code, 0) << context_of(run);
  std::string error(run.json()["error"].as_string());
  EXPECT_NE(error.find("No space left on device"), std::string::npos) << error;
  EXPECT_EQ(m_host->version_through_nginx(), "1.0.0");
  EXPECT_EQ(nginx_harness::read_text(m_host->paths().state_file()), state_before);
  std::string history_after = nginx_harness::read_text(m_host->paths().history_file());
  EXPECT_EQ(history_after.compare(0, history_before.size(), history_before), 0);
  expect_no_torn_history_line(*m_host);
  EXPECT_FALSE(nginx_harness::wait_listening(m_host->port(0), 300ms)) << "new slot left running";
  expect_status_tells_the_truth(*m_host);

  fs::remove(filler);
  deploy_ok("2.0.0");
  expect_no_failed_request(*traffic);
  expect_no_orphan(*m_host);
  m_host->stop_every_slot();
  ::umount2(m_host->state_dir().c_str(), MNT_DETACH);
}

// state.json truncated, or not JSON at all: every command says which file
// and how to recover, exits 2, and leaves the file exactly as it was.
class BrokenStateTest : public FaultMatrixTest,
                        public ::testing::WithParamInterface<const char*> {};

TEST_P(BrokenStateTest, IsReportedKeptAndNeverOverwritten) {
  start_host();
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  auto traffic = load();
  auto file = m_host->paths().state_file();
  std::string whole = nginx_harness::read_text(file);
  std::string broken = std::string(GetParam()) == "truncated" ? whole.substr(0, whole.size() / 2)
                                                              : "<html>not json</html>\n";
  {
    std::ofstream out(file, std::ios::trunc);
    out << broken;
  }

  auto expected_prefix = file.string() + ": not valid JSON (";
  auto expected_advice = "; nothing was changed and the file is kept; move it aside (mv " +
                         file.string() + " " + file.string() +
                         ".broken) and deploy again; the slot it recorded is then yours to stop";
  for (const auto& run : {m_host->deploy("2.0.0"), m_host->run("", {"status", "--json"}),
                          m_host->run("rollback", {"--json"})}) {
    EXPECT_EQ(run.exit_code, 2) << context_of(run);
    std::string error(run.json()["error"].as_string());
    EXPECT_EQ(error.rfind(expected_prefix, 0), 0u) << error;
    EXPECT_NE(error.find(expected_advice), std::string::npos) << error;
  }
  EXPECT_EQ(nginx_harness::read_text(file), broken) << "the evidence was overwritten";
  EXPECT_FALSE(nginx_harness::wait_listening(m_host->port(0), 300ms)) << "a slot was started";
  EXPECT_EQ(m_host->version_through_nginx(), "1.0.0");
  expect_no_failed_request(*traffic);
  // Put the good file back, so the harness finds the slot to stop.
  {
    std::ofstream out(file, std::ios::trunc);
    out << whole;
  }
}

INSTANTIATE_TEST_SUITE_P(TruncatedOrNotJson, BrokenStateTest,
                         ::testing::Values("truncated", "not_json"),
                         [](const auto& info) { return std::string(info.param); });

// The wall clock stepped back an hour in the middle of a deploy (libfaketime
// from Debian, reading its offset from a file the test rewrites; the
// machine's clock is never touched, and the monotonic clock is left alone as
// a real step leaves it): the deploy's timeouts and durations use the
// monotonic clock, so it succeeds; only the timestamps it writes go back.
//
// Not in a sanitizer build (scripts/sanitize): libfaketime's start-up looks
// symbols up with dlsym, which allocates, while the sanitizer's allocator,
// itself starting, waits on the clock libfaketime is replacing; the step
// hangs before main (seen with clang 14's ASan). The normal build runs it.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SWITCHYARD_TEST_SANITIZED 1
#endif
#endif
TEST_F(FaultMatrixTest, ClockSteppedBackwardsDuringADeploy) {
#ifdef SWITCHYARD_TEST_SANITIZED
  GTEST_SKIP() << "libfaketime deadlocks with the sanitizer runtime at start-up; the normal "
                  "build (scripts/test) runs this test";
#endif
  const fs::path faketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
  if (!fs::exists(faketime)) GTEST_SKIP() << faketime << " missing (apt-get install faketime)";
  start_host();
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  auto traffic = load();
  auto offset = m_host->dir() / "faketime-offset";
  {
    std::ofstream out(offset);
    out << "+0\n";
  }
  auto log = m_host->dir() / "stepped.log";
  auto jar = host_harness::version_jar("2.0.0");
  pid_t deploy =
      m_host->start_in_background({(host_harness::k_bin_dir / "switchyard-switch-traffic").string(),
                                   "--artifact", jar->string(), "--json"},
                                  {{"LD_PRELOAD", faketime.string()},
                                   {"FAKETIME_TIMESTAMP_FILE", offset.string()},
                                   {"FAKETIME_NO_CACHE", "1"},
                                   {"FAKETIME_DONT_FAKE_MONOTONIC", "1"}},
                                  log);
  ASSERT_TRUE(host_harness::wait_for_text(log, ": starting (")) << nginx_harness::read_text(log);
  {
    std::ofstream out(offset, std::ios::trunc);
    out << "-1h\n";
  }
  int status = 0;
  ::waitpid(deploy, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << nginx_harness::read_text(log);
  EXPECT_EQ(m_host->version_through_nginx(), "2.0.0");
  auto history = m_host->history();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].outcome, "success");
  EXPECT_LT(history[1].time, history[0].time) << "the clock did not step back";
  for (const auto& [phase, ms] : history[1].durations_ms)
    EXPECT_GE(ms, 0) << phase;

  deploy_ok("3.0.0");
  expect_no_failed_request(*traffic);
  expect_status_tells_the_truth(*m_host);
  expect_no_orphan(*m_host);
  expect_no_torn_history_line(*m_host);
}

// Two deploys started at the same instant: the lock orders them, both
// succeed one after the other, and history has both, whole.
TEST_F(FaultMatrixTest, TwoDeploysAtTheSameInstant) {
  start_host();
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  auto traffic = load();
  StepRun second;
  std::atomic<bool> go{false};
  std::thread other([&] {
    while (!go) {
    }
    second = m_host->deploy("3.0.0");
  });
  go = true;
  auto first = m_host->deploy("2.0.0");
  other.join();
  EXPECT_EQ(first.exit_code, 0) << context_of(first);
  EXPECT_EQ(second.exit_code, 0) << context_of(second);
  bool one_waited = first.err.find("; waiting up to 30s") != std::string::npos ||
                    second.err.find("; waiting up to 30s") != std::string::npos;
  EXPECT_TRUE(one_waited) << first.err << second.err;
  std::string served = m_host->version_through_nginx();
  EXPECT_TRUE(served == "2.0.0" || served == "3.0.0") << served;
  expect_no_failed_request(*traffic);
  expect_status_tells_the_truth(*m_host);
  expect_no_orphan(*m_host);
  expect_no_torn_history_line(*m_host);
  auto history = m_host->history();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[1].outcome, "success");
  EXPECT_EQ(history[2].outcome, "success");
  EXPECT_EQ(history[2].from_version, history[1].version);
}

}  // namespace
}  // namespace switchyard
