// Replacing a file so that a reader, or a crash at any instant, sees either the
// whole old content or the whole new content, never a mix (DESIGN.md, "Host
// state": state.json, the nginx include, the live-port file; the artifact
// store and manifests too). Every atomic write in switchyard goes through the
// one writer here: a temp file in the same directory, fsync, rename, fsync of
// the directory.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "runner/util/file_descriptor.hpp"
#include "runner/util/result.hpp"
#include "runner/util/sha256.hpp"

namespace switchyard {

// Called while bytes move: `done` of `total`.
using ProgressFunction = std::function<void(std::uint64_t done, std::uint64_t total)>;

// Writes a file atomically while its bytes arrive (a download, a copy): a temp
// file beside `destination` (".<name>.tmp-XXXXXX", which keeps it out of
// globs such as nginx's `include conf.d/*.conf`), hashed as it is written;
// commit() checks the hash, syncs and renames. Destroyed without a commit, it
// leaves nothing behind. Errors (exit 1) name `destination`.
class AtomicFileWriter {
 public:
  // The new file gets `mode` when given, else the mode of the file it
  // replaces, else 0644.
  static Result<AtomicFileWriter> open(const std::filesystem::path& destination,
                                       std::optional<mode_t> mode = std::nullopt);
  ~AtomicFileWriter();
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&&) = delete;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  Result<void> write(std::string_view chunk);
  std::uint64_t size() const { return m_size; }
  // Fails (exit 1), leaving nothing behind, when `expected_sha256` is given
  // and the bytes hash differently; `subject` starts that message. Then
  // fsyncs, renames over the destination and fsyncs the directory, so the
  // rename itself survives a power loss. Returns the sha256 of what was
  // written.
  Result<std::string> commit(std::string_view expected_sha256 = {}, std::string_view subject = {});

 private:
  AtomicFileWriter(std::filesystem::path destination, std::filesystem::path temp,
                   FileDescriptor fd);
  Error fail(std::string_view what, int error_number);
  void discard();
  std::filesystem::path m_destination;
  std::filesystem::path m_temp;
  FileDescriptor m_fd;
  std::uint64_t m_size = 0;
  std::unique_ptr<Sha256> m_hash;
};

// Writes `content` to `path` atomically through an AtomicFileWriter (`mode`
// as there). On failure `path` is left as it was and the error (exit 1)
// names `path`.
Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view content,
                                   std::optional<mode_t> mode = std::nullopt);

// Copies `source` to `destination` atomically through an AtomicFileWriter.
// Returns the sha256 of the bytes copied. When `expected_sha256` is given and
// the copy hashes differently, nothing is left behind and it fails (exit 1)
// naming both hashes.
Result<std::string> copy_file_atomically(const std::filesystem::path& source,
                                         const std::filesystem::path& destination,
                                         std::string_view expected_sha256,
                                         const ProgressFunction& progress = {});

// Removes the temp files that writers killed mid-write left in `directory`.
void remove_stale_temp_files(const std::filesystem::path& directory);

}  // namespace switchyard
