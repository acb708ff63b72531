#include "runner/util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace switchyard {
namespace {

constexpr std::string_view k_temp_marker = ".tmp-";

mode_t mode_for(const std::filesystem::path& path, std::optional<mode_t> mode) {
  if (mode) return *mode;
  struct stat existing {};
  if (::stat(path.c_str(), &existing) == 0) return existing.st_mode & 07777;
  return 0644;
}

Error write_error(const std::filesystem::path& path, std::string_view what, int error_number,
                  std::string_view fix) {
  return failure(path.string() + ": cannot " + std::string(what) + " (" + errno_text(error_number) +
                 "); " + std::string(fix));
}

constexpr std::string_view k_check_directory = "check that the directory exists and is writable";
constexpr std::string_view k_check_disk = "check free space and the disk";

}  // namespace

Result<AtomicFileWriter> AtomicFileWriter::open(const std::filesystem::path& destination,
                                                std::optional<mode_t> mode) {
  std::filesystem::path directory = destination.parent_path();
  if (directory.empty()) directory = ".";
  // mkostemp gives a name no other writer uses; the leading dot hides it.
  std::string temp =
      (directory / ("." + destination.filename().string() + std::string(k_temp_marker) + "XXXXXX"))
          .string();
  FileDescriptor fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (!fd.is_open()) {
    return write_error(destination, "create a temp file beside it", errno, k_check_directory);
  }
  if (::fchmod(fd.get(), mode_for(destination, mode)) != 0) {
    int saved = errno;
    ::unlink(temp.c_str());
    return write_error(destination, "set the mode of its temp file", saved, k_check_directory);
  }
  return AtomicFileWriter(destination, temp, std::move(fd));
}

AtomicFileWriter::AtomicFileWriter(std::filesystem::path destination, std::filesystem::path temp,
                                   FileDescriptor fd)
    : m_destination(std::move(destination)),
      m_temp(std::move(temp)),
      m_fd(std::move(fd)),
      m_hash(std::make_unique<Sha256>()) {}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept
    : m_destination(std::move(other.m_destination)),
      m_temp(std::exchange(other.m_temp, {})),
      m_fd(std::move(other.m_fd)),
      m_size(other.m_size),
      m_hash(std::move(other.m_hash)) {}

AtomicFileWriter::~AtomicFileWriter() {
  discard();
}

void AtomicFileWriter::discard() {
  if (m_temp.empty()) return;
  m_fd.close();
  ::unlink(m_temp.c_str());
  m_temp.clear();
}

Error AtomicFileWriter::fail(std::string_view what, int error_number) {
  discard();
  return write_error(
      m_destination, what, error_number,
      error_number == ENOSPC || error_number == EIO ? k_check_disk : k_check_directory);
}

Result<void> AtomicFileWriter::write(std::string_view chunk) {
  m_hash->update(chunk);
  m_size += chunk.size();
  while (!chunk.empty()) {
    ssize_t written = ::write(m_fd.get(), chunk.data(), chunk.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return fail("write its temp file", errno);
    }
    chunk.remove_prefix(static_cast<std::size_t>(written));
  }
  return {};
}

Result<std::string> AtomicFileWriter::commit(std::string_view expected_sha256,
                                             std::string_view subject) {
  std::string sha256 = m_hash->finish_hex();
  if (!expected_sha256.empty() && sha256 != expected_sha256) {
    discard();
    return failure(std::string(subject) + ": sha256 " + sha256 + " does not match the expected " +
                   std::string(expected_sha256) +
                   "; the artifact changed after it was described, or the expected sha256 is "
                   "wrong");
  }
  if (::fsync(m_fd.get()) != 0) return fail("fsync its temp file", errno);
  if (!m_fd.close()) return fail("close its temp file", errno);
  if (::rename(m_temp.c_str(), m_destination.c_str()) != 0) {
    return fail("rename its temp file over it", errno);
  }
  m_temp.clear();  // renamed: nothing left to discard

  std::filesystem::path directory = m_destination.parent_path();
  if (directory.empty()) directory = ".";
  FileDescriptor directory_fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!directory_fd.is_open() || ::fsync(directory_fd.get()) != 0) {
    return write_error(m_destination, "fsync its directory", errno, k_check_disk);
  }
  return sha256;
}

Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view content,
                                   std::optional<mode_t> mode) {
  auto writer = AtomicFileWriter::open(path, mode);
  if (!writer) return writer.error();
  if (auto written = writer->write(content); !written) return written;
  if (auto committed = writer->commit(); !committed) return committed.error();
  return {};
}

Result<std::string> copy_file_atomically(const std::filesystem::path& source,
                                         const std::filesystem::path& destination,
                                         std::string_view expected_sha256,
                                         const ProgressFunction& progress) {
  auto in = open_for_reading(source);
  if (!in) return in.error();
  struct stat info {};
  if (::fstat(in->get(), &info) != 0 || !S_ISREG(info.st_mode)) {
    return usage_error(source.string() + ": not a regular file; give the artifact's path");
  }
  auto total = static_cast<std::uint64_t>(info.st_size);

  auto writer = AtomicFileWriter::open(destination);
  if (!writer) return writer.error();
  auto copied = read_chunks(*in, source, [&](std::string_view chunk) -> Result<void> {
    if (auto written = writer->write(chunk); !written) return written;
    if (progress) progress(writer->size(), total);
    return {};
  });
  if (!copied) return copied.error();
  return writer->commit(expected_sha256, source.string());
}

void remove_stale_temp_files(const std::filesystem::path& directory) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    std::string name = entry.path().filename().string();
    if (name.size() > 1 && name.front() == '.' && name.find(k_temp_marker) != std::string::npos) {
      std::filesystem::remove(entry.path(), error);
    }
  }
}

}  // namespace switchyard
