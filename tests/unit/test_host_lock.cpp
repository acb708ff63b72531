#include "runner/host/lock.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace switchyard {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class HostLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "switchyard-lock-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    m_dir = templ;
    m_lock_file = m_dir / "lock";
  }
  void TearDown() override { fs::remove_all(m_dir); }

  static LockHolder holder(const std::string& version) {
    LockHolder self;
    self.pid = ::getpid();
    self.action = "deploying";
    self.version = version;
    self.since = "2026-11-23T15:02:11Z";
    return self;
  }

  fs::path m_dir;
  fs::path m_lock_file;
};

TEST_F(HostLockTest, ASecondTakerWaitsThenExits4NamingTheHolder) {
  auto first = HostLock::acquire(m_lock_file, holder("1.2.0-abc"), 1s);
  ASSERT_TRUE(first) << first.error().message;

  int waits = 0;
  LockHolder seen;
  auto start = std::chrono::steady_clock::now();
  auto second = HostLock::acquire(m_lock_file, holder("1.3.0"), 300ms, [&](const LockHolder& h) {
    ++waits;
    seen = h;
  });
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ExitCode::Locked);
  EXPECT_EQ(second.error().message,
            m_lock_file.string() + ": held by pid " + std::to_string(::getpid()) +
                " deploying 1.2.0-abc since 15:02:11 UTC; wait, or stop that deploy");
  EXPECT_GE(waited, 300ms);
  EXPECT_EQ(waits, 1) << "the waiter says who holds the lock when it starts waiting";
  EXPECT_EQ(seen.version, "1.2.0-abc");
}

TEST_F(HostLockTest, AWaiterGetsTheLockWhenTheHolderReleasesIt) {
  auto first = HostLock::acquire(m_lock_file, holder("1.0.0"), 1s);
  ASSERT_TRUE(first);
  std::thread releaser([&] {
    std::this_thread::sleep_for(200ms);
    first->release();
  });
  auto second = HostLock::acquire(m_lock_file, holder("2.0.0"), 5s);
  releaser.join();
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(second->held());
  EXPECT_EQ(read_lock_holder(m_lock_file).version, "2.0.0");
}

// The kernel drops an flock when its holder dies, SIGKILL included.
TEST_F(HostLockTest, AKilledHolderNeverLeavesTheLockHeld) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lock = HostLock::acquire(m_lock_file, holder("1.0.0"), 1s);
    char byte = lock ? 'y' : 'n';
    (void)::write(ready[1], &byte, 1);
    ::pause();
    ::_exit(0);
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'y');
  auto blocked = HostLock::acquire(m_lock_file, holder("2.0.0"), 100ms);
  ASSERT_FALSE(blocked);
  EXPECT_NE(blocked.error().message.find("held by pid " + std::to_string(child)), std::string::npos)
      << blocked.error().message;

  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  auto taken = HostLock::acquire(m_lock_file, holder("2.0.0"), 1s);
  EXPECT_TRUE(taken) << taken.error().message;
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST_F(HostLockTest, AnUnwritableDirectoryIsUnavailable) {
  auto lock = HostLock::acquire("/proc/switchyard-no-such/lock", holder("1.0.0"), 100ms);
  ASSERT_FALSE(lock);
  EXPECT_EQ(lock.error().code, ExitCode::Unavailable);
  EXPECT_EQ(
      lock.error().message.rfind("/proc/switchyard-no-such/lock: cannot open the host lock (", 0),
      0u)
      << lock.error().message;
}

TEST(LockHolder, DescribesItselfForAWaiter) {
  LockHolder holder;
  EXPECT_EQ(holder.describe(), "another deploy (it has not said who it is yet)");
  holder.pid = 1234;
  holder.action = "rolling back to";
  holder.version = "1.0.0";
  holder.since = "2026-11-23T09:15:00Z";
  holder.who = "alice@web1";
  EXPECT_EQ(holder.describe(), "pid 1234 rolling back to 1.0.0 since 09:15:00 UTC (alice@web1)");
}

}  // namespace
}  // namespace switchyard
