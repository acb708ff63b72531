// The host lock: one deploy, rollback or restore at a time per app.
//
// It is an flock(2) on <state_dir>/lock. The kernel releases an flock when
// the process holding it dies, however it dies (SIGKILL included), so a
// killed deploy can never leave the lock held. The holder writes who it is
// (pid, what it does, version, since) into the lock file, so that a waiter
// can name it: "/var/lib/switchyard/hello/lock: held by pid 1234 deploying
// 1.2.0-abc since 15:02:11 UTC; wait, or stop that deploy".
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <string>

#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

struct LockHolder {
  pid_t pid = 0;
  std::string action;   // "deploying", "rolling back to", "restoring"
  std::string version;  // what the holder deploys
  std::string since;    // RFC 3339 UTC
  std::string who;      // the CI run URL or user@host

  // "pid 1234 deploying 1.2.0-abc since 15:02:11 UTC".
  std::string describe() const;
};

class HostLock {
 public:
  HostLock() = default;
  HostLock(HostLock&& other) noexcept;
  HostLock& operator=(HostLock&& other) noexcept;
  HostLock(const HostLock&) = delete;
  HostLock& operator=(const HostLock&) = delete;
  ~HostLock();

  // Takes the lock on `lock_file`, waiting up to `timeout` while another
  // process holds it. `on_wait` is called with the holder when waiting
  // starts and about every 30 seconds after. Exit 4 on timeout, naming the
  // holder; exit 130 when interrupted while waiting; exit 3 when the file
  // cannot be opened.
  static Result<HostLock> acquire(const std::filesystem::path& lock_file, const LockHolder& self,
                                  Duration timeout,
                                  const std::function<void(const LockHolder&)>& on_wait = {});

  bool held() const { return m_fd >= 0; }
  // Releases the lock early (the destructor does it otherwise).
  void release();

  // The descriptor the flock is on, for handing the held lock to a child
  // (request-deploy's host agent runs switch-traffic under its lock).
  int descriptor() const { return m_fd; }

 private:
  int m_fd = -1;
  bool m_borrowed = false;  // handed down by a parent: closed, never unlocked
};

// The variable through which a parent that holds the host lock hands it to a
// child: SWITCHYARD_HELD_LOCK_FD=3 names an inherited descriptor with the
// flock on it. HostLock::acquire uses it only when it is an flock on the same
// lock file that this process can take at once (the parent's own lock); the
// lock then stays held until the parent lets it go, and the child never
// unlocks it.
inline constexpr const char* k_held_lock_variable = "SWITCHYARD_HELD_LOCK_FD";

// The holder recorded in `lock_file` (whoever wrote it last); empty pid when
// none can be read.
LockHolder read_lock_holder(const std::filesystem::path& lock_file);

}  // namespace switchyard
