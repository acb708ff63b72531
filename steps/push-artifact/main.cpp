#include "steps/push-artifact/push_artifact.hpp"

int main(int argc, char** argv) {
  using namespace switchyard;
  CLI::App app{"Store a built artifact and its manifest (file:// or s3://) for hosts to fetch.",
               "switchyard-push-artifact"};
  CommonOptions common;
  PushArtifactOptions options;
  add_common_options(app, common, /*changes_anything=*/true);
  add_push_artifact_options(app, options);
  return run_step("push-artifact", app, common, argc, argv,
                  [&](StepContext& context) { return push_artifact_step(context, options); });
}
