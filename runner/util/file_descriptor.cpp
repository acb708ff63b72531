#include "runner/util/file_descriptor.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
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
  // 1 MiB reads keep system calls rare. Copying a file out of the page cache
  // costs about a third of what hashing it does (docs/BENCHMARKS.md,
  // "SHA-256"), so a reader thread fills the next buffers while `sink` works
  // on this one: on a second core the copy is off the hashing's path.
  constexpr std::size_t k_chunk = std::size_t{1} << 20;
  constexpr std::size_t k_buffers = 4;
  std::array<std::vector<char>, k_buffers> buffers;
  std::array<std::size_t, k_buffers> sizes{};
  std::mutex mutex;
  std::condition_variable_any changed;
  std::size_t read_count = 0;      // chunks read so far (guarded by `mutex`)
  std::size_t consumed_count = 0;  // chunks `sink` is done with
  bool at_end = false;             // the reader stopped: end of file or an error
  std::optional<Error> read_error;

  // Declared after everything it uses, so that however this frame is left
  // (the end, `sink` failing, `sink` throwing) the jthread's destructor asks
  // it to stop, waking its wait, and joins it while those still exist.
  std::jthread reader([&](const std::stop_token& stop) {
    for (std::size_t chunk = 0;; ++chunk) {
      {
        std::unique_lock lock(mutex);
        if (!changed.wait(lock, stop, [&] { return chunk - consumed_count < k_buffers; })) return;
      }
      auto& buffer = buffers[chunk % k_buffers];
      buffer.resize(k_chunk);
      ssize_t n = 0;
      do {
        n = ::read(fd.get(), buffer.data(), buffer.size());
      } while (n < 0 && errno == EINTR);
      std::lock_guard lock(mutex);
      if (n < 0) read_error = failure(path.string() + ": read failed (" + errno_text() + ")");
      if (n <= 0) {
        at_end = true;
      } else {
        sizes[chunk % k_buffers] = static_cast<std::size_t>(n);
        ++read_count;
      }
      changed.notify_all();
      if (at_end) return;
    }
  });

  for (std::size_t chunk = 0;; ++chunk) {
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return read_count > chunk || at_end; });
      if (read_count == chunk) break;
    }
    auto taken = sink({buffers[chunk % k_buffers].data(), sizes[chunk % k_buffers]});
    if (!taken) return taken;
    std::lock_guard lock(mutex);
    ++consumed_count;
    changed.notify_all();
  }
  // The reader set at_end (and any read_error) under the lock this loop saw
  // it with.
  if (read_error) return *read_error;
  return {};
}

}  // namespace switchyard
