// A state.json that cannot be written stops a deploy instead of being
// ignored: the release is not recorded, so it must not serve. state.json is
// made unwritable for real: it is bind-mounted onto itself, so renaming the
// new state over it fails (EBUSY) even for root, in a mount namespace of the
// test's own, which disappears with the test process.
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "tests/integration/host_harness.hpp"

namespace switchyard {
namespace {

using namespace std::chrono_literals;
using host_harness::context_of;

class StateWriteTest : public host_harness::HostTest {
 protected:
  // A private mount namespace for this process and what it starts; "" or
  // why there can be none.
  static std::string private_mounts() {
    if (::unshare(CLONE_NEWNS) != 0) {
      return std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno) +
             "; run the test as root";
    }
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      return std::string("mount --make-rprivate /: ") + std::strerror(errno);
    }
    return "";
  }

  // state.json bind-mounted onto itself: it can be read, not replaced.
  void pin_state_file() {
    auto file = m_host->paths().state_file();
    ASSERT_EQ(::mount(file.c_str(), file.c_str(), nullptr, MS_BIND, nullptr), 0)
        << file << ": " << std::strerror(errno);
    m_pinned = file;
  }
  void unpin_state_file() {
    if (m_pinned.empty()) return;
    ::umount2(m_pinned.c_str(), MNT_DETACH);
    m_pinned.clear();
  }
  void TearDown() override { unpin_state_file(); }

  std::string pinned_message() const {
    return m_host->paths().state_file().string() +
           ": cannot rename its temp file over it (Device or resource busy); check that the "
           "directory exists and is writable";
  }

  std::filesystem::path m_pinned;
};

// Nothing started: the first write (the new slot recorded as starting, before
// it is spawned) fails, and 1.0.0 keeps serving.
TEST_F(StateWriteTest, AnUnwritableStateFileStopsTheDeployBeforeAnythingStarts) {
  start();
  if (IsSkipped()) return;
  if (auto why = private_mounts(); !why.empty()) GTEST_SKIP() << why;
  deploy_ok("1.0.0");

  pin_state_file();
  auto refused = m_host->deploy("2.0.0");
  EXPECT_EQ(refused.exit_code, 1) << context_of(refused);
  EXPECT_EQ(refused.last_error_line(), "error: " + pinned_message()) << context_of(refused);
  EXPECT_EQ(m_host->version_through_nginx(), "1.0.0");
  EXPECT_FALSE(nginx_harness::wait_listening(m_host->port(0), 200ms)) << "2.0.0 was started";
  EXPECT_EQ(m_host->history().back().outcome, "failed");

  unpin_state_file();
  deploy_ok("2.0.0");
}

// The write after the switch fails: nginx goes back to 1.0.0, the new slot
// stops, exit 1, and the message says the release is not recorded.
TEST_F(StateWriteTest, AFailedWriteAfterTheSwitchPutsTrafficBack) {
  start();
  if (IsSkipped()) return;
  if (auto why = private_mounts(); !why.empty()) GTEST_SKIP() << why;
  deploy_ok("1.0.0");

  // 2.0.0 waits 3 s before it answers its health check: time to pin
  // state.json once its start is recorded.
  auto log = m_host->dir() / "deploy.log";
  auto jar = host_harness::version_jar("2.0.0");
  ASSERT_TRUE(jar);
  pid_t deploy =
      m_host->start_in_background({(host_harness::k_bin_dir / "switchyard-switch-traffic").string(),
                                   "--artifact", jar->string()},
                                  {{"STARTUP_DELAY_MS", "3000"}}, log);
  auto deadline = std::chrono::steady_clock::now() + 60s;
  bool recorded = false;
  while (!recorded && std::chrono::steady_clock::now() < deadline) {
    // state() reads a copy: keep it while the pointer into it is used.
    const auto state = m_host->state();
    const auto* slot = state.find_port(m_host->port(0));
    recorded = slot != nullptr && slot->version == "2.0.0" && slot->pid > 0;
    if (!recorded) std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(recorded) << nginx_harness::read_text(log);
  pin_state_file();

  int status = 0;
  ASSERT_EQ(::waitpid(deploy, &status, 0), deploy);
  std::string output = nginx_harness::read_text(log);
  ASSERT_TRUE(WIFEXITED(status)) << output;
  EXPECT_EQ(WEXITSTATUS(status), 1) << output;
  std::string port0 = std::to_string(m_host->port(0));
  std::string port1 = std::to_string(m_host->port(1));
  EXPECT_NE(output.find("error: " + pinned_message() + "; hello 2.0.0 on port " + port0 +
                        " is not recorded, so it was stopped; switched back to port " + port1 +
                        "; the old version 1.0.0 keeps serving\n"),
            std::string::npos)
      << output;
  EXPECT_EQ(m_host->version_through_nginx(), "1.0.0");
  EXPECT_FALSE(nginx_harness::wait_listening(m_host->port(0), 200ms)) << "2.0.0 still runs";

  // Writable again: the next deploy cleans up and goes through.
  unpin_state_file();
  deploy_ok("3.0.0");
}

}  // namespace
}  // namespace switchyard
