// switchyard-rollback, `switchyard status` and `switchyard restore` against a
// real private nginx and the real sample service.
#include <gtest/gtest.h>

#include "tests/integration/host_harness.hpp"

namespace switchyard {
namespace {

using namespace std::chrono_literals;
using host_harness::context_of;

class HostCommandTest : public host_harness::HostTest {};

// Without a warm slot the previous release starts again from disk, through
// the health gate.
TEST_F(HostCommandTest, RollbackStartsThePreviousReleaseFromDisk) {
  start();
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  deploy_ok("2.0.0");

  auto run = m_host->run("rollback", {"--json"});
  ASSERT_EQ(run.exit_code, 0) << context_of(run);
  EXPECT_EQ(m_host->version_through_nginx(), "1.0.0");
  auto result = run.json();
  EXPECT_EQ(result["version"].as_string(), "1.0.0");
  EXPECT_FALSE(result["instant"].as_bool());
  EXPECT_EQ(result["previous_version"].as_string(), "2.0.0");
  auto history = m_host->history();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[2].action, "rollback");
  EXPECT_EQ(history[2].outcome, "success");
  EXPECT_EQ(history[2].from_version, "2.0.0");

  // And forward again by name.
  auto forward = m_host->run("rollback", {"--to", "2.0.0"});
  ASSERT_EQ(forward.exit_code, 0) << context_of(forward);
  EXPECT_EQ(m_host->version_through_nginx(), "2.0.0");
}

// With keep_warm the previous slot still runs: the rollback is a switch.
TEST_F(HostCommandTest, RollbackToAWarmSlotIsInstant) {
  start({.keep_warm = "5m"});
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  deploy_ok("2.0.0");
  auto before = m_host->state();  // find_port points into it
  const auto* warm = before.find_port(m_host->port(1));
  ASSERT_NE(warm, nullptr);
  EXPECT_EQ(warm->status, SlotStatus::Warm);
  pid_t warm_pid = warm->pid;
  ASSERT_TRUE(nginx_harness::running(warm_pid));

  auto list = m_host->run("rollback", {"--list"});
  ASSERT_EQ(list.exit_code, 0) << context_of(list);
  EXPECT_NE(list.out.find("* 2.0.0"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("previous, warm (instant rollback)"), std::string::npos) << list.out;

  auto run = m_host->run("rollback", {"--json"});
  ASSERT_EQ(run.exit_code, 0) << context_of(run);
  EXPECT_TRUE(run.json()["instant"].as_bool());
  EXPECT_EQ(m_host->version_through_nginx(), "1.0.0");
  auto after = m_host->state();
  const auto* live = after.live();
  ASSERT_NE(live, nullptr);
  EXPECT_EQ(live->pid, warm_pid) << "an instant rollback starts nothing";
}

// nginx does not confirm the warm slot (here target.nginx.url reaches the
// live slot, as a misrouted nginx would): nginx is switched back, and the
// warm slot stays warm until its own time is up.
TEST_F(HostCommandTest, UnconfirmedInstantRollbackIsUndone) {
  start({.keep_warm = "5m"});
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  deploy_ok("2.0.0");
  std::string warm_until;
  {
    auto before = m_host->state();
    const auto* warm = before.find_port(m_host->port(1));
    ASSERT_NE(warm, nullptr);
    warm_until = warm->warm_until;
  }
  ASSERT_FALSE(warm_until.empty());
  std::string live_url = "http://127.0.0.1:" + std::to_string(m_host->port(0)) + "/version";
  m_host->set_nginx_url(live_url);

  auto run = m_host->run("rollback", {"--json"});
  EXPECT_EQ(run.exit_code, 1) << context_of(run);
  EXPECT_EQ(run.json()["error"].as_string(),
            live_url + ": answered version 2.0.0, not 1.0.0 (port " +
                std::to_string(m_host->port(1)) + "), after the switch; switched back to port " +
                std::to_string(m_host->port(0)) + "; the old version 2.0.0 keeps serving");
  EXPECT_EQ(*m_host->nginx().nginx().live_port(), m_host->port(0));
  auto state = m_host->state();
  ASSERT_NE(state.live(), nullptr);
  EXPECT_EQ(state.live()->version, "2.0.0");
  EXPECT_TRUE(state.live()->warm_until.empty());
  const auto* warm = state.find_port(m_host->port(1));
  ASSERT_NE(warm, nullptr);
  EXPECT_EQ(warm->status, SlotStatus::Warm);
  EXPECT_EQ(warm->warm_until, warm_until);
  EXPECT_TRUE(nginx_harness::running(warm->pid));
  EXPECT_EQ(m_host->history().back().outcome, "failed");
}

// Once target.keep_warm has passed, the warm slot is stopped without
// waiting for the next deploy.
TEST_F(HostCommandTest, AWarmSlotStopsWhenItsTimeIsUp) {
  start({.keep_warm = "2s"});
  if (IsSkipped()) return;
  deploy_ok("1.0.0");
  deploy_ok("2.0.0");
  auto before = m_host->state();  // find_port points into it
  const auto* warm = before.find_port(m_host->port(1));
  ASSERT_NE(warm, nullptr);
  ASSERT_EQ(warm->status, SlotStatus::Warm);
  pid_t pid = warm->pid;
  EXPECT_TRUE(nginx_harness::running(pid));
  for (int i = 0; i < 200 && nginx_harness::running(pid); ++i)
    std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(nginx_harness::running(pid)) << "the warm slot outlived target.keep_warm";
  for (int i = 0;
       i < 50 && m_host->state().find_port(m_host->port(1))->status != SlotStatus::Stopped; ++i)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(m_host->state().find_port(m_host->port(1))->status, SlotStatus::Stopped);
  EXPECT_EQ(m_host->version_through_nginx(), "2.0.0");
}

TEST_F(HostCommandTest, RollbackRefusesWhatIsNotKept) {
  start();
  if (IsSkipped()) return;
  auto nothing = m_host->run("rollback", {"--json"});
  EXPECT_EQ(nothing.exit_code, 2) << context_of(nothing);
  EXPECT_EQ(nothing.json()["error"].as_string(),
            "hello: no previous release is recorded; name one with --to (kept: none)");
  deploy_ok("1.0.0");
  auto unknown = m_host->run("rollback", {"--to", "9.9.9", "--json"});
  EXPECT_EQ(unknown.exit_code, 2) << context_of(unknown);
  EXPECT_EQ(unknown.json()["error"].as_string(),
            m_host->paths().release_dir("9.9.9").string() + ": not a kept release; kept: 1.0.0");
  auto live = m_host->run("rollback", {"--to", "1.0.0", "--json"});
  EXPECT_EQ(live.exit_code, 2) << context_of(live);
  EXPECT_EQ(live.json()["error"].as_string(), "hello 1.0.0: already live on port " +
                                                  std::to_string(m_host->port(1)) +
                                                  "; nothing to roll back");
}

// status reports the live slot; after its process is gone (a reboot),
// restore starts it again on its port and nginx serves it again.
TEST_F(HostCommandTest, StatusAndRestoreAfterTheLiveSlotDied) {
  start();
  if (IsSkipped()) return;
  deploy_ok("1.0.0");

  auto status = m_host->run("", {"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << context_of(status);
  auto result = status.json();
  EXPECT_EQ(result["version"].as_string(), "1.0.0");
  EXPECT_EQ(result["port"].as_int64(), m_host->port(1));
  EXPECT_TRUE(result["running"].as_bool());
  EXPECT_TRUE(result["healthy"].as_bool());
  EXPECT_GE(result["uptime_seconds"].as_int64(), 0);
  pid_t pid = static_cast<pid_t>(result["pid"].as_int64());

  // The reboot: the slot's whole process group is gone.
  ::kill(-pid, SIGKILL);
  for (int i = 0; i < 100 && nginx_harness::running(pid); ++i)
    std::this_thread::sleep_for(20ms);
  auto down = m_host->run("", {"status", "--json"});
  EXPECT_FALSE(down.json()["running"].as_bool()) << context_of(down);
  EXPECT_NE(m_host->version_through_nginx(), "1.0.0");

  auto restore = m_host->run("", {"restore", "--json"});
  ASSERT_EQ(restore.exit_code, 0) << context_of(restore);
  EXPECT_TRUE(restore.json()["healthy"].as_bool());
  EXPECT_NE(restore.json()["pid"].as_int64(), pid);
  EXPECT_EQ(m_host->version_through_nginx(), "1.0.0");
  EXPECT_EQ(m_host->history().back().action, "restore");

  auto again = m_host->run("", {"restore"});
  EXPECT_EQ(again.exit_code, 0) << context_of(again);
  EXPECT_NE(again.err.find("nothing to restore"), std::string::npos) << again.err;
}

}  // namespace
}  // namespace switchyard
