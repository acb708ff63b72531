#include "runner/host/slots.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "runner/util/process.hpp"

namespace switchyard {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class SlotsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "switchyard-slots-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    m_dir = templ;
    m_settings.app = "hello";
    m_settings.environment = "prod";
    m_settings.stop_grace = 2s;
    m_launch.port = 8082;
    m_launch.slot = "green";
    m_launch.version = "2.0.0";
    m_launch.artifact = m_dir / "releases/2.0.0/hello.jar";
    m_launch.release_dir = m_dir / "releases/2.0.0";
    m_launch.log_file = m_dir / "releases/2.0.0/slot-8082.log";
    m_launch.token = new_slot_token();
    fs::create_directories(m_launch.release_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }

  fs::path m_dir;
  SlotSettings m_settings;
  SlotLaunch m_launch;
};

TEST_F(SlotsTest, ExpandsEveryPlaceholderInEveryArgument) {
  auto argv = expand_start_command(
      {"java", "-Dslot={slot}", "-jar", "{artifact}", "--server.port={port}",
       "--app.version={version}", "--env={environment}", "${HOME}", "{\"json\": 1}"},
      m_settings, m_launch);
  ASSERT_TRUE(argv) << argv.error().message;
  EXPECT_EQ(*argv,
            (std::vector<std::string>{"java", "-Dslot=green", "-jar", m_launch.artifact.string(),
                                      "--server.port=8082", "--app.version=2.0.0", "--env=prod",
                                      "${HOME}", "{\"json\": 1}"}));
}

TEST(SlotLaunching, StartsAReleaseFromItsDirectoryWithALogPerPortAndAFreshToken) {
  HostPaths paths{"/var/lib/switchyard/hello"};
  ReleaseInfo release;
  release.version = "2.0.0";
  release.artifact = "hello-2.0.0.jar";
  auto launch = slot_launch(paths, release, 8082, "green");
  EXPECT_EQ(launch.port, 8082);
  EXPECT_EQ(launch.slot, "green");
  EXPECT_EQ(launch.version, "2.0.0");
  EXPECT_EQ(launch.release_dir, fs::path("/var/lib/switchyard/hello/releases/2.0.0"));
  EXPECT_EQ(launch.artifact, fs::path("/var/lib/switchyard/hello/releases/2.0.0/hello-2.0.0.jar"));
  EXPECT_EQ(launch.log_file, fs::path("/var/lib/switchyard/hello/releases/2.0.0/slot-8082.log"));
  EXPECT_EQ(launch.token.size(), 32u);
  EXPECT_NE(slot_launch(paths, release, 8082, "green").token, launch.token);
}

TEST_F(SlotsTest, AnUnknownPlaceholderIsAConfigurationError) {
  auto argv = expand_start_command({"java", "-jar", "{jar}"}, m_settings, m_launch);
  ASSERT_FALSE(argv);
  EXPECT_EQ(argv.error().code, ExitCode::Usage);
  EXPECT_EQ(argv.error().message,
            "target.start_command: unknown placeholder {jar} in \"{jar}\"; use {artifact}, "
            "{port}, {version}, {environment} or {slot}");
}

// A slot runs detached, without the CI job-kill markers, with its token, and
// stops by process group.
TEST_F(SlotsTest, ProcessSlotStartsDetachedWithoutJobMarkersAndStops) {
  ::setenv("BUILD_ID", "jenkins-build-7", 1);
  ::setenv("JENKINS_NODE_COOKIE", "cookie", 1);
  ::setenv("RUNNER_TRACKING_ID", "github_123", 1);
  m_settings.start_command = {
      "/bin/sh", "-c",
      "echo build=${BUILD_ID:-unset} cookie=${JENKINS_NODE_COOKIE:-unset} "
      "runner=${RUNNER_TRACKING_ID:-unset} token=$SWITCHYARD_SLOT_TOKEN greeting=$GREETING "
      "port={port} dir=$(pwd); exec sleep 60"};
  m_settings.environment_variables = {{"GREETING", "hi"}};
  auto runner = make_slot_runner(m_settings, m_dir);
  auto record = runner->start(m_launch);
  ::unsetenv("BUILD_ID");
  ::unsetenv("JENKINS_NODE_COOKIE");
  ::unsetenv("RUNNER_TRACKING_ID");
  ASSERT_TRUE(record) << record.error().message;
  EXPECT_GT(record->pid, 0);
  EXPECT_NE(record->start_ticks, 0u);
  EXPECT_EQ(::getpgid(record->pid), record->pid) << "a slot leads its own process group";
  EXPECT_EQ(::getsid(record->pid), record->pid) << "a slot has its own session";

  std::string expected = "build=unset cookie=unset runner=unset token=" + m_launch.token +
                         " greeting=hi port=8082 dir=" + m_launch.release_dir.string();
  for (int i = 0; i < 100 && read_text(m_launch.log_file).find("dir=") == std::string::npos; ++i)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(read_text(m_launch.log_file), expected + "\n");

  EXPECT_TRUE(runner->running(*record));
  auto found = find_slot_token(m_launch.token);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0], record->pid);

  EXPECT_TRUE(runner->stop(*record));
  EXPECT_FALSE(runner->running(*record));
  EXPECT_TRUE(find_slot_token(m_launch.token).empty());
}

// A deploy killed before it recorded the pid left only the token: stop
// still finds the slot, by its token and never by name.
TEST_F(SlotsTest, AProcessSlotWithoutARecordedPidIsStoppedByItsToken) {
  m_settings.start_command = {"/bin/sleep", "60"};
  auto runner = make_slot_runner(m_settings, m_dir);
  auto started = runner->start(m_launch);
  ASSERT_TRUE(started) << started.error().message;
  // Until the child has exec'd, /proc shows the parent's environment.
  for (int i = 0; i < 100 && find_slot_token(m_launch.token).empty(); ++i)
    std::this_thread::sleep_for(10ms);
  SlotRecord unrecorded;
  unrecorded.port = m_launch.port;
  unrecorded.token = m_launch.token;
  EXPECT_TRUE(runner->running(unrecorded));
  EXPECT_TRUE(runner->stop(unrecorded));
  for (int i = 0; i < 100 && runner->running(*started); ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(runner->running(*started));
}

// A slot's identity is its pid with the kernel's start time AND its token
// in the environment; a pid the kernel reused, or a record that lacks either
// proof, is not the slot.
TEST_F(SlotsTest, OnlyAProvenProcessIsTheSlot) {
  m_settings.start_command = {"/bin/sleep", "60"};
  auto runner = make_slot_runner(m_settings, m_dir);
  auto started = runner->start(m_launch);
  ASSERT_TRUE(started) << started.error().message;
  SlotRecord record = *started;
  EXPECT_EQ(slot_process_identity(record), SlotIdentity::Proven);
  EXPECT_TRUE(slot_process_running(record));

  SlotRecord reused = record;
  reused.start_ticks += 1;
  EXPECT_EQ(slot_process_identity(reused), SlotIdentity::Gone);
  SlotRecord no_ticks = record;
  no_ticks.start_ticks = 0;
  EXPECT_EQ(slot_process_identity(no_ticks), SlotIdentity::Unproven);
  SlotRecord no_token = record;
  no_token.token.clear();
  EXPECT_EQ(slot_process_identity(no_token), SlotIdentity::Unproven);
  SlotRecord other_token = record;
  other_token.token = new_slot_token();
  EXPECT_EQ(slot_process_identity(other_token), SlotIdentity::Unproven);
  SlotRecord init = record;
  init.pid = 1;
  init.start_ticks = process_start_ticks(1);
  EXPECT_NE(slot_process_identity(init), SlotIdentity::Proven);
  SlotRecord none = record;
  none.pid = 0;
  EXPECT_EQ(slot_process_identity(none), SlotIdentity::Gone);

  EXPECT_TRUE(runner->stop(record));
  EXPECT_EQ(slot_process_identity(record), SlotIdentity::Gone);
}

// stop() of a record whose process is not proven signals nothing: the bait,
// a process group leader like a slot, survives records that name its pid
// with its start time but no token, or without a start time at all.
TEST_F(SlotsTest, StopNeverSignalsAnUnprovenProcess) {
  pid_t bait = ::fork();
  ASSERT_GE(bait, 0);
  if (bait == 0) {
    ::setsid();
    ::execl("/bin/sleep", "sleep", "60", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::uint64_t ticks = 0;
  for (int i = 0; i < 200; ++i) {
    std::ifstream comm("/proc/" + std::to_string(bait) + "/comm");
    std::string name;
    if (std::getline(comm, name) && name == "sleep") break;
    std::this_thread::sleep_for(5ms);
  }
  ticks = process_start_ticks(bait);
  ASSERT_NE(ticks, 0u);
  auto runner = make_slot_runner(m_settings, m_dir);
  for (auto [start_ticks, token] : std::vector<std::pair<std::uint64_t, std::string>>{
           {0, ""}, {ticks, ""}, {ticks, new_slot_token()}, {0, new_slot_token()}}) {
    SlotRecord record;
    record.port = m_launch.port;
    record.pid = bait;
    record.start_ticks = start_ticks;
    record.token = token;
    EXPECT_FALSE(runner->running(record));
    EXPECT_TRUE(runner->stop(record));
    EXPECT_EQ(process_start_ticks(bait), ticks) << "the bait was signalled";
  }
  ::kill(bait, SIGKILL);
  ::waitpid(bait, nullptr, 0);
}

TEST_F(SlotsTest, RunningAsAnotherUserNeedsThatUser) {
  m_settings.user = "switchyard-no-such-user";
  m_settings.start_command = {"/bin/true"};
  auto runner = make_slot_runner(m_settings, m_dir);
  auto record = runner->start(m_launch);
  ASSERT_FALSE(record);
  EXPECT_EQ(record.error().code, ExitCode::Usage);
  EXPECT_EQ(record.error().message,
            "target.user: no user named \"switchyard-no-such-user\" on this host; create it or "
            "remove target.user");
}

TEST_F(SlotsTest, RunsAsAnotherUserThroughSetpriv) {
  if (::geteuid() != 0) GTEST_SKIP() << "switching user needs root";
  if (find_program("setpriv").empty()) GTEST_SKIP() << "setpriv (util-linux) not installed";
  m_settings.user = "nobody";
  m_settings.start_command = {"/bin/sh", "-c", "id -un; exec sleep 60"};
  m_settings.working_directory = "/";
  auto runner = make_slot_runner(m_settings, m_dir);
  fs::permissions(m_dir, fs::perms::all);
  auto record = runner->start(m_launch);
  ASSERT_TRUE(record) << record.error().message;
  for (int i = 0; i < 100 && read_text(m_launch.log_file).empty(); ++i)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(read_text(m_launch.log_file), "nobody\n");
  EXPECT_TRUE(runner->stop(*record));
}

// systemd mode: the template unit. systemd itself cannot run in this
// container, but `systemd-analyze verify` checks the unit file as systemd
// would load it.
TEST_F(SlotsTest, SystemdUnitPassesSystemdAnalyzeVerify) {
  m_settings.run_as = RunAs::Systemd;
  m_settings.user = "nobody";
  m_settings.start_command = {"java",       "-XX:+UseSerialGC",     "-jar",
                              "{artifact}", "--server.port={port}", "--label=100%-{version}"};
  m_settings.run_directory = "/run/switchyard/hello";
  auto unit = systemd_unit_text(m_settings, "/var/lib/switchyard/hello");
  ASSERT_TRUE(unit) << unit.error().message;
  auto java = find_program("java");
  EXPECT_NE(unit->find("ExecStart=\"" + java.string() +
                       "\" \"-XX:+UseSerialGC\" \"-jar\" \"${SWITCHYARD_ARTIFACT}\" "
                       "\"--server.port=%i\" \"--label=100%%-${SWITCHYARD_VERSION}\"\n"),
            std::string::npos)
      << *unit;
  // On /run, never in the state directory, and required (no leading '-'):
  // after a reboot emptied /run the instance fails rather than start
  // without its variables.
  EXPECT_NE(unit->find("\nEnvironmentFile=/run/switchyard/hello/%i.env\n"), std::string::npos)
      << *unit;
  EXPECT_EQ(unit->find("/var/lib/switchyard/hello/slots"), std::string::npos) << *unit;
  EXPECT_NE(unit->find("User=nobody\n"), std::string::npos);
  EXPECT_NE(unit->find("TimeoutStopSec=2\n"), std::string::npos);
  EXPECT_NE(unit->find("KillMode=control-group\n"), std::string::npos);

  auto analyze = find_program("systemd-analyze");
  if (analyze.empty()) GTEST_SKIP() << "systemd-analyze not installed (apt-get install systemd)";
  // Verified as an instance, the way systemd loads hello@8081.service.
  auto instance = m_dir / "hello@8081.service";
  std::ofstream(instance) << *unit;
  ProcessSpec spec;
  spec.argv = {analyze.string(), "verify", instance.string()};
  spec.timeout = 30s;
  auto verified = run_process(spec);
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(verified->exit_code, 0) << verified->output_tail;
}

// systemd mode's command sequence, against a fake systemctl first in PATH
// that records its arguments (a real systemctl needs a running systemd).
TEST_F(SlotsTest, SystemdModeDrivesSystemctlInOrder) {
  auto fake_bin = m_dir / "bin";
  fs::create_directories(fake_bin);
  auto calls = m_dir / "systemctl.calls";
  std::ofstream(fake_bin / "systemctl")
      << "#!/bin/sh\n"
      << "echo \"$*\" >> '" << calls.string() << "'\n"
      << "case \"$1\" in\n"
      << "  show) echo 4242 ;;\n"
      << "  is-active) test -e '" << (m_dir / "active").string() << "' ;;\n"
      << "  start) touch '" << (m_dir / "active").string() << "' ;;\n"
      << "  stop) rm -f '" << (m_dir / "active").string() << "' ;;\n"
      << "esac\n";
  fs::permissions(fake_bin / "systemctl", fs::perms::owner_all);
  std::string path = ::getenv("PATH");
  ::setenv("PATH", (fake_bin.string() + ":" + path).c_str(), 1);

  m_settings.run_as = RunAs::Systemd;
  m_settings.unit_directory = m_dir / "units";
  m_settings.run_directory = m_dir / "run/switchyard/hello";
  m_settings.environment_variables = {{"JAVA_OPTS", "-Xmx64m \"quoted\""}};
  // A run directory someone left open is made private again.
  fs::create_directories(m_settings.run_directory);
  fs::permissions(m_settings.run_directory, fs::perms::all);
  // Where earlier versions kept the file, on the disk.
  fs::create_directories(m_dir / "state/slots");
  std::ofstream(m_dir / "state/slots/8082.env") << "JAVA_OPTS=\"old\"\n";
  auto runner = make_slot_runner(m_settings, m_dir / "state");
  auto record = runner->start(m_launch);
  ASSERT_TRUE(record) << record.error().message;
  EXPECT_EQ(record->pid, 4242);

  // The instance's variables, which may be secrets: 0600 in a 0700
  // directory under the run directory, nothing under the state directory.
  auto environment_file = m_settings.run_directory / "8082.env";
  EXPECT_EQ(systemd_environment_file(m_settings, 8082), environment_file);
  EXPECT_EQ(read_text(environment_file),
            "# Written by switchyard for hello@8082.service\n"
            "SWITCHYARD_ARTIFACT=\"" +
                m_launch.artifact.string() +
                "\"\n"
                "SWITCHYARD_VERSION=\"2.0.0\"\n"
                "SWITCHYARD_ENVIRONMENT=\"prod\"\n"
                "SWITCHYARD_SLOT=\"green\"\n"
                "JAVA_OPTS=\"-Xmx64m \\\"quoted\\\"\"\n");
  EXPECT_EQ(fs::status(environment_file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(m_settings.run_directory).permissions() & fs::perms::all,
            fs::perms::owner_all);
  // The copy an earlier version left on the disk is gone.
  EXPECT_FALSE(fs::exists(m_dir / "state/slots"));

  EXPECT_TRUE(runner->running(*record));
  EXPECT_TRUE(runner->set_boot_enabled(*record, true));
  EXPECT_TRUE(runner->stop(*record));
  EXPECT_FALSE(runner->running(*record));
  EXPECT_TRUE(runner->set_boot_enabled(*record, false));
  ::setenv("PATH", path.c_str(), 1);

  EXPECT_EQ(read_text(calls),
            "daemon-reload\n"
            "start hello@8082.service\n"
            "show --property=MainPID --value hello@8082.service\n"
            "is-active --quiet hello@8082.service\n"
            "enable hello@8082.service\n"
            "stop hello@8082.service\n"
            "is-active --quiet hello@8082.service\n"
            "disable hello@8082.service\n");
  EXPECT_TRUE(fs::exists(m_dir / "units/hello@.service"));
  // Stopped, the instance needs its variables no more: the file is gone.
  EXPECT_FALSE(fs::exists(environment_file));
}

TEST_F(SlotsTest, SystemdUnitNeedsARunDirectory) {
  auto unit = systemd_unit_text(m_settings, "/var/lib/switchyard/hello");
  ASSERT_FALSE(unit);
  EXPECT_EQ(unit.error().code, ExitCode::Usage);
  EXPECT_EQ(unit.error().message,
            "target.systemd.run_dir: empty; default is /run/switchyard/<app>, where systemd mode "
            "keeps each instance's environment file");
}

}  // namespace
}  // namespace switchyard
