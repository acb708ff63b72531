#include "runner/host/status.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "runner/host/state.hpp"
#include "tests/support/core_testing.hpp"

namespace switchyard {
namespace {

namespace fs = std::filesystem;

// systemd mode after a reboot: state says 2.0.0 is live on port 8082, but
// systemd could not start its instance, because its environment file went
// with /run. A fake systemctl says the instance is not active (systemd
// cannot run in the test container).
class SystemdStatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = m_temp.path();
    fs::path systemctl = m_dir / "systemctl";
    std::ofstream(systemctl) << "#!/bin/sh\nexit 3\n";
    fs::permissions(systemctl, fs::perms::owner_all);

    m_settings.app = "hello";
    m_settings.ports = {8081, 8082};
    m_settings.slots.app = "hello";
    m_settings.slots.run_as = RunAs::Systemd;
    m_settings.slots.systemctl = systemctl.string();
    m_settings.slots.run_directory = m_dir / "run";
    m_settings.paths.state_dir = m_dir / "state";
    // Nothing answers there: the one health probe is refused at once.
    m_settings.health.request_timeout = std::chrono::milliseconds(200);

    HostState state;
    state.app = "hello";
    SlotRecord live;
    live.port = 8082;
    live.slot = "green";
    live.version = "2.0.0";
    live.status = SlotStatus::Live;
    live.log_file = "journalctl -u hello@8082.service";
    state.put(live);
    ASSERT_TRUE(write_state(m_settings.paths, state));
  }
  core_testing::TempDir m_temp;
  fs::path m_dir;
  HostSettings m_settings;
};

TEST_F(SystemdStatusTest, AGoneEnvironmentFileIsNamedWithWhatToDo) {
  auto status = host_status(m_settings);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_FALSE(status->running);
  std::string file = (m_dir / "run/8082.env").string();
  EXPECT_EQ(status->missing_environment_file, file);
  std::string text = format_host_status(*status);
  EXPECT_NE(text.find("  pid:      0 (not running; run `switchyard restore`)\n"
                      "  env file: " +
                      file +
                      " is gone (a reboot empties /run), so systemd cannot start "
                      "hello@8082.service; run `switchyard restore` where the deploy's variables "
                      "are set, or deploy again\n"),
            std::string::npos)
      << text;
}

TEST_F(SystemdStatusTest, AnInstanceThatStoppedWithItsFileInPlaceIsNotBlamedOnIt) {
  fs::create_directories(m_dir / "run");
  std::ofstream(m_dir / "run/8082.env") << "SWITCHYARD_VERSION=\"2.0.0\"\n";
  auto status = host_status(m_settings);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_FALSE(status->running);
  EXPECT_EQ(status->missing_environment_file, "");
  EXPECT_EQ(format_host_status(*status).find("env file:"), std::string::npos);
}

}  // namespace
}  // namespace switchyard
