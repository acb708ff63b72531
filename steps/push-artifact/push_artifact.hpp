// switchyard-push-artifact: stores a built artifact and its manifest in the
// artifact store (file:// by default, or s3://), so hosts can fetch it.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "runner/cli/step.hpp"
#include "runner/util/result.hpp"

namespace switchyard::steps::push_artifact {

// The step's flags that are not configuration keys; --store, --app,
// --endpoint, --region and --profile set app and artifact.* through the
// configuration's flag layer.
struct Flags {
  std::string file;     // the artifact (FILE)
  std::string release;  // --release LABEL (without a manifest; with one it must agree)
  std::string presign;  // --presign DUR: also print a presigned GET URL
  bool force = false;   // --force: replace different bytes under a release
};

// Adds push-artifact's flags and the FILE argument to `app`.
void add_flags(CLI::App& app, CommonOptions& common, Flags& flags);

// The step: resolves app, release and store, pushes, and fills
// `context.result` (artifact_uri, manifest_uri, sha256, size, version, ...).
Result<void> push(StepContext& context, const Flags& flags);

// The executable: `return switchyard::steps::push_artifact::run(argc, argv);`.
int run(int argc, char** argv);

}  // namespace switchyard::steps::push_artifact
