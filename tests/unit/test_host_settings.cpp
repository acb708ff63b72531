#include "runner/host/settings.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace switchyard {
namespace {

namespace fs = std::filesystem;

// load_host_settings over a switchyard.yml holding `yaml` (plus the include
// reload mode needs), with `variables` as the process environment.
Result<HostSettings> settings_from(const std::string& yaml,
                                   const std::map<std::string, std::string>& variables = {}) {
  std::string templ = (fs::temp_directory_path() / "switchyard-settings-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) return failure("mkdtemp failed");
  fs::path file = fs::path(templ) / "switchyard.yml";
  std::ofstream(file) << yaml << "  run_as: process\n  nginx:\n    include: /tmp/hello.conf\n";
  ConfigLoadOptions options;
  options.path = file;
  options.variables = variables;
  auto config = Config::load(options);
  fs::remove_all(templ);
  if (!config) return config.error();
  return load_host_settings(*config);
}

TEST(HostSettings, SystemdEnvironmentFilesGoUnderRunAndStateUnderVarLib) {
  auto settings = settings_from("app: hello\ntarget:\n");
  ASSERT_TRUE(settings) << settings.error().message;
  EXPECT_EQ(settings->slots.run_directory, "/run/switchyard/hello");
  EXPECT_EQ(settings->paths.state_dir, "/var/lib/switchyard/hello");
}

// target.systemd.run_dir is set the way target.state_dir is: {app} is the
// service's name, and a SWITCHYARD_ variable wins over the file.
TEST(HostSettings, RunDirIsSetLikeTheStateDir) {
  std::string yaml =
      "app: hello\n"
      "target:\n"
      "  state_dir: /tmp/switchyard-test/{app}/state\n"
      "  systemd:\n"
      "    run_dir: /tmp/switchyard-test/{app}/run\n";
  auto from_file = settings_from(yaml);
  ASSERT_TRUE(from_file) << from_file.error().message;
  EXPECT_EQ(from_file->slots.run_directory, "/tmp/switchyard-test/hello/run");
  EXPECT_EQ(from_file->paths.state_dir, "/tmp/switchyard-test/hello/state");

  auto from_variable =
      settings_from(yaml, {{"SWITCHYARD_TARGET__SYSTEMD__RUN_DIR", "/tmp/elsewhere/{app}"}});
  ASSERT_TRUE(from_variable) << from_variable.error().message;
  EXPECT_EQ(from_variable->slots.run_directory, "/tmp/elsewhere/hello");
}

}  // namespace
}  // namespace switchyard
