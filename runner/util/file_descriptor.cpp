#include "runner/util/file_descriptor.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <utility>
#include <vector>

namespace switchyard {

std::string errno_text(int error_number) {
  return std::strerror(error_number);
}

FileDescriptor::~FileDescriptor() {
  if (m_fd >= 0) ::close(m_fd);
}

FileDescriptor::FileDescriptor(FileDescriptor&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)) {}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = std::exchange(other.m_fd, -1);
  }
  return *this;
}

bool FileDescriptor::close() {
  if (m_fd < 0) return true;
  return ::close(std::exchange(m_fd, -1)) == 0;
}

Result<FileDescriptor> open_for_reading(const std::filesystem::path& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.is_open()) {
    return usage_error(path.string() + ": cannot read (" + errno_text() + "); check the path");
  }
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  return fd;
}

Result<void> read_chunks(const FileDescriptor& fd, const std::filesystem::path& path,
                         const std::function<Result<void>(std::string_view chunk)>& sink) {
  // 1 MiB reads keep system calls rare; hashing or copying is the cost.
  std::vector<char> buffer(1 << 20);
  while (true) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return failure(path.string() + ": read failed (" + errno_text() + ")");
    }
    if (n == 0) return {};
    if (auto taken = sink({buffer.data(), static_cast<std::size_t>(n)}); !taken) return taken;
  }
}

}  // namespace switchyard
