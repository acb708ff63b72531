// The one interface every store implements (file://, s3://, http(s)://), and
// what push-artifact, a host's fetch, the CodeDeploy bundle upload and the
// ssh transfer call. A store moves whole files to and from a Location; it
// never leaves half a file where a reader could see it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "runner/core/manifest.hpp"
#include "runner/store/location.hpp"
#include "runner/util/atomic_file.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

// How to reach a store, beside its URI.
struct StoreOptions {
  std::string uri;       // "file:///var/lib/switchyard/artifacts", "s3://bucket/prefix"
  std::string endpoint;  // S3-compatible endpoint (path-style addressing)
  std::string region;
  std::string profile;
  std::string ca_file;
};

class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;

  // Stores the local `file`, any file, at `to`, whole or not at all. Its
  // bytes are checked against `expected_sha256` while they are read, when
  // given (exit 1, nothing stored, when they differ). Returns their sha256.
  virtual Result<std::string> put(const std::filesystem::path& file, const Location& to,
                                  std::string_view expected_sha256,
                                  const ProgressFunction& progress) = 0;

  // Fetches `from` into the local file `destination` atomically, verifying
  // the bytes against `expected_sha256` when given (exit 1, nothing left
  // behind, when they differ) before committing them. Returns their sha256.
  virtual Result<std::string> fetch(const Location& from, const std::filesystem::path& destination,
                                    std::string_view expected_sha256) = 0;

  // The manifest stored beside `artifact`; nullopt when there is none.
  virtual Result<std::optional<Manifest>> manifest(const Location& artifact) = 0;

  // Stores `manifest` beside `artifact`. A push writes it last, so a reader
  // that finds a manifest finds the whole artifact.
  virtual Result<void> put_manifest(const Location& artifact, const Manifest& manifest) = 0;

  // True when `artifact` holds the bytes `manifest` describes (a repeated
  // push is then a no-op).
  virtual Result<bool> holds(const Location& artifact, const Manifest& manifest) = 0;

  // Before `artifact` is replaced (--force): takes its manifest away where
  // the replacement is not one atomic step, so no reader pairs the old
  // manifest with the new bytes.
  virtual Result<void> withdraw_manifest(const Location& /*artifact*/) { return {}; }

  // A URL anyone may GET `artifact` from for `lifetime`; only s3:// signs one.
  virtual Result<std::string> presign(const Location& artifact, Duration /*lifetime*/) {
    return usage_error(artifact.uri + ": only an s3:// store signs URLs");
  }
};

}  // namespace switchyard
