// A file descriptor that closes itself, the text of an errno value, and
// reading a file in chunks: what every piece of code that calls open(2),
// read(2) and write(2) directly needs.
#pragma once

#include <cerrno>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "runner/util/result.hpp"

namespace switchyard {

// "No such file or directory" for ENOENT: strerror(`error_number`), for the
// part of a message in parentheses after what could not be done.
std::string errno_text(int error_number = errno);

// Owns a descriptor and closes it on every path out of a scope.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : m_fd(fd) {}
  ~FileDescriptor();
  FileDescriptor(FileDescriptor&& other) noexcept;
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  int get() const { return m_fd; }
  bool is_open() const { return m_fd >= 0; }
  // Closes now and says whether close(2) succeeded: on some file systems a
  // failed close is the first sign of lost data, so a writer checks it.
  bool close();

 private:
  int m_fd = -1;
};

// Opens `path` to read it from start to end. Fails (exit 2) with
// "<path>: cannot read (<reason>); check the path".
Result<FileDescriptor> open_for_reading(const std::filesystem::path& path);

// Reads `fd` (opened from `path`) to its end in 1 MiB chunks and hands each
// to `sink`; stops at the first error, from the read (naming `path`) or from
// `sink`.
Result<void> read_chunks(const FileDescriptor& fd, const std::filesystem::path& path,
                         const std::function<Result<void>(std::string_view chunk)>& sink);

}  // namespace switchyard
