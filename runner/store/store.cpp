#include "runner/store/store.hpp"

#include <unistd.h>

#include <cstdlib>

#include "runner/core/ci.hpp"
#include "runner/core/log.hpp"
#include "runner/store/file_store.hpp"
#include "runner/store/http_store.hpp"
#include "runner/store/s3_store.hpp"
#include "runner/util/sha256.hpp"

namespace switchyard {
namespace {

// Where a push puts `manifest`'s artifact: <root>/<app>/<version>/<file>.
// The root must be a store one can push to.
Result<Location> push_destination(const StoreOptions& options, const Manifest& manifest) {
  auto root = parse_location(options.uri);
  if (!root) return root.error();
  if (root->kind != LocationKind::File && root->kind != LocationKind::S3) {
    return usage_error(options.uri +
                       ": not a store to push to; use file:///dir or "
                       "s3://bucket/prefix");
  }
  return root->below(manifest.app + "/" + manifest.version + "/" + manifest.file);
}

Error different_artifact_stored(const Location& artifact, std::string_view version) {
  return usage_error(artifact.uri + ": a different artifact is already stored under version " +
                     std::string(version) + "; build a new version or pass --force");
}

// What an earlier push left under the artifact's key. A manifest written
// last means that push completed; one that does not parse (a usage error
// that names the manifest itself, unlike a missing bucket or a denied read)
// counts as different bytes, so --force can replace it.
Result<std::optional<Manifest>> stored_manifest(ArtifactStore& store, const Location& artifact) {
  auto stored = store.manifest(artifact);
  if (!stored && stored.error().code == ExitCode::Usage &&
      stored.error().message.starts_with(artifact.manifest_beside().subject() + ": ")) {
    return std::optional<Manifest>(Manifest{});
  }
  return stored;
}

}  // namespace

Result<std::unique_ptr<ArtifactStore>> open_store(const Location& location,
                                                  const StoreOptions& options) {
  switch (location.kind) {
    case LocationKind::Path:
    case LocationKind::File:
      return std::unique_ptr<ArtifactStore>(std::make_unique<FileStore>());
    case LocationKind::S3: {
      auto store = S3Store::connect(options);
      if (!store) return store.error();
      return std::unique_ptr<ArtifactStore>(std::move(*store));
    }
    case LocationKind::Http:
      return std::unique_ptr<ArtifactStore>(std::make_unique<HttpStore>(options.ca_file));
  }
  return usage_error(location.uri + ": unknown store; use a path, file://, s3:// or http(s)://");
}

std::string default_store_uri() {
  if (::geteuid() == 0) return "file:///var/lib/switchyard/artifacts";
  std::filesystem::path base;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && xdg[0] == '/') {
    base = xdg;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0') {
    base = std::filesystem::path(home) / ".local/share";
  } else {
    base = "/tmp";
  }
  return path_to_file_uri(base / "switchyard/artifacts");
}

StoreOptions s3_store_options(const Config& config) {
  StoreOptions options;
  options.endpoint = config.find("artifact.endpoint").value_or("");
  options.region = config.find("artifact.region").value_or("");
  options.profile = config.find("artifact.profile").value_or("");
  return options;
}

Result<PushOutcome> planned_push(const PushRequest& request, const StoreOptions& options) {
  auto artifact = push_destination(options, request.manifest);
  if (!artifact) return artifact.error();
  PushOutcome outcome;
  outcome.artifact_uri = artifact->uri;
  outcome.manifest_uri = artifact->manifest_beside().uri;
  outcome.size = request.manifest.size;
  outcome.sha256 = request.manifest.sha256;
  return outcome;
}

Result<PushOutcome> push_artifact(const PushRequest& request, const StoreOptions& options) {
  auto artifact = push_destination(options, request.manifest);
  if (!artifact) return artifact.error();
  if (request.presign.count() > 0 && artifact->kind != LocationKind::S3) {
    return usage_error(options.uri + ": --presign needs an s3:// store");
  }
  auto store = open_store(*artifact, options);
  if (!store) return store.error();

  Manifest manifest = request.manifest;
  PushOutcome outcome;
  outcome.artifact_uri = artifact->uri;
  outcome.manifest_uri = artifact->manifest_beside().uri;
  outcome.size = manifest.size;

  // The same bytes again are a no-op; others are refused unless forced.
  auto existing = stored_manifest(**store, *artifact);
  if (!existing) return existing.error();
  bool upload = true;
  if (*existing) {
    // Comparing needs the hash before the upload.
    if (manifest.sha256.empty()) {
      auto sha256 = sha256_file(request.file);
      if (!sha256) return sha256.error();
      manifest.sha256 = *sha256;
    }
    bool same = (*existing)->sha256 == manifest.sha256 && (*existing)->size == manifest.size;
    if (same) {
      auto holds = (*store)->holds(*artifact, manifest);
      if (!holds) return holds.error();
      same = *holds;
    }
    if (same) {
      outcome.already_present = true;
      upload = false;
    } else if (!request.force) {
      return different_artifact_stored(*artifact, manifest.version);
    } else {
      if (auto withdrawn = (*store)->withdraw_manifest(*artifact); !withdrawn) {
        return withdrawn.error();
      }
      log::warn("{}: replacing the artifact stored under version {} (--force)", artifact->uri,
                manifest.version);
    }
  }

  // The artifact first, verified against the manifest (or hashed for it)
  // while it is read; then the manifest, whose appearance marks the push
  // complete.
  if (upload) {
    std::string label = "store " + manifest.file;
    auto sha256 = (*store)->put(
        request.file, *artifact, manifest.sha256,
        [&](std::uint64_t done, std::uint64_t total) { ci().progress(label, done, total); });
    if (!sha256) return sha256.error();
    manifest.sha256 = *sha256;
    if (auto written = (*store)->put_manifest(*artifact, manifest); !written) {
      return written.error();
    }
  }
  outcome.sha256 = manifest.sha256;

  if (request.presign.count() > 0) {
    auto url = (*store)->presign(*artifact, request.presign);
    if (!url) return url.error();
    outcome.presigned_url = *url;
  }
  return outcome;
}

Result<FetchedArtifact> fetch_artifact(const std::string& uri,
                                       const std::filesystem::path& directory,
                                       const std::string& expected_sha256,
                                       const StoreOptions& options) {
  // Parse
  auto location = parse_location(uri);
  if (!location) return location.error();
  auto name = location->file_name();
  if (!name) return name.error();
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    return unavailable(directory.string() + ": cannot create the directory (" + error.message() +
                       "); check permissions");
  }

  // Pick the store
  auto store = open_store(*location, options);
  if (!store) return store.error();

  // Fetch and verify (against the expected sha256, else the manifest's),
  // then commit the manifest beside the artifact.
  FetchedArtifact fetched;
  auto manifest = (*store)->manifest(*location);
  if (!manifest) return manifest.error();
  fetched.manifest = *manifest;
  std::string wanted = expected_sha256;
  if (wanted.empty() && fetched.manifest) wanted = fetched.manifest->sha256;
  fetched.path = directory / *name;
  auto sha256 = (*store)->fetch(*location, fetched.path, wanted);
  if (!sha256) return sha256.error();
  fetched.sha256 = *sha256;
  if (fetched.manifest) {
    if (auto written = write_manifest(*fetched.manifest, manifest_path_for(fetched.path));
        !written) {
      return written.error();
    }
  }
  return fetched;
}

}  // namespace switchyard
