#include "runner/util/process.hpp"

#include "runner/cli/step.hpp"
#include "tests/support/core_testing.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

using namespace std::chrono_literals;
using namespace switchyard;

namespace process_test {

struct Captured {
  std::vector<std::string> out;
  std::vector<std::string> err;
  LineHandler handler() {
    return [this](Stream stream, std::string_view line) {
      (stream == Stream::Stdout ? out : err).emplace_back(line);
    };
  }
};

ProcessSpec shell(const std::string& script) {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", script};
  return spec;
}

using core_testing::read_file;
using core_testing::TempDir;

// Waits until `path` contains `needle` (the detached child wrote it).
bool wait_for_text(const std::filesystem::path& path, const std::string& needle,
                   std::chrono::milliseconds limit = 5s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (read_file(path).find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

bool wait_until_dead(pid_t pid, std::chrono::milliseconds limit = 3s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (!process_alive(pid)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

// The session and process group of `pid`, from /proc/<pid>/stat.
std::pair<pid_t, pid_t> group_and_session(pid_t pid) {
  auto stat = read_process_stat(pid);
  if (!stat) return {0, 0};
  return {stat->group, stat->session};
}

}  // namespace process_test

using namespace process_test;

TEST(Process, StreamsLinesInOrderFromBothStreams) {
  Captured captured;
  auto outcome =
      run_process(shell("for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done; printf tail"),
                  captured.handler());
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_EQ(outcome->exit_code, 0);
  EXPECT_TRUE(outcome->succeeded());
  EXPECT_EQ(captured.out,
            (std::vector<std::string>{"out1", "out2", "out3", "out4", "out5", "tail"}));
  EXPECT_EQ(captured.err, (std::vector<std::string>{"err1", "err2", "err3", "err4", "err5"}));
}

TEST(Process, DeliversLinesAsTheyArrive) {
  auto start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration first_seen{};
  auto outcome =
      run_process(shell("echo first; sleep 0.6; echo second"), [&](Stream, std::string_view line) {
        if (line == "first") first_seen = std::chrono::steady_clock::now() - start;
      });
  ASSERT_TRUE(outcome.ok());
  auto total = std::chrono::steady_clock::now() - start;
  EXPECT_GE(total, 600ms);
  // Measured from the end, so a slow fork on a busy machine cannot fail it.
  EXPECT_GE(total - first_seen, 400ms) << "the first line waited for the process to end";
}

TEST(Process, ReportsExitCodesAndSignals) {
  auto exited = run_process(shell("exit 7"));
  ASSERT_TRUE(exited.ok());
  EXPECT_EQ(exited->exit_code, 7);
  EXPECT_EQ(exited->signal, 0);
  EXPECT_FALSE(exited->succeeded());

  auto signalled = run_process(shell("kill -TERM $$"));
  ASSERT_TRUE(signalled.ok());
  EXPECT_EQ(signalled->exit_code, -1);
  EXPECT_EQ(signalled->signal, SIGTERM);
  EXPECT_FALSE(signalled->succeeded());
}

TEST(Process, TimeoutKillsTheWholeGroupIncludingGrandchildren) {
  Captured captured;
  auto spec = shell("sleep 100 & echo $!; sleep 100");
  spec.timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  auto outcome = run_process(spec, captured.handler());
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(outcome.ok());
  EXPECT_TRUE(outcome->timed_out);
  EXPECT_FALSE(outcome->succeeded());
  EXPECT_EQ(outcome->signal, SIGKILL);
  EXPECT_LT(elapsed, 3s);
  ASSERT_EQ(captured.out.size(), 1u);
  pid_t grandchild = std::stoi(captured.out[0]);
  EXPECT_TRUE(wait_until_dead(grandchild)) << "the background sleep survived the timeout";
}

TEST(Process, DoesNotHangOnABackgroundChildHoldingTheOutput) {
  auto spec = shell("sleep 2 & echo done");
  auto start = std::chrono::steady_clock::now();
  Captured captured;
  auto outcome = run_process(spec, captured.handler());
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->exit_code, 0);
  EXPECT_EQ(captured.out, std::vector<std::string>{"done"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
}

TEST(Process, RunsInItsOwnProcessGroup) {
  Captured captured;
  auto outcome = run_process(shell("echo $$; ps -o pgid= -p $$"), captured.handler());
  ASSERT_TRUE(outcome.ok());
  ASSERT_EQ(captured.out.size(), 2u);
  pid_t child = std::stoi(captured.out[0]);
  pid_t group = std::stoi(captured.out[1]);
  EXPECT_EQ(child, group);
  EXPECT_NE(group, getpgrp());
}

TEST(Process, MissingProgramIsUnavailable) {
  ProcessSpec spec;
  spec.argv = {"switchyard-no-such-tool", "--version"};
  auto outcome = run_process(spec);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code, ExitCode::Unavailable);
  EXPECT_EQ(outcome.error().message,
            "switchyard-no-such-tool: not found in PATH; install it or fix PATH");

  spec.argv = {"./no-such-wrapper"};
  auto relative = run_process(spec);
  ASSERT_FALSE(relative.ok());
  EXPECT_EQ(relative.error().code, ExitCode::Unavailable);
  EXPECT_EQ(relative.error().message,
            "./no-such-wrapper: not found or not executable; check the path");
}

TEST(Process, MissingWorkingDirectoryIsAUsageError) {
  auto spec = shell("true");
  spec.working_directory = "/nonexistent/switchyard-dir";
  auto outcome = run_process(spec);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code, ExitCode::Usage);
  EXPECT_EQ(outcome.error().message,
            "/nonexistent/switchyard-dir: working directory not found; check the path");
}

TEST(Process, AppliesEnvironmentChanges) {
  setenv("SWITCHYARD_PROCESS_TEST_UNSET", "inherited", 1);
  setenv("SWITCHYARD_PROCESS_TEST_KEEP", "kept", 1);
  auto spec = shell(
      "echo \"${SWITCHYARD_PROCESS_TEST_SET}\"; echo \"${SWITCHYARD_PROCESS_TEST_UNSET-unset}\"; "
      "echo \"${SWITCHYARD_PROCESS_TEST_KEEP}\"");
  spec.set_environment["SWITCHYARD_PROCESS_TEST_SET"] = "value with spaces";
  spec.unset_environment = {"SWITCHYARD_PROCESS_TEST_UNSET"};
  Captured captured;
  auto outcome = run_process(spec, captured.handler());
  unsetenv("SWITCHYARD_PROCESS_TEST_UNSET");
  unsetenv("SWITCHYARD_PROCESS_TEST_KEEP");
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(captured.out, (std::vector<std::string>{"value with spaces", "unset", "kept"}));
}

TEST(Process, RunsInTheWorkingDirectory) {
  TempDir temp;
  const auto& directory = temp.path();
  auto spec = shell("pwd -P");
  spec.working_directory = directory;
  Captured captured;
  auto outcome = run_process(spec, captured.handler());
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(captured.out, std::vector<std::string>{std::filesystem::canonical(directory).string()});
}

TEST(Process, FeedsStandardInput) {
  ProcessSpec spec;
  spec.argv = {"cat"};
  spec.standard_input = "alpha\nbeta\n";
  Captured captured;
  auto outcome = run_process(spec, captured.handler());
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(captured.out, (std::vector<std::string>{"alpha", "beta"}));

  // More input than a pipe holds, while the child writes as much back: no deadlock.
  spec.standard_input = std::string(1 << 20, 'x') + "\n";
  spec.timeout = 10s;
  std::size_t longest = 0;
  auto big = run_process(
      spec, [&](Stream, std::string_view line) { longest = std::max(longest, line.size()); });
  ASSERT_TRUE(big.ok());
  EXPECT_FALSE(big->timed_out);
  EXPECT_EQ(big->exit_code, 0);
  EXPECT_GT(longest, 0u);

  // A child that does not read its input does not break us (EPIPE, no SIGPIPE).
  spec.argv = {"true"};
  auto ignored = run_process(spec);
  ASSERT_TRUE(ignored.ok());
  EXPECT_EQ(ignored->exit_code, 0);
}

TEST(Process, KeepsTheLastEightKibibytesOfOutput) {
  auto outcome = run_process(shell("i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done"));
  ASSERT_TRUE(outcome.ok());
  const auto& tail = outcome->output_tail;
  EXPECT_LE(tail.size(), 8u * 1024);
  EXPECT_GT(tail.size(), 7u * 1024);
  EXPECT_EQ(tail.substr(0, 4), "line");
  EXPECT_TRUE(tail.ends_with("line1999\n"));
}

TEST(Process, FindsProgramsInPath) {
  EXPECT_FALSE(find_program("sh").empty());
  EXPECT_TRUE(find_program("switchyard-no-such-tool").empty());
  EXPECT_EQ(find_program("/bin/sh"), "/bin/sh");
  EXPECT_TRUE(find_program("/nonexistent/sh").empty());
}

TEST(ProcessDetached, RunsInItsOwnSessionWithTheEnvironmentStripped) {
  TempDir temp;
  const auto& directory = temp.path();
  auto log_file = directory / "slot.log";
  setenv("BUILD_ID", "ci-build-123", 1);
  setenv("JENKINS_NODE_COOKIE", "cookie", 1);
  ProcessSpec spec = shell(
      "echo \"build=${BUILD_ID-unset} cookie=${JENKINS_NODE_COOKIE-unset} port=$PORT dir=$(pwd "
      "-P)\";"
      " read line || echo stdin-empty; exec sleep 30");
  spec.unset_environment = {"BUILD_ID", "JENKINS_NODE_COOKIE", "RUNNER_TRACKING_ID"};
  spec.set_environment["PORT"] = "8082";
  spec.working_directory = directory;
  auto pid = spawn_detached(spec, log_file);
  unsetenv("BUILD_ID");
  unsetenv("JENKINS_NODE_COOKIE");
  ASSERT_TRUE(pid.ok()) << pid.error().message;
  ASSERT_TRUE(wait_for_text(log_file, "stdin-empty"));
  EXPECT_EQ(read_file(log_file), "build=unset cookie=unset port=8082 dir=" +
                                     std::filesystem::canonical(directory).string() +
                                     "\nstdin-empty\n");
  EXPECT_TRUE(process_alive(*pid));
  auto [group, session] = group_and_session(*pid);
  EXPECT_EQ(group, *pid);
  EXPECT_EQ(session, *pid);
  EXPECT_NE(session, getsid(0));
  // Not our child: its parent is init (the double fork), so it can never be our zombie.
  EXPECT_EQ(waitpid(*pid, nullptr, WNOHANG), -1);

  EXPECT_TRUE(stop_process_group(*pid, 2s));
  EXPECT_FALSE(process_alive(*pid));
}

TEST(ProcessDetached, OutlivesTheProcessThatStartedIt) {
  TempDir temp;
  const auto& directory = temp.path();
  int report[2];
  ASSERT_EQ(pipe(report), 0);
  pid_t starter = fork();
  if (starter == 0) {
    ProcessSpec spec;
    spec.argv = {"sleep", "30"};
    auto pid = spawn_detached(spec, directory / "slot.log");
    pid_t value = pid.ok() ? *pid : -1;
    (void)!write(report[1], &value, sizeof value);
    _exit(0);
  }
  close(report[1]);
  pid_t slot = -1;
  ASSERT_EQ(read(report[0], &slot, sizeof slot), static_cast<ssize_t>(sizeof slot));
  close(report[0]);
  waitpid(starter, nullptr, 0);
  ASSERT_GT(slot, 0);
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(process_alive(slot)) << "the slot died with the command that started it";
  EXPECT_TRUE(stop_process_group(slot, 2s));
  EXPECT_FALSE(process_alive(slot));
}

TEST(ProcessDetached, AnExitedSlotIsNotAlive) {
  TempDir temp;
  const auto& directory = temp.path();
  ProcessSpec spec = shell("echo bye");
  auto pid = spawn_detached(spec, directory / "slot.log");
  ASSERT_TRUE(pid.ok());
  EXPECT_TRUE(wait_until_dead(*pid)) << "an exited slot still counts as alive (zombie?)";
  EXPECT_TRUE(stop_process_group(*pid, 100ms));
  EXPECT_TRUE(wait_for_text(directory / "slot.log", "bye"));
}

TEST(ProcessDetached, StopEscalatesToSigkill) {
  TempDir temp;
  const auto& directory = temp.path();
  auto log_file = directory / "slot.log";
  ProcessSpec spec = shell("trap '' TERM; echo ready; while :; do sleep 0.05; done");
  auto pid = spawn_detached(spec, log_file);
  ASSERT_TRUE(pid.ok());
  ASSERT_TRUE(wait_for_text(log_file, "ready"));
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(stop_process_group(*pid, 200ms)) << "SIGTERM was ignored, so the grace ran out";
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LT(elapsed, 3s);
  EXPECT_FALSE(process_alive(*pid));
}

TEST(ProcessDetached, ReportsStartFailures) {
  TempDir temp;
  const auto& directory = temp.path();
  ProcessSpec spec;
  spec.argv = {"switchyard-no-such-tool"};
  auto missing = spawn_detached(spec, directory / "slot.log");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ExitCode::Unavailable);
  EXPECT_EQ(missing.error().message,
            "switchyard-no-such-tool: not found in PATH; install it or fix PATH");

  spec.argv = {"true"};
  auto bad_log = spawn_detached(spec, directory / "no-such-dir" / "slot.log");
  ASSERT_FALSE(bad_log.ok());
  EXPECT_EQ(bad_log.error().message,
            (directory / "no-such-dir" / "slot.log").string() +
                ": cannot open the log file: No such file or directory; check that its directory "
                "exists and is writable");

  // A file that is executable but not a program: exec itself fails.
  auto script = directory / "not-a-program";
  std::ofstream(script) << "\x7f"
                        << "ELF garbage";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  spec.argv = {script.string()};
  auto bad_exec = spawn_detached(spec, directory / "slot.log");
  ASSERT_FALSE(bad_exec.ok());
  EXPECT_EQ(bad_exec.error().code, ExitCode::Unavailable);
  EXPECT_EQ(bad_exec.error().message,
            script.string() + ": cannot start: Exec format error; check that it is executable");
}

TEST(ProcessDetached, SignalsAndAliveChecks) {
  EXPECT_TRUE(process_alive(getpid()));
  EXPECT_TRUE(process_alive(1));
  EXPECT_FALSE(process_alive(0));
  EXPECT_FALSE(process_alive(-1));
  EXPECT_FALSE(signal_process_group(1, 0));
  TempDir temp;
  const auto& directory = temp.path();
  ProcessSpec spec;
  spec.argv = {"sleep", "30"};
  auto pid = spawn_detached(spec, directory / "slot.log");
  ASSERT_TRUE(pid.ok());
  EXPECT_TRUE(signal_process_group(*pid, 0));
  EXPECT_TRUE(signal_process_group(*pid, SIGKILL));
  EXPECT_TRUE(wait_until_dead(*pid));
}

TEST(Process, AnInterruptStopsTheChildGroup) {
  // In a forked copy of the test, since the interrupt flag stays set.
  pid_t tester = fork();
  if (tester == 0) {
    CLI::App app("interrupt test");
    CommonOptions options;
    add_common_options(app, options, false);
    char name[] = "switchyard-test";
    char* argv[] = {name, nullptr};
    int code = run_step("test", app, options, 1, argv, [](StepContext&) -> Result<void> {
      // The child interrupts us as Ctrl-C would; it is in a group of its own,
      // so only run_process can pass the interrupt on.
      auto outcome = run_process(shell("kill -INT $PPID; sleep 30 & wait"));
      if (!outcome) return outcome.error();
      return {};
    });
    _exit(code);
  }
  auto start = std::chrono::steady_clock::now();
  int status = 0;
  ASSERT_EQ(waitpid(tester, &status, 0), tester);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
}
