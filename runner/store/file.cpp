#include "runner/store/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include "runner/aws/sigv4.hpp"
#include "runner/core/log.hpp"
#include "runner/util/sha256.hpp"

namespace switchyard {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

// Closes a file descriptor when it goes out of scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : m_fd(fd) {}
  ~FileDescriptor() {
    if (m_fd >= 0) ::close(m_fd);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return m_fd; }
  // Closes now and reports whether close succeeded (a failed close can mean
  // lost data on some file systems).
  bool close() {
    int fd = m_fd;
    m_fd = -1;
    return ::close(fd) == 0;
  }

 private:
  int m_fd;
};

std::filesystem::path temp_path_beside(const std::filesystem::path& destination) {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  static constexpr char k_alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string suffix(8, 'x');
  for (char& c : suffix)
    c = k_alphabet[generator() % (sizeof(k_alphabet) - 1)];
  return destination.parent_path() / ("." + destination.filename().string() + ".tmp-" + suffix);
}

Result<void> fsync_directory(const std::filesystem::path& directory) {
  FileDescriptor fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    return failure(directory.string() + ": cannot sync the directory (" + errno_text() +
                   "); check the disk");
  }
  return {};
}

Result<void> write_all(int fd, const char* data, std::size_t size,
                       const std::filesystem::path& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failure(path.string() + ": write failed (" + errno_text() +
                     "); check free space and permissions");
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

// Syncs and renames a finished temp file into place, then syncs the directory
// so the rename itself survives a crash.
Result<void> commit_temp_file(FileDescriptor& fd, const std::filesystem::path& temp,
                              const std::filesystem::path& destination) {
  if (::fsync(fd.get()) != 0 || !fd.close()) {
    return failure(temp.string() + ": cannot sync (" + errno_text() + "); check the disk");
  }
  if (::rename(temp.c_str(), destination.c_str()) != 0) {
    return failure(destination.string() + ": cannot rename the temp file into place (" +
                   errno_text() + "); check permissions");
  }
  return fsync_directory(destination.parent_path());
}

Result<void> make_directories(const std::filesystem::path& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    return unavailable(directory.string() + ": cannot create the directory (" + error.message() +
                       "); check permissions or choose another --store");
  }
  return {};
}

}  // namespace

Result<std::filesystem::path> file_uri_to_path(std::string_view uri) {
  constexpr std::string_view k_scheme = "file://";
  if (uri.substr(0, k_scheme.size()) != k_scheme) {
    return usage_error(std::string(uri) + ": not a file:// URI; write file:///absolute/path");
  }
  std::string_view rest = uri.substr(k_scheme.size());
  if (rest.empty() || rest.front() != '/') {
    return usage_error(std::string(uri) +
                       ": a file:// URI needs an absolute path and no host; write "
                       "file:///absolute/path");
  }
  // Percent-escapes are decoded so a path with a space round-trips; a '%'
  // without two hex digits after it stays as it is.
  return std::filesystem::path(aws_uri_decode(rest)).lexically_normal();
}

std::string path_to_file_uri(const std::filesystem::path& path) {
  std::string out = "file://";
  for (char c : path.string()) {
    if (c == ' ') {
      out += "%20";
    } else if (c == '%') {
      out += "%25";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<AtomicFileWriter> AtomicFileWriter::open(const std::filesystem::path& destination) {
  auto temp = temp_path_beside(destination);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    return unavailable(temp.parent_path().string() + ": cannot write (" + errno_text() +
                       "); check permissions and free space");
  }
  return AtomicFileWriter(destination, temp, fd);
}

AtomicFileWriter::AtomicFileWriter(std::filesystem::path destination, std::filesystem::path temp,
                                   int fd)
    : m_destination(std::move(destination)),
      m_temp(std::move(temp)),
      m_fd(fd),
      m_hash(std::make_unique<Sha256>()) {}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept
    : m_destination(std::move(other.m_destination)),
      m_temp(std::move(other.m_temp)),
      m_fd(std::exchange(other.m_fd, -1)),
      m_size(other.m_size),
      m_hash(std::move(other.m_hash)) {}

AtomicFileWriter::~AtomicFileWriter() {
  discard();
}

void AtomicFileWriter::discard() {
  if (m_fd < 0) return;
  ::close(m_fd);
  m_fd = -1;
  std::error_code ignored;
  std::filesystem::remove(m_temp, ignored);
}

Result<void> AtomicFileWriter::write(std::string_view chunk) {
  m_hash->update(chunk);
  m_size += chunk.size();
  return write_all(m_fd, chunk.data(), chunk.size(), m_temp);
}

Result<std::string> AtomicFileWriter::commit(const std::string& expected_sha256,
                                             std::string_view subject) {
  std::string sha256 = m_hash->finish_hex();
  if (!expected_sha256.empty() && sha256 != expected_sha256) {
    discard();
    return failure(std::string(subject) + ": sha256 " + sha256 + " does not match the expected " +
                   expected_sha256 +
                   "; the artifact changed after it was described, or the expected sha256 is "
                   "wrong");
  }
  FileDescriptor fd(std::exchange(m_fd, -1));
  auto committed = commit_temp_file(fd, m_temp, m_destination);
  if (!committed) {
    std::error_code ignored;
    std::filesystem::remove(m_temp, ignored);
    return committed.error();
  }
  return sha256;
}

Result<std::string> copy_file_atomically(const std::filesystem::path& source,
                                         const std::filesystem::path& destination,
                                         const std::string& expected_sha256,
                                         const ProgressFunction& progress) {
  FileDescriptor in(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) {
    return usage_error(source.string() + ": cannot read (" + errno_text() + "); check the path");
  }
  struct stat info {};
  if (::fstat(in.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
    return usage_error(source.string() + ": not a regular file; give the artifact's path");
  }
  auto total = static_cast<std::uint64_t>(info.st_size);
  ::posix_fadvise(in.get(), 0, 0, POSIX_FADV_SEQUENTIAL);

  auto writer = AtomicFileWriter::open(destination);
  if (!writer) return writer.error();
  std::vector<char> buffer(1 << 20);
  while (true) {
    ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return failure(source.string() + ": read failed (" + errno_text() + ")");
    }
    if (n == 0) break;
    if (auto written = writer->write({buffer.data(), static_cast<std::size_t>(n)}); !written) {
      return written.error();
    }
    if (progress) progress(writer->size(), total);
  }
  return writer->commit(expected_sha256, source.string());
}

Result<void> write_store_file(const std::filesystem::path& destination, std::string_view text) {
  auto writer = AtomicFileWriter::open(destination);
  if (!writer) return writer.error();
  if (auto written = writer->write(text); !written) return written.error();
  if (auto committed = writer->commit("", destination.string()); !committed) {
    return committed.error();
  }
  return {};
}

void remove_stale_temp_files(const std::filesystem::path& directory) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    std::string name = entry.path().filename().string();
    if (name.size() > 1 && name.front() == '.' && name.find(".tmp-") != std::string::npos) {
      log::debug("{}: removing what an interrupted write left", entry.path().string());
      std::filesystem::remove(entry.path(), error);
    }
  }
}

Error different_artifact_stored(std::string_view artifact_uri, std::string_view version) {
  return usage_error(std::string(artifact_uri) +
                     ": a different artifact is already stored under version " +
                     std::string(version) + "; build a new version or pass --force");
}

Result<PushOutcome> push_to_file_store(const std::filesystem::path& root,
                                       const std::filesystem::path& file, Manifest manifest,
                                       bool force, const ProgressFunction& progress) {
  auto directory = root / manifest.app / manifest.version;
  auto artifact = directory / manifest.file;
  auto manifest_file = manifest_path_for(artifact);

  PushOutcome outcome;
  outcome.artifact_uri = path_to_file_uri(artifact);
  outcome.manifest_uri = path_to_file_uri(manifest_file);
  outcome.size = manifest.size;
  outcome.sha256 = manifest.sha256;

  // An existing manifest means a complete earlier push of this version (it is
  // written last). The same bytes: nothing to do. Other bytes: refuse.
  std::error_code error;
  if (std::filesystem::exists(manifest_file, error)) {
    // Comparing needs the hash before the copy.
    if (manifest.sha256.empty()) {
      auto sha256 = sha256_file(file);
      if (!sha256) return sha256.error();
      manifest.sha256 = outcome.sha256 = *sha256;
    }
    auto stored = read_manifest(manifest_file);
    bool same = false;
    if (stored && stored->sha256 == manifest.sha256 && std::filesystem::exists(artifact, error)) {
      auto stored_sha256 = sha256_file(artifact);
      same = stored_sha256 && *stored_sha256 == manifest.sha256;
    }
    if (same) {
      outcome.already_present = true;
      return outcome;
    }
    if (!force) {
      return different_artifact_stored(outcome.artifact_uri, manifest.version);
    }
    // Withdraw the old manifest first, so that while the artifact is replaced
    // no reader pairs the old manifest with the new bytes.
    std::filesystem::remove(manifest_file, error);
    if (error) {
      return unavailable(manifest_file.string() + ": cannot remove the old manifest (" +
                         error.message() + "); check permissions");
    }
    log::warn("{}: replacing the artifact stored under version {} (--force)", outcome.artifact_uri,
              manifest.version);
  }

  if (auto made = make_directories(directory); !made) return made.error();
  remove_stale_temp_files(directory);

  // The artifact first, verified against the manifest (or hashed for it)
  // while it is copied; then the manifest, whose appearance marks the push
  // complete.
  auto copied = copy_file_atomically(file, artifact, manifest.sha256, progress);
  if (!copied) return copied.error();
  manifest.sha256 = outcome.sha256 = *copied;
  if (auto written = write_store_file(manifest_file, manifest_to_json(manifest)); !written) {
    return written.error();
  }
  return outcome;
}

}  // namespace switchyard
