// The process-mode slot supervisor (host/slots_supervisor), run as the real
// `switchyard supervise-slot` with a shell standing in for the service.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

#include "runner/host/slots.hpp"
#include "runner/host/slots_supervisor.hpp"
#include "tests/integration/nginx_harness.hpp"

namespace switchyard {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class SlotSupervisorTest : public ::testing::Test {
 protected:
  fs::path status_file() const { return m_dir.path() / "slot-8081.supervisor.json"; }
  fs::path log() const { return m_dir.path() / "slot-8081.log"; }

  pid_t supervise(const std::string& script) {
    return nginx_harness::spawn(
        {(fs::path(SWITCHYARD_BIN_DIR) / "switchyard").string(), "supervise-slot", "--status-file",
         status_file().string(), "--", "/bin/sh", "-c", script},
        log());
  }

  // Waits until the status file satisfies `done`; its last contents.
  SupervisorStatus wait_status(const std::function<bool(const SupervisorStatus&)>& done) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    SupervisorStatus last;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto status = read_supervisor_status(status_file())) {
        last = *status;
        if (done(last)) break;
      }
      std::this_thread::sleep_for(10ms);
    }
    return last;
  }

  // Its exit code; a supervisor still running after 10 s is killed (-1).
  static int exit_code(pid_t pid) {
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return -1;
      }
      std::this_thread::sleep_for(10ms);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  nginx_harness::TempDir m_dir{"switchyard-supervisor"};
};

TEST_F(SlotSupervisorTest, AnUnarmedServiceThatExitsEndsTheSupervisorWithItsCode) {
  pid_t supervisor = supervise("sleep 1; exit 3");
  // Once it runs the service it is recognisable as a supervisor (before its
  // exec it is still a copy of this test).
  wait_status([](const SupervisorStatus& status) { return status.service_pid > 0; });
  EXPECT_TRUE(is_slot_supervisor(supervisor));
  EXPECT_EQ(exit_code(supervisor), 3) << nginx_harness::read_text(log());
  auto status = read_supervisor_status(status_file());
  ASSERT_TRUE(status);
  EXPECT_EQ(status->restarts, 0);
  EXPECT_EQ(status->last_exit, "exit 3");
  EXPECT_FALSE(status->armed);
}

TEST_F(SlotSupervisorTest, AnArmedServiceComesBackWithBackoffUntilStopped) {
  pid_t supervisor = supervise("echo started; sleep 0.1; exit 1");
  wait_status([](const SupervisorStatus& status) { return status.service_pid > 0; });
  ASSERT_EQ(::kill(supervisor, SIGUSR1), 0);
  auto status = wait_status([](const SupervisorStatus& status) { return status.restarts >= 3; });
  EXPECT_GE(status.restarts, 3) << nginx_harness::read_text(log());
  EXPECT_EQ(status.last_exit, "exit 1");
  EXPECT_TRUE(status.armed);
  std::string text = nginx_harness::read_text(log());
  EXPECT_NE(text.find("ended with exit 1; restarting it in 200ms (restart 1)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("restarting it in 400ms (restart 2)"), std::string::npos) << text;

  // SIGTERM, which a stop sends to the supervisor's group (here the test's
  // own, so to the supervisor alone; it passes it on): no restart.
  ::kill(supervisor, SIGTERM);
  int code = exit_code(supervisor);
  EXPECT_TRUE(code == 1 || code == 128 + SIGTERM) << code;
  EXPECT_FALSE(nginx_harness::running(supervisor));
}

TEST(SlotSupervisor, OnlyASupervisorIsRecognisedAsOne) {
  EXPECT_FALSE(is_slot_supervisor(::getpid()));
  EXPECT_FALSE(is_slot_supervisor(1));
  EXPECT_FALSE(is_slot_supervisor(0));
}

TEST(SlotSupervisor, BackoffDoublesFrom200msUpTo30s) {
  EXPECT_EQ(restart_backoff(1), std::chrono::milliseconds(200));
  EXPECT_EQ(restart_backoff(2), std::chrono::milliseconds(400));
  EXPECT_EQ(restart_backoff(3), std::chrono::milliseconds(800));
  EXPECT_EQ(restart_backoff(50), std::chrono::seconds(30));
}

TEST(RunAsAuto, SystemdOnlyWhereItRunsAndUnitsMayBeManaged) {
  EXPECT_EQ(choose_run_as(true, true), RunAs::Systemd);
  EXPECT_EQ(choose_run_as(true, false), RunAs::Process);
  EXPECT_EQ(choose_run_as(false, true), RunAs::Process);
  EXPECT_EQ(choose_run_as(false, false), RunAs::Process);
  // This container's PID 1 is not systemd.
  std::ifstream comm("/proc/1/comm");
  std::string init;
  std::getline(comm, init);
  if (init != "systemd") EXPECT_EQ(run_as_on_this_host("/tmp"), RunAs::Process);
}

}  // namespace
}  // namespace switchyard
