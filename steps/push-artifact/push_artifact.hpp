// switchyard-push-artifact: stores a built artifact and its manifest in the
// artifact store (file:// by default, or s3://), so hosts can fetch it.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "runner/cli/step.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

struct PushArtifactOptions {
  std::string file;      // the artifact (FILE)
  std::string store;     // --store URI (artifact.store)
  std::string app;       // --app (without a manifest; default: the file's base name)
  std::string version;   // --version (without a manifest)
  std::string endpoint;  // --endpoint URL (artifact.endpoint)
  std::string region;    // --region (artifact.region)
  std::string profile;   // --profile (artifact.profile)
  std::string presign;   // --presign DUR: also print a presigned GET URL
  bool force = false;    // --force: replace different bytes under a version
};

// Adds push-artifact's own flags and the FILE argument to `app`.
void add_push_artifact_options(CLI::App& app, PushArtifactOptions& options);

// The step: resolves app, version and store, pushes, and fills
// `context.result` (artifact_uri, manifest_uri, sha256, size, ...).
Result<void> push_artifact_step(StepContext& context, const PushArtifactOptions& options);

}  // namespace switchyard
