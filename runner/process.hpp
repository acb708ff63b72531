// Child processes: always an argument vector, never a shell string built from
// configuration (DESIGN.md, "Processes").
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/duration.hpp"
#include "runner/result.hpp"

namespace switchyard {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH
  std::optional<std::filesystem::path> working_directory;
  std::map<std::string, std::string> set_environment;  // added or replaced
  std::vector<std::string> unset_environment;          // removed (BUILD_ID, ...)
  Duration timeout{0};                                 // 0: no timeout
  std::string standard_input;                          // written, then closed
};

struct ProcessOutcome {
  int exit_code = -1;       // -1 when killed by a signal
  int signal = 0;           // the signal that ended it, 0 if it exited
  bool timed_out = false;   // killed (whole process group) at the timeout
  std::string output_tail;  // the last lines of stdout+stderr (up to 8 KiB)
  bool succeeded() const { return exit_code == 0 && !timed_out; }
};

enum class Stream { Stdout, Stderr };
using LineHandler = std::function<void(Stream stream, std::string_view line)>;

// Runs `spec` to completion in its own process group, calling `on_line` for
// every line of output as it arrives. Fails (exit 3) only when the program
// cannot be started ("mvn: not found in PATH; install maven"); a non-zero
// exit is an outcome, not an error. On timeout the whole group is killed.
Result<ProcessOutcome> run_process(const ProcessSpec& spec, const LineHandler& on_line = {});

// Starts `spec` detached in its own session (so it outlives this command and
// the CI job), stdout and stderr appended to `log_file`. Returns the pid, which
// is also the process group id.
Result<pid_t> spawn_detached(const ProcessSpec& spec, const std::filesystem::path& log_file);

// Sends `signal` to the process group `pgid`; true if it existed.
bool signal_process_group(pid_t pgid, int signal);

// True while a process with `pid` exists (and is not a zombie of ours).
bool process_alive(pid_t pid);

// SIGTERM to the group, wait up to `grace`, then SIGKILL. True if it stopped
// within the grace period.
bool stop_process_group(pid_t pgid, Duration grace);

// Finds `program` in PATH; empty when absent.
std::filesystem::path find_program(std::string_view program);

}  // namespace switchyard
