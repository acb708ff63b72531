// A child process that request-deploy talks to while it runs: `ssh host
// switchyard request-deploy --agent` on the CI side, switch-traffic under the
// agent on a host. Its stdin is a pipe we write (configuration, artifact
// bytes, requests), its stdout and stderr are read line by line as they come.
//
// It runs in a process group of its own, so a Ctrl-C at the terminal reaches
// only request-deploy, which then decides what each host does (finish,
// undo, roll back) instead of every ssh dying at once mid-switch.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/util/duration.hpp"
#include "runner/util/process.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

struct ChannelSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH
  std::map<std::string, std::string> set_environment;
  std::vector<std::string> unset_environment;
  // A descriptor the child gets as fd 3 (the held host lock); -1 for none.
  int pass_fd = -1;
};

class Channel {
 public:
  Channel() = default;
  Channel(Channel&& other) noexcept;
  Channel& operator=(Channel&& other) noexcept;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  // Kills the group (SIGKILL) if it still runs, and reaps it.
  ~Channel();

  // Starts `spec`; exit 3 when the program cannot be run.
  static Result<Channel> start(const ChannelSpec& spec);

  // Writes all of `data` to the child's stdin; fails when the child closed
  // it (it exited). Output that arrives meanwhile is kept for read().
  Result<void> write(std::string_view data);
  void close_input();

  enum class ReadOutcome { Lines, Timeout, Closed };
  // Waits up to `timeout` for output and calls `on_line` for each complete
  // line (stdout and stderr kept apart). Closed: both outputs reached their
  // end (the child exited or closed them). `also_wake` (>= 0): return
  // Timeout early when that descriptor becomes readable.
  ReadOutcome read(Duration timeout, const LineHandler& on_line, int also_wake = -1);

  // Waits for the child to exit: its exit code, or 128 + the signal.
  int wait();
  // Sends `signal` to the child's process group.
  void signal(int signal) const;
  pid_t pid() const { return m_pid; }

 private:
  void close_all();
  pid_t m_pid = -1;
  int m_in = -1;
  int m_out = -1;
  int m_err = -1;
  std::string m_out_partial;
  std::string m_err_partial;
  std::vector<std::pair<Stream, std::string>> m_pending;  // lines read during write()
  int m_status = -1;
};

// Reads a descriptor (stdin of the agent) in lines and exact byte counts.
class InputReader {
 public:
  explicit InputReader(int fd) : m_fd(fd) {}
  // The next line without its newline; none at end of input.
  std::optional<std::string> line();
  // Copies exactly `size` bytes to `sink`; false at a short read.
  bool bytes(std::uint64_t size, const std::function<bool(std::string_view)>& sink);
  // A complete line when one is available within `timeout` (none when not,
  // or at end of input: see closed()).
  std::optional<std::string> poll_line(Duration timeout);
  bool closed() const { return m_eof; }

 private:
  bool fill(int timeout_ms);
  int m_fd;
  std::string m_buffer;
  bool m_eof = false;
};

}  // namespace switchyard
