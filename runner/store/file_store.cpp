#include "runner/store/file_store.hpp"

#include "runner/util/sha256.hpp"

namespace switchyard {
namespace {

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

Result<std::string> FileStore::put(const std::filesystem::path& file, const Location& to,
                                   std::string_view expected_sha256,
                                   const ProgressFunction& progress) {
  auto directory = to.path.parent_path();
  if (auto made = make_directories(directory); !made) return made.error();
  // A push killed mid-copy left its temp file; it is never completed.
  remove_stale_temp_files(directory);
  return copy_file_atomically(file, to.path, expected_sha256, progress);
}

Result<std::string> FileStore::fetch(const Location& from, const std::filesystem::path& destination,
                                     std::string_view expected_sha256) {
  std::error_code error;
  if (!std::filesystem::exists(from.path, error)) {
    return unavailable(from.path.string() +
                       ": no such artifact; check the URI and that it was pushed");
  }
  return copy_file_atomically(from.path, destination, expected_sha256);
}

Result<std::optional<Manifest>> FileStore::manifest(const Location& artifact) {
  auto path = artifact.manifest_beside().path;
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return std::optional<Manifest>();
  auto manifest = read_manifest(path);
  if (!manifest) return manifest.error();
  return std::optional<Manifest>(*manifest);
}

Result<void> FileStore::put_manifest(const Location& artifact, const Manifest& manifest) {
  return write_manifest(manifest, artifact.manifest_beside().path);
}

Result<bool> FileStore::holds(const Location& artifact, const Manifest& manifest) {
  std::error_code error;
  if (!std::filesystem::exists(artifact.path, error)) return false;
  auto stored = sha256_file(artifact.path);
  return stored.ok() && *stored == manifest.sha256;
}

Result<void> FileStore::withdraw_manifest(const Location& artifact) {
  auto path = artifact.manifest_beside().path;
  std::error_code error;
  std::filesystem::remove(path, error);
  if (error) {
    return unavailable(path.string() + ": cannot remove the old manifest (" + error.message() +
                       "); check permissions");
  }
  return {};
}

}  // namespace switchyard
