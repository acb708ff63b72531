#include "runner/util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <spdlog/fmt/fmt.h>

namespace switchyard {
namespace {

// Closes a descriptor on every path out of a function.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : m_fd(fd) {}
  ~FileDescriptor() {
    if (m_fd >= 0) ::close(m_fd);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return m_fd; }
  // Closes now so that a close error (a delayed write error on some file
  // systems) can be reported; returns 0 or -1 like close(2).
  int close() {
    int rc = ::close(m_fd);
    m_fd = -1;
    return rc;
  }

 private:
  int m_fd;
};

Error write_error(const std::filesystem::path& path, std::string_view what, int error_number) {
  return failure(fmt::format("{}: cannot {} ({}); check that the directory exists and is writable",
                             path.string(), what, std::strerror(error_number)));
}

bool write_all(int fd, std::string_view content) {
  while (!content.empty()) {
    ssize_t written = ::write(fd, content.data(), content.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    content.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

mode_t mode_for(const std::filesystem::path& path, std::optional<mode_t> mode) {
  if (mode) return *mode;
  struct stat existing {};
  if (::stat(path.c_str(), &existing) == 0) return existing.st_mode & 07777;
  return 0644;
}

}  // namespace

Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view content,
                                   std::optional<mode_t> mode) {
  std::filesystem::path directory = path.parent_path();
  if (directory.empty()) directory = ".";

  // mkostemp gives a name no other writer uses; the leading dot keeps it out of
  // globs such as nginx's `include conf.d/*.conf`.
  std::string temp_name = (directory / ("." + path.filename().string() + ".tmp.XXXXXX")).string();
  FileDescriptor temp(::mkostemp(temp_name.data(), O_CLOEXEC));
  if (temp.get() < 0) return write_error(path, "create a temp file beside it", errno);

  auto fail = [&](std::string_view what) {
    int saved = errno;
    ::unlink(temp_name.c_str());
    return write_error(path, what, saved);
  };
  if (::fchmod(temp.get(), mode_for(path, mode)) != 0) return fail("set the mode of its temp file");
  if (!write_all(temp.get(), content)) return fail("write its temp file");
  if (::fsync(temp.get()) != 0) return fail("fsync its temp file");
  if (temp.close() != 0) return fail("close its temp file");
  if (::rename(temp_name.c_str(), path.c_str()) != 0) return fail("rename its temp file over it");

  // The rename is durable only once the directory entry is on disk.
  FileDescriptor dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0 || ::fsync(dir.get()) != 0) {
    return write_error(path, "fsync its directory", errno);
  }
  return {};
}

}  // namespace switchyard
