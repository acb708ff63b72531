// The file store (`file:///dir`): `<dir>/<app>/<version>/` holds the artifact
// and its manifest. Every write goes through a temp file, fsync and rename,
// and the manifest is written last, so a reader that sees the manifest sees
// the whole artifact.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "runner/core/manifest.hpp"
#include "runner/store/store.hpp"
#include "runner/util/result.hpp"
#include "runner/util/sha256.hpp"

namespace switchyard {

// Called while bytes move: `done` of `total`.
using ProgressFunction = std::function<void(std::uint64_t done, std::uint64_t total)>;

// "file:///var/lib/x" -> "/var/lib/x". Fails (exit 2) for another scheme, a
// host part ("file://host/x") or a relative path.
Result<std::filesystem::path> file_uri_to_path(std::string_view uri);
std::string path_to_file_uri(const std::filesystem::path& path);

// Writes a file atomically while its bytes arrive (a download): a temp file
// beside `destination`, hashed as it is written; commit() checks the hash,
// syncs and renames. Destroyed without a commit, it leaves nothing behind.
class AtomicFileWriter {
 public:
  static Result<AtomicFileWriter> open(const std::filesystem::path& destination);
  ~AtomicFileWriter();
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&&) = delete;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  Result<void> write(std::string_view chunk);
  std::uint64_t size() const { return m_size; }
  // Fails (exit 1), leaving nothing behind, when `expected_sha256` is given
  // and the bytes hash differently; `subject` starts that message.
  // Returns the sha256 of what was written.
  Result<std::string> commit(const std::string& expected_sha256, std::string_view subject);

 private:
  AtomicFileWriter(std::filesystem::path destination, std::filesystem::path temp, int fd);
  void discard();
  std::filesystem::path m_destination;
  std::filesystem::path m_temp;
  int m_fd = -1;
  std::uint64_t m_size = 0;
  std::unique_ptr<Sha256> m_hash;
};

// Copies `source` to `destination` atomically: a temp file beside
// `destination` (".<name>.tmp-<random>"), fsync, rename, fsync of the
// directory. Returns the sha256 of the bytes copied. When `expected_sha256`
// is given and the copy hashes differently, nothing is left behind and it
// fails (exit 1) naming both hashes.
Result<std::string> copy_file_atomically(const std::filesystem::path& source,
                                         const std::filesystem::path& destination,
                                         const std::string& expected_sha256,
                                         const ProgressFunction& progress = {});

// Writes `text` to `destination` through an AtomicFileWriter: a temp file
// named as remove_stale_temp_files expects, fsync and rename. (Host state
// uses runner/atomic_file.hpp, which keeps the replaced file's mode.)
Result<void> write_store_file(const std::filesystem::path& destination, std::string_view text);

// The refusal (exit 2) of a push whose version is already stored with other
// bytes; the file and S3 stores say it alike.
Error different_artifact_stored(std::string_view artifact_uri, std::string_view version);

// Stores `file` (described by `manifest`: app, version, file and size are
// set; sha256 too, or it is computed while copying) under
// `root`/<app>/<version>/. The same bytes again are a
// no-op (already_present); different bytes under an existing version are
// refused (exit 2) unless `force`.
Result<PushOutcome> push_to_file_store(const std::filesystem::path& root,
                                       const std::filesystem::path& file, Manifest manifest,
                                       bool force, const ProgressFunction& progress = {});

// Removes temp files a killed push left in `directory` (".*.tmp-*").
void remove_stale_temp_files(const std::filesystem::path& directory);

}  // namespace switchyard
