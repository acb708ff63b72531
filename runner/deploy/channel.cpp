#include "runner/deploy/channel.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>

#include "runner/util/environment.hpp"

extern char** environ;

namespace switchyard {

namespace {

constexpr std::size_t k_read_chunk = 64 * 1024;

int poll_ms(Duration timeout) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  return ms < 0 ? 0 : static_cast<int>(ms);
}

// Splits what was read into lines, keeping an unfinished one in `partial`.
void take_lines(std::string& partial, std::string_view data, Stream stream,
                const std::function<void(Stream, std::string)>& sink) {
  partial.append(data);
  std::size_t start = 0;
  for (auto newline = partial.find('\n'); newline != std::string::npos;
       newline = partial.find('\n', start)) {
    sink(stream, partial.substr(start, newline - start));
    start = newline + 1;
  }
  partial.erase(0, start);
}

}  // namespace

Channel::Channel(Channel&& other) noexcept {
  *this = std::move(other);
}

Channel& Channel::operator=(Channel&& other) noexcept {
  if (this == &other) return *this;
  close_all();
  m_pid = std::exchange(other.m_pid, -1);
  m_in = std::exchange(other.m_in, -1);
  m_out = std::exchange(other.m_out, -1);
  m_err = std::exchange(other.m_err, -1);
  m_out_partial = std::move(other.m_out_partial);
  m_err_partial = std::move(other.m_err_partial);
  m_pending = std::move(other.m_pending);
  m_status = other.m_status;
  return *this;
}

Channel::~Channel() {
  close_all();
}

void Channel::close_all() {
  for (int* fd : {&m_in, &m_out, &m_err}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  if (m_pid > 0 && m_status < 0) {
    ::kill(-m_pid, SIGKILL);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
  }
  m_pid = -1;
}

Result<Channel> Channel::start(const ChannelSpec& spec) {
  if (spec.argv.empty()) return usage_error("channel: empty command (a switchyard bug)");
  auto program = spec.argv[0].find('/') == std::string::npos ? find_program(spec.argv[0])
                                                             : std::filesystem::path(spec.argv[0]);
  if (program.empty() || ::access(program.c_str(), X_OK) != 0) {
    return unavailable(spec.argv[0] + ": not found; install it or fix PATH");
  }
  auto environment = current_environment();
  for (const auto& name : spec.unset_environment)
    environment.erase(name);
  for (const auto& [name, value] : spec.set_environment)
    environment[name] = value;
  std::vector<std::string> env_text;
  for (const auto& [name, value] : environment)
    env_text.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& entry : env_text)
    envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = spec.argv;
  std::vector<char*> argv;
  for (auto& arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);

  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return unavailable("pipe: " + std::string(std::strerror(errno)));
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    return unavailable("pipe: " + std::string(std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  // dup2 onto 3 clears close-on-exec there: the one descriptor handed down.
  // From a copy above 3, since dup2 of a descriptor onto itself may leave
  // its close-on-exec flag set.
  int passed = -1;
  if (spec.pass_fd >= 0) {
    passed = ::fcntl(spec.pass_fd, F_DUPFD_CLOEXEC, 10);
    if (passed < 0) return unavailable("fcntl: " + std::string(std::strerror(errno)));
    posix_spawn_file_actions_adddup2(&actions, passed, 3);
  }
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setpgroup(&attributes, 0);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  int spawned =
      ::posix_spawn(&pid, program.c_str(), &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (passed >= 0) ::close(passed);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (spawned != 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    return unavailable(spec.argv[0] + ": cannot start (" + std::strerror(spawned) + ")");
  }
  Channel channel;
  channel.m_pid = pid;
  channel.m_in = in[1];
  channel.m_out = out[0];
  channel.m_err = err[0];
  return channel;
}

Result<void> Channel::write(std::string_view data) {
  while (!data.empty()) {
    if (m_in < 0) return unavailable("the channel's input is closed");
    pollfd fds[3] = {{m_in, POLLOUT, 0}, {m_out, POLLIN, 0}, {m_err, POLLIN, 0}};
    if (::poll(fds, 3, 1000) < 0) {
      if (errno == EINTR) continue;
      return unavailable(std::string("poll: ") + std::strerror(errno));
    }
    // Keep reading while writing, so a chatty child never blocks us both.
    for (int i : {1, 2}) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buffer[k_read_chunk];
      ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n <= 0) continue;
      take_lines(i == 1 ? m_out_partial : m_err_partial,
                 std::string_view(buffer, static_cast<std::size_t>(n)),
                 i == 1 ? Stream::Stdout : Stream::Stderr,
                 [&](Stream stream, std::string line) { m_pending.emplace_back(stream, line); });
    }
    if (fds[0].revents & (POLLERR | POLLHUP)) return unavailable("the other side closed its input");
    if (!(fds[0].revents & POLLOUT)) continue;
    // At most PIPE_BUF after POLLOUT: the write never blocks, so we keep reading.
    ssize_t n = ::write(m_in, data.data(), std::min<std::size_t>(data.size(), PIPE_BUF));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return unavailable(std::string("the other side closed its input (") + std::strerror(errno) +
                         ")");
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

void Channel::close_input() {
  if (m_in >= 0) ::close(m_in);
  m_in = -1;
}

Channel::ReadOutcome Channel::read(Duration timeout, const LineHandler& on_line, int also_wake) {
  if (!m_pending.empty()) {
    auto pending = std::move(m_pending);
    m_pending.clear();
    for (const auto& [stream, line] : pending)
      on_line(stream, line);
    return ReadOutcome::Lines;
  }
  if (m_out < 0 && m_err < 0) return ReadOutcome::Closed;
  pollfd fds[3] = {{m_out, POLLIN, 0}, {m_err, POLLIN, 0}, {also_wake, POLLIN, 0}};
  int ready = ::poll(fds, also_wake >= 0 ? 3 : 2, poll_ms(timeout));
  if (ready <= 0) return ReadOutcome::Timeout;
  bool any = false;
  for (int i : {0, 1}) {
    if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    int& fd = i == 0 ? m_out : m_err;
    std::string& partial = i == 0 ? m_out_partial : m_err_partial;
    Stream stream = i == 0 ? Stream::Stdout : Stream::Stderr;
    char buffer[k_read_chunk];
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      if (!partial.empty()) on_line(stream, partial);
      partial.clear();
      ::close(fd);
      fd = -1;
      any = true;
      continue;
    }
    take_lines(partial, std::string_view(buffer, static_cast<std::size_t>(n)), stream,
               [&](Stream s, std::string line) { on_line(s, line); });
    any = true;
  }
  if (m_out < 0 && m_err < 0) return ReadOutcome::Closed;
  return any ? ReadOutcome::Lines : ReadOutcome::Timeout;
}

int Channel::wait() {
  if (m_status >= 0) return m_status;
  if (m_pid <= 0) return -1;
  int status = 0;
  while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
  }
  m_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return m_status;
}

void Channel::signal(int signal) const {
  if (m_pid > 0 && m_status < 0) ::kill(-m_pid, signal);
}

bool InputReader::fill(int timeout_ms) {
  if (m_eof) return false;
  pollfd fd{m_fd, POLLIN, 0};
  int ready = ::poll(&fd, 1, timeout_ms);
  if (ready <= 0) return false;
  char buffer[k_read_chunk];
  ssize_t n = ::read(m_fd, buffer, sizeof(buffer));
  if (n < 0 && errno == EINTR) return false;
  if (n <= 0) {
    m_eof = true;
    return false;
  }
  m_buffer.append(buffer, static_cast<std::size_t>(n));
  return true;
}

std::optional<std::string> InputReader::line() {
  while (true) {
    if (auto newline = m_buffer.find('\n'); newline != std::string::npos) {
      std::string text = m_buffer.substr(0, newline);
      m_buffer.erase(0, newline + 1);
      return text;
    }
    if (m_eof) return std::nullopt;
    fill(-1);
  }
}

std::optional<std::string> InputReader::poll_line(Duration timeout) {
  if (m_buffer.find('\n') == std::string::npos) fill(poll_ms(timeout));
  if (auto newline = m_buffer.find('\n'); newline != std::string::npos) {
    std::string text = m_buffer.substr(0, newline);
    m_buffer.erase(0, newline + 1);
    return text;
  }
  return std::nullopt;
}

bool InputReader::bytes(std::uint64_t size, const std::function<bool(std::string_view)>& sink) {
  while (size > 0) {
    if (m_buffer.empty() && !fill(-1) && m_eof) return false;
    std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(size, m_buffer.size()));
    if (take == 0) continue;
    if (!sink(std::string_view(m_buffer).substr(0, take))) return false;
    m_buffer.erase(0, take);
    size -= take;
  }
  return true;
}

}  // namespace switchyard
