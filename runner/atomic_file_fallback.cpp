// TEMPORARY (host helper): lets h/host link until runner/atomic_file.cpp from
// the nginx helper lands in main; delete this file then.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "runner/atomic_file.hpp"

namespace switchyard {

Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view content,
                                   std::optional<mode_t> mode) {
  auto temp = path;
  temp += ".tmp-" + std::to_string(::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode.value_or(0644));
  if (fd < 0) return failure(temp.string() + ": cannot write (" + std::strerror(errno) + ")");
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return failure(path.string() + ": cannot replace (" + std::strerror(errno) + ")");
  }
  int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return {};
}

}  // namespace switchyard
