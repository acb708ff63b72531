// Child processes: always an argument vector, never a shell string built from
// configuration (DESIGN.md, "Processes").
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

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

// Runs `spec` to completion in its own process group, calling `on_line` (in
// the calling thread) for every line of stdout and stderr as it arrives. Fails
// only when the program cannot be started: exit 3 "mvn: not found in PATH;
// install it or fix PATH", exit 2 for a missing working directory; a non-zero
// exit is an outcome, not an error. On timeout the whole group is killed with
// SIGKILL; on SIGINT/SIGTERM (interrupted()) the group gets SIGTERM, then
// SIGKILL after 2 s. When the program exits while a background child of its
// own still holds the output open, reading stops 200 ms later.
Result<ProcessOutcome> run_process(const ProcessSpec& spec, const LineHandler& on_line = {});

// Starts `spec` detached in its own session (so it outlives this command and
// the CI job), stdin from /dev/null, stdout and stderr appended to `log_file`,
// no other descriptor inherited. Returns the pid, which is also the process
// group and session id; it returns once exec succeeded. The slot is never our
// child (double fork), so it never becomes our zombie. `timeout` and
// `standard_input` do not apply.
Result<pid_t> spawn_detached(const ProcessSpec& spec, const std::filesystem::path& log_file);

// Sends `signal` to the process group `pgid`; true if it existed.
bool signal_process_group(pid_t pgid, int signal);

// What /proc/<pid>/stat says about a process.
struct ProcessStat {
  char state = '?';  // 'R', 'S', 'D', ...; 'Z' a zombie, 'X' dead
  pid_t parent = 0;
  pid_t group = 0;
  pid_t session = 0;
  // Field 22: when it started, in clock ticks after boot; with the pid, it
  // tells a process from a later one that reused its pid. 0 if unread.
  std::uint64_t start_ticks = 0;
  bool dead() const { return state == 'Z' || state == 'X' || state == 'x'; }
};

// Reads /proc/<pid>/stat (the command name may hold spaces and ')', so the
// fields are counted from the last ')'); nullopt when the process is gone.
std::optional<ProcessStat> read_process_stat(pid_t pid);

// True while a process with `pid` exists and is not a zombie (works for
// processes another switchyard started: kill(pid, 0) and /proc/<pid>/stat).
bool process_alive(pid_t pid);

// SIGTERM to the group, wait up to `grace`, then SIGKILL (and wait until it
// is gone). True if it stopped within the grace period, or was not running.
bool stop_process_group(pid_t pgid, Duration grace);

// Finds `program` in PATH; empty when absent.
std::filesystem::path find_program(std::string_view program);

}  // namespace switchyard
