// Artifact stores: where push-artifact puts a build and where a host fetches
// it from. `file:///dir` (the default) and `s3://bucket/prefix`; a host also
// fetches from a plain path or an http(s) URL (a presigned one). Every
// operation reads the same way: parse the URI into a Location, pick the
// store for it, then put or fetch through the ArtifactStore interface.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "runner/core/config.hpp"
#include "runner/core/manifest.hpp"
#include "runner/store/artifact_store.hpp"
#include "runner/store/location.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

// The store that serves `location`: the file store for a path or file://,
// S3 (connected with `options`: exit 3 without credentials) for s3://, HTTP
// for http(s)://.
Result<std::unique_ptr<ArtifactStore>> open_store(const Location& location,
                                                  const StoreOptions& options);

struct PushOutcome {
  std::string artifact_uri;  // where the artifact now lives
  std::string manifest_uri;  // its manifest beside it
  std::uint64_t size = 0;
  std::string sha256;
  bool already_present = false;  // the same bytes were there: nothing written
  std::string presigned_url;     // with a presign duration
};

// The default store: /var/lib/switchyard/artifacts as root, else
// $XDG_DATA_HOME/switchyard/artifacts.
std::string default_store_uri();

// How an s3:// store is reached: artifact.endpoint, artifact.region and
// artifact.profile from `config` (after its precedence, flags included).
// The store's `uri` and `ca_file` are the caller's to set.
StoreOptions s3_store_options(const Config& config);

// What push_artifact stores: `file`, described by `manifest` (app, version,
// file and size set). With its sha256 set the bytes are checked against it
// while they are read; left empty, it is computed while they are read, so a
// first push reads the file once.
struct PushRequest {
  std::filesystem::path file;
  Manifest manifest;
  bool force = false;   // replace different bytes under an existing version
  Duration presign{0};  // > 0: also return a presigned GET URL (s3:// only)
};

// Stores the artifact and then its manifest (last, so a reader that sees the
// manifest sees the whole artifact) under <store>/<app>/<version>/. The same
// bytes again are a no-op; different bytes under an existing version are
// refused (exit 2) unless `force`.
Result<PushOutcome> push_artifact(const PushRequest& request, const StoreOptions& options);

// Where push_artifact would put the artifact and its manifest, without
// touching the store (for --dry-run).
Result<PushOutcome> planned_push(const PushRequest& request, const StoreOptions& options);

struct FetchedArtifact {
  std::filesystem::path path;        // the artifact on local disk
  std::optional<Manifest> manifest;  // its manifest, when the store has one
  std::string sha256;                // what the fetched bytes hash to
};

// Fetches `uri` (a local path, file://, s3://, or http(s):// such as a
// presigned URL) into `directory`, atomically, and refuses it (exit 1) when
// `expected_sha256` is given and the bytes differ. The manifest beside the
// artifact is fetched too when there is one.
Result<FetchedArtifact> fetch_artifact(const std::string& uri,
                                       const std::filesystem::path& directory,
                                       const std::string& expected_sha256,
                                       const StoreOptions& options = {});

}  // namespace switchyard
