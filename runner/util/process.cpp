#include "runner/util/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/pipe.hpp>
#include <boost/process/start_dir.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "runner/util/environment.hpp"
#include "runner/util/file_descriptor.hpp"
#include "runner/util/interrupt.hpp"

namespace bp = boost::process;

namespace switchyard {
namespace {

using Clock = std::chrono::steady_clock;

// The output kept for error messages ("the build's last lines").
constexpr std::size_t k_tail_bytes = std::size_t{8} * 1024;
// A "line" without a newline is cut here so a runaway writer cannot grow memory.
constexpr std::size_t k_max_line = std::size_t{64} * 1024;
// After the direct child exits, how long a grandchild that still holds the
// output pipes may keep us reading (`sh -c 'server &'` must not hang us).
constexpr auto k_drain_after_exit = std::chrono::milliseconds(200);
// After a timeout SIGKILL, how long we keep reading what is left in the pipes.
constexpr auto k_drain_after_kill = std::chrono::seconds(1);
// How long a child may take to stop after an interrupt before SIGKILL.
constexpr auto k_interrupt_grace = std::chrono::seconds(2);

// The environment a child sees: ours, with `spec`'s changes applied.
std::map<std::string, std::string> child_environment(const ProcessSpec& spec) {
  auto environment = current_environment();
  for (const auto& name : spec.unset_environment)
    environment.erase(name);
  for (const auto& [name, value] : spec.set_environment)
    environment[name] = value;
  return environment;
}

bool is_executable_file(const std::filesystem::path& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

// Looks `program` up in `path_value` (a PATH string); a name with a slash is
// taken as a path, relative to `base` when that is given.
std::filesystem::path resolve_program(std::string_view program, std::string_view path_value,
                                      const std::optional<std::filesystem::path>& base) {
  if (program.empty()) return {};
  if (program.find('/') != std::string_view::npos) {
    std::filesystem::path candidate(program);
    if (candidate.is_relative() && base) candidate = *base / candidate;
    return is_executable_file(candidate) ? std::filesystem::path(program) : std::filesystem::path();
  }
  std::size_t start = 0;
  while (start <= path_value.size()) {
    auto end = path_value.find(':', start);
    if (end == std::string_view::npos) end = path_value.size();
    std::string_view directory = path_value.substr(start, end - start);
    // An empty PATH entry means the current directory, as in execvp.
    std::filesystem::path candidate =
        std::filesystem::path(directory.empty() ? "." : std::string(directory)) /
        std::string(program);
    if (is_executable_file(candidate)) return candidate;
    start = end + 1;
  }
  return {};
}

Result<std::filesystem::path> program_path(const ProcessSpec& spec,
                                           const std::map<std::string, std::string>& environment) {
  if (spec.argv.empty()) return usage_error("process: empty argument vector; nothing to run");
  auto path_it = environment.find("PATH");
  std::string path_value = path_it == environment.end() ? "/usr/bin:/bin" : path_it->second;
  auto resolved = resolve_program(spec.argv[0], path_value, spec.working_directory);
  if (spec.working_directory && !std::filesystem::is_directory(*spec.working_directory)) {
    return usage_error(spec.working_directory->string() +
                       ": working directory not found; check the path");
  }
  if (resolved.empty()) {
    if (spec.argv[0].find('/') != std::string::npos) {
      return unavailable(spec.argv[0] + ": not found or not executable; check the path");
    }
    return unavailable(spec.argv[0] + ": not found in PATH; install it or fix PATH");
  }
  return resolved;
}

// Puts the child into a process group of its own, resets what exec keeps
// (blocked and ignored signals), and marks every inherited descriptor above
// stderr close-on-exec: pipes another thread opened at the same moment must
// not leak into the child, or their readers would never see end-of-file.
// Only async-signal-safe calls: another thread may hold malloc's lock.
void prepare_child_after_fork() {
  ::setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signal_number : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) {
    ::sigaction(signal_number, &default_action, nullptr);
  }
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
}

// Writes to a pipe whose reader may be gone without taking SIGPIPE: the
// signal is blocked for this thread, and a pending one is consumed.
ssize_t write_without_sigpipe(int fd, const char* data, std::size_t size) {
  sigset_t pipe_set;
  sigset_t old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  ssize_t written = ::write(fd, data, size);
  int saved_errno = errno;
  if (written < 0 && saved_errno == EPIPE) {
    struct timespec zero {};
    ::sigtimedwait(&pipe_set, nullptr, &zero);
  }
  ::pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  errno = saved_errno;
  return written;
}

// Splits one stream into lines and keeps the shared tail.
class LineSplitter {
 public:
  LineSplitter(Stream stream, const LineHandler& on_line, std::string& tail)
      : m_stream(stream), m_on_line(on_line), m_tail(tail) {}

  void feed(const char* data, std::size_t size) {
    m_buffer.append(data, size);
    std::size_t start = 0;
    for (auto newline = m_buffer.find('\n', start); newline != std::string::npos;
         newline = m_buffer.find('\n', start)) {
      emit(std::string_view(m_buffer).substr(start, newline - start));
      start = newline + 1;
    }
    m_buffer.erase(0, start);
    if (m_buffer.size() >= k_max_line) {
      emit(m_buffer);
      m_buffer.clear();
    }
  }

  void finish() {
    if (!m_buffer.empty()) emit(m_buffer);
    m_buffer.clear();
  }

 private:
  void emit(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    m_tail.append(line);
    m_tail.push_back('\n');
    if (m_tail.size() > k_tail_bytes) {
      // Cut at a line boundary so the tail starts with a whole line.
      auto cut = m_tail.find('\n', m_tail.size() - k_tail_bytes);
      m_tail.erase(0, cut == std::string::npos ? m_tail.size() - k_tail_bytes : cut + 1);
    }
    if (m_on_line) m_on_line(m_stream, line);
  }

  Stream m_stream;
  const LineHandler& m_on_line;
  std::string& m_tail;
  std::string m_buffer;
};

void set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

// Reaps any of our own children in group `pgid` that have exited.
void reap_group(pid_t pgid) {
  while (::waitpid(-pgid, nullptr, WNOHANG) > 0) {
  }
}

// True while any process of group `pgid` is running (zombies do not count:
// a zombie may belong to a parent that never reaps, such as a container's init).
bool group_alive(pid_t pgid) {
  reap_group(pgid);
  if (::kill(-pgid, 0) != 0 && errno == ESRCH) return false;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    auto stat = read_process_stat(static_cast<pid_t>(std::stol(name)));
    if (stat && stat->group == pgid && !stat->dead()) return true;
  }
  // Without /proc the kill() probe is all we have.
  return error ? true : false;
}

// Moves `fd` to a number above stderr, so dup2() onto 0..2 in a child cannot
// clobber it.
int above_stdio(int fd) {
  if (fd < 0 || fd > 2) return fd;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  return moved;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& text : strings)
    out.push_back(text.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::filesystem::path find_program(std::string_view program) {
  const char* path_value = std::getenv("PATH");
  return resolve_program(program, path_value == nullptr ? "/usr/bin:/bin" : path_value,
                         std::nullopt);
}

Result<ProcessOutcome> run_process(const ProcessSpec& spec, const LineHandler& on_line) {
  auto environment_map = child_environment(spec);
  auto program = program_path(spec, environment_map);
  if (!program) return program.error();

  bp::environment environment;
  for (const auto& [name, value] : environment_map)
    environment[name] = value;
  std::vector<std::string> arguments(spec.argv.begin() + 1, spec.argv.end());

  bp::pipe out_pipe;
  bp::pipe err_pipe;
  bp::pipe in_pipe;
  const bool has_input = !spec.standard_input.empty();
  auto child_setup = bp::extend::on_exec_setup([](auto&) { prepare_child_after_fork(); });

  std::optional<bp::child> child;
  try {
    auto start = [&](auto&&... extra) {
      if (has_input) {
        child.emplace(bp::exe = program->string(), bp::args = arguments, environment,
                      bp::std_out > out_pipe, bp::std_err > err_pipe, bp::std_in < in_pipe,
                      child_setup, extra...);
      } else {
        child.emplace(bp::exe = program->string(), bp::args = arguments, environment,
                      bp::std_out > out_pipe, bp::std_err > err_pipe, bp::std_in < bp::null,
                      child_setup, extra...);
      }
    };
    if (spec.working_directory) {
      start(bp::start_dir = spec.working_directory->string());
    } else {
      start();
    }
  } catch (const std::system_error& e) {
    return unavailable(spec.argv[0] + ": cannot start: " + e.code().message() +
                       "; check that it is executable");
  }
  const pid_t pid = child->id();
  // Also set the group from this side, so a timeout that fires before the
  // child ran its setup still reaches the whole group.
  ::setpgid(pid, pid);

  ProcessOutcome outcome;
  LineSplitter out_lines(Stream::Stdout, on_line, outcome.output_tail);
  LineSplitter err_lines(Stream::Stderr, on_line, outcome.output_tail);

  int out_fd = out_pipe.native_source();
  int err_fd = err_pipe.native_source();
  int in_fd = has_input ? in_pipe.native_sink() : -1;
  if (in_fd >= 0) set_nonblocking(in_fd);
  std::size_t input_written = 0;

  const bool has_timeout = spec.timeout.count() > 0;
  const auto deadline = Clock::now() + spec.timeout;
  std::optional<Clock::time_point> stop_reading_at;
  bool exited = false;
  std::array<char, std::size_t{16} * 1024> buffer{};

  // The timeout kills the group at once. An interrupt (Ctrl-C reaches only
  // the foreground group, not this child's) asks it to stop first.
  std::optional<Clock::time_point> interrupt_sent_at;
  auto enforce_limits = [&](Clock::time_point now) {
    if (has_timeout && !outcome.timed_out && now >= deadline) {
      ::kill(-pid, SIGKILL);
      outcome.timed_out = true;
      stop_reading_at = now + k_drain_after_kill;
    }
    if (!interrupt_sent_at && interrupted()) {
      ::kill(-pid, SIGTERM);
      interrupt_sent_at = now;
    } else if (interrupt_sent_at && now - *interrupt_sent_at >= k_interrupt_grace) {
      ::kill(-pid, SIGKILL);
      interrupt_sent_at = now;
    }
  };

  while (out_fd >= 0 || err_fd >= 0) {
    auto now = Clock::now();
    enforce_limits(now);
    if (!exited) {
      std::error_code error;
      exited = !child->running(error);
      if (exited && !stop_reading_at) stop_reading_at = now + k_drain_after_exit;
    }
    if (stop_reading_at && now >= *stop_reading_at) break;

    std::vector<pollfd> fds;
    if (out_fd >= 0) fds.push_back({out_fd, POLLIN, 0});
    if (err_fd >= 0) fds.push_back({err_fd, POLLIN, 0});
    if (in_fd >= 0) fds.push_back({in_fd, POLLOUT, 0});
    // Wake up at least every 50 ms to notice the child's exit while a
    // grandchild keeps the pipes open, and to honour the deadline.
    auto wait = std::chrono::milliseconds(50);
    if (has_timeout && !outcome.timed_out) {
      wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                                std::chrono::milliseconds(1));
    }
    int ready = ::poll(fds.data(), fds.size(), static_cast<int>(wait.count()));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;

    for (const auto& entry : fds) {
      if (entry.revents == 0) continue;
      if (entry.fd == in_fd) {
        ssize_t written = write_without_sigpipe(in_fd, spec.standard_input.data() + input_written,
                                                spec.standard_input.size() - input_written);
        if (written > 0) input_written += static_cast<std::size_t>(written);
        if ((written < 0 && errno != EAGAIN && errno != EINTR) ||
            input_written == spec.standard_input.size()) {
          in_pipe.close();  // The child reads end-of-file.
          in_fd = -1;
        }
        continue;
      }
      ssize_t count = ::read(entry.fd, buffer.data(), buffer.size());
      if (count < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      const bool is_out = entry.fd == out_fd;
      if (count <= 0) {
        (is_out ? out_lines : err_lines).finish();
        (is_out ? out_fd : err_fd) = -1;
        continue;
      }
      (is_out ? out_lines : err_lines).feed(buffer.data(), static_cast<std::size_t>(count));
    }
  }
  out_lines.finish();
  err_lines.finish();
  if (in_fd >= 0) in_pipe.close();

  // Output closed but the child may live on: wait, still within the limits.
  std::error_code wait_error;
  while (child->running(wait_error)) {
    enforce_limits(Clock::now());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  child->wait(wait_error);
  int status = child->native_exit_code();
  if (WIFEXITED(status)) {
    outcome.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    outcome.signal = WTERMSIG(status);
  }
  // A grandchild that outlived a killed group leader is killed too.
  if (outcome.timed_out) ::kill(-pid, SIGKILL);
  return outcome;
}

// Boost.Process starts children of this process; a slot must instead outlive
// it and be stoppable later by a different switchyard process. That takes a
// double fork (so the slot is never our zombie: its parent becomes init) and
// setsid() in the grandchild, which Boost.Process v1 cannot express, so this
// is plain fork/exec. Everything that allocates happens before the fork.
Result<pid_t> spawn_detached(const ProcessSpec& spec, const std::filesystem::path& log_file) {
  auto environment_map = child_environment(spec);
  auto program = program_path(spec, environment_map);
  if (!program) return program.error();

  int log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log_fd < 0) {
    return failure(log_file.string() + ": cannot open the log file: " + errno_text(errno) +
                   "; check that its directory exists and is writable");
  }
  log_fd = above_stdio(log_fd);
  int null_fd = above_stdio(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  int report[2];
  if (null_fd < 0 || ::pipe2(report, O_CLOEXEC) != 0) {
    int error = errno;
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return failure(spec.argv[0] + ": cannot start: " + errno_text(error));
  }
  report[0] = above_stdio(report[0]);
  report[1] = above_stdio(report[1]);

  std::vector<std::string> argv_strings = spec.argv;
  std::vector<std::string> env_strings;
  env_strings.reserve(environment_map.size());
  for (const auto& [name, value] : environment_map)
    env_strings.push_back(std::string(name).append("=").append(value));
  auto argv = c_strings(argv_strings);
  auto envp = c_strings(env_strings);
  std::string program_string = program->string();
  std::string directory = spec.working_directory ? spec.working_directory->string() : "";

  pid_t intermediate = ::fork();
  if (intermediate == 0) {
    pid_t slot = ::fork();
    if (slot == 0) {
      ::setsid();
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      struct sigaction default_action {};
      default_action.sa_handler = SIG_DFL;
      for (int signal_number = 1; signal_number < NSIG; ++signal_number) {
        ::sigaction(signal_number, &default_action, nullptr);
      }
      ::dup2(null_fd, 0);
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      if (report[1] != 3) ::dup2(report[1], 3);
      ::fcntl(3, F_SETFD, FD_CLOEXEC);
      // Nothing else may leak into the slot: an inherited pipe to the CI
      // runner's log would keep the CI job waiting for the slot to exit.
      ::close_range(4, ~0U, 0);
      // The slot reports its own pid, then (only if it cannot start) the
      // errno: one process's writes arrive in order, where a pid written
      // by the intermediate could arrive after the errno.
      pid_t self = ::getpid();
      (void)!::write(3, &self, sizeof self);
      if (!directory.empty() && ::chdir(directory.c_str()) != 0) {
        int error = errno;
        (void)!::write(3, &error, sizeof error);
        ::_exit(127);
      }
      ::execve(program_string.c_str(), argv.data(), envp.data());
      int error = errno;
      (void)!::write(3, &error, sizeof error);
      ::_exit(127);
    }
    // The slot tells the parent its pid; only a failed second fork is
    // reported from here.
    if (slot < 0) {
      pid_t reported = -errno;
      (void)!::write(report[1], &reported, sizeof reported);
    }
    ::_exit(0);
  }
  int fork_error = errno;
  ::close(report[1]);
  ::close(log_fd);
  ::close(null_fd);
  if (intermediate < 0) {
    ::close(report[0]);
    return failure(spec.argv[0] + ": cannot start: " + errno_text(fork_error));
  }
  while (::waitpid(intermediate, nullptr, 0) < 0 && errno == EINTR) {
  }

  // The pipe carries the slot's pid (or minus the errno of a failed second
  // fork), then end-of-file once exec succeeded (it is close-on-exec) or the
  // errno of a failed chdir/exec.
  std::string reply;
  std::array<char, 64> chunk{};
  for (;;) {
    ssize_t count = ::read(report[0], chunk.data(), chunk.size());
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) break;
    reply.append(chunk.data(), static_cast<std::size_t>(count));
  }
  ::close(report[0]);

  pid_t slot = 0;
  if (reply.size() < sizeof slot) return failure(spec.argv[0] + ": cannot start: no pid reported");
  std::memcpy(&slot, reply.data(), sizeof slot);
  if (slot < 0) return failure(spec.argv[0] + ": cannot start: " + errno_text(-slot));
  if (reply.size() >= sizeof slot + sizeof(int)) {
    int error = 0;
    std::memcpy(&error, reply.data() + sizeof slot, sizeof error);
    if (!directory.empty() && ::access(directory.c_str(), X_OK) != 0) {
      return failure(directory + ": cannot enter the working directory: " + errno_text(error) +
                     "; check that it exists");
    }
    return unavailable(spec.argv[0] + ": cannot start: " + errno_text(error) +
                       "; check that it is executable");
  }
  return slot;
}

bool signal_process_group(pid_t pgid, int signal) {
  if (pgid <= 1) return false;
  return ::kill(-pgid, signal) == 0;
}

std::optional<ProcessStat> read_process_stat(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  if (!file) return std::nullopt;
  // Not an istreambuf_iterator: when the process exits between the open and
  // the read, the read fails with ESRCH and the stream buffer throws, which
  // operator<< turns into failbit (a stop that scans /proc hit this under load).
  std::ostringstream content;
  if (!(content << file.rdbuf())) return std::nullopt;
  std::string text = content.str();
  // The command name sits in parentheses and may itself hold spaces or ')'.
  auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 1));
  ProcessStat stat;
  if (!(fields >> stat.state >> stat.parent >> stat.group >> stat.session)) return std::nullopt;
  // Fields 7 to 21 lie between the session (field 6) and the start time (22).
  std::string skipped;
  for (int field = 7; field <= 21; ++field)
    fields >> skipped;
  if (!(fields >> stat.start_ticks)) stat.start_ticks = 0;
  return stat;
}

bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  // Reap it if it is our own child that has exited.
  if (::waitpid(pid, nullptr, WNOHANG) == pid) return false;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  // A zombie whose parent has not reaped it (it may not be ours) is dead.
  auto stat = read_process_stat(pid);
  if (stat && stat->dead()) return false;
  return true;
}

bool stop_process_group(pid_t pgid, Duration grace) {
  if (pgid <= 1) return true;
  if (!group_alive(pgid)) return true;
  ::kill(-pgid, SIGTERM);
  const auto grace_end = Clock::now() + grace;
  for (;;) {
    if (!group_alive(pgid)) return true;
    if (Clock::now() >= grace_end) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(-pgid, SIGKILL);
  // SIGKILL cannot be ignored; wait (bounded) until the kernel is done.
  const auto kill_end = Clock::now() + std::chrono::seconds(5);
  while (group_alive(pgid) && Clock::now() < kill_end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

}  // namespace switchyard
