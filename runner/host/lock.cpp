#include "runner/host/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "runner/host/state.hpp"
#include "runner/util/file_descriptor.hpp"
#include "runner/util/interrupt.hpp"

namespace switchyard {
namespace json = boost::json;

namespace {

constexpr auto k_poll = std::chrono::milliseconds(100);
constexpr auto k_report_every = std::chrono::seconds(30);

std::string holder_json(const LockHolder& holder) {
  json::object object;
  object["pid"] = holder.pid;
  object["action"] = holder.action;
  object["version"] = holder.version;
  object["since"] = holder.since;
  object["who"] = holder.who;
  return json::serialize(object) + "\n";
}

// Rewrites the lock file's content in place. The file itself must stay (it
// is the inode the flock is on); one pwrite keeps a reader from seeing a
// mixture of the old and the new holder.
void record_holder(int fd, const LockHolder& holder) {
  std::string text = holder_json(holder);
  if (::ftruncate(fd, 0) != 0) return;
  if (::pwrite(fd, text.data(), text.size(), 0) < 0) return;
  ::fsync(fd);
}

}  // namespace

std::string LockHolder::describe() const {
  if (pid <= 0) return "another deploy (it has not said who it is yet)";
  std::string text = "pid " + std::to_string(pid);
  if (!action.empty()) text += " " + action;
  if (!version.empty()) text += " " + version;
  if (auto since_time = parse_utc(since)) {
    // Only the time of day: a lock is held for minutes, and the date is noise.
    text += " since " + since.substr(11, 8) + " UTC";
  }
  if (!who.empty()) text += " (" + who + ")";
  return text;
}

HostLock::HostLock(HostLock&& other) noexcept : m_fd(other.m_fd), m_borrowed(other.m_borrowed) {
  other.m_fd = -1;
}

HostLock& HostLock::operator=(HostLock&& other) noexcept {
  if (this != &other) {
    release();
    m_fd = other.m_fd;
    m_borrowed = other.m_borrowed;
    other.m_fd = -1;
  }
  return *this;
}

HostLock::~HostLock() {
  release();
}

void HostLock::release() {
  if (m_fd < 0) return;
  if (m_borrowed) {
    // The flock belongs to the parent's open file: closing our copy of the
    // descriptor leaves it held, unlocking would release it under the parent.
    ::close(m_fd);
    m_fd = -1;
    return;
  }
  // The holder's record stays in the file: harmless, since only a process
  // that fails to take the lock reads it, and the next holder overwrites it.
  ::flock(m_fd, LOCK_UN);
  ::close(m_fd);
  m_fd = -1;
}

namespace {

// The descriptor a parent handed down with the lock on `lock_file` held
// (k_held_lock_variable), or -1. It must be the same file and already ours:
// flock on a descriptor whose open file holds the lock succeeds at once.
int inherited_lock(const std::filesystem::path& lock_file) {
  const char* text = std::getenv(k_held_lock_variable);
  if (text == nullptr || *text == '\0') return -1;
  char* end = nullptr;
  long fd = std::strtol(text, &end, 10);
  if (*end != '\0' || fd < 3 || fd > 1024) return -1;
  struct stat held {};
  struct stat wanted {};
  if (::fstat(static_cast<int>(fd), &held) != 0 || ::stat(lock_file.c_str(), &wanted) != 0) {
    return -1;
  }
  if (held.st_dev != wanted.st_dev || held.st_ino != wanted.st_ino) return -1;
  if (::flock(static_cast<int>(fd), LOCK_EX | LOCK_NB) != 0) return -1;
  // Nothing this process starts (nginx -t, the slot) may inherit it.
  ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
  return static_cast<int>(fd);
}

}  // namespace

Result<HostLock> HostLock::acquire(const std::filesystem::path& lock_file, const LockHolder& self,
                                   Duration timeout,
                                   const std::function<void(const LockHolder&)>& on_wait) {
  if (int fd = inherited_lock(lock_file); fd >= 0) {
    ::unsetenv(k_held_lock_variable);
    HostLock lock;
    lock.m_fd = fd;
    lock.m_borrowed = true;
    return lock;
  }
  std::error_code error;
  std::filesystem::create_directories(lock_file.parent_path(), error);
  int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return unavailable(lock_file.string() + ": cannot open the host lock (" + errno_text() +
                       "); run as a user who owns " + lock_file.parent_path().string());
  }
  auto start = std::chrono::steady_clock::now();
  auto next_report = start;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      std::string reason = errno_text();
      ::close(fd);
      return unavailable(lock_file.string() + ": cannot lock (" + reason + ")");
    }
    auto now = std::chrono::steady_clock::now();
    if (now - start >= timeout) {
      ::close(fd);
      return Error{ExitCode::Locked, lock_file.string() + ": held by " +
                                         read_lock_holder(lock_file).describe() +
                                         "; wait, or stop that deploy"};
    }
    if (interrupted()) {
      ::close(fd);
      return Error{ExitCode::Interrupted,
                   lock_file.string() + ": interrupted while waiting for the host lock"};
    }
    if (on_wait && now >= next_report) {
      on_wait(read_lock_holder(lock_file));
      next_report = now + k_report_every;
    }
    std::this_thread::sleep_for(k_poll);
  }
  record_holder(fd, self);
  HostLock lock;
  lock.m_fd = fd;
  return lock;
}

LockHolder read_lock_holder(const std::filesystem::path& lock_file) {
  LockHolder holder;
  int fd = ::open(lock_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return holder;
  char buffer[4096];
  ssize_t n = ::pread(fd, buffer, sizeof(buffer), 0);
  ::close(fd);
  if (n <= 0) return holder;
  json::error_code error;
  auto value = json::parse(std::string_view(buffer, static_cast<std::size_t>(n)), error);
  if (error || !value.is_object()) return holder;
  const auto& object = value.as_object();
  if (auto it = object.find("pid"); it != object.end() && it->value().is_int64()) {
    holder.pid = static_cast<pid_t>(it->value().as_int64());
  }
  auto text = [&](const char* key) -> std::string {
    auto it = object.find(key);
    return it != object.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                         : "";
  };
  holder.action = text("action");
  holder.version = text("version");
  holder.since = text("since");
  holder.who = text("who");
  return holder;
}

}  // namespace switchyard
