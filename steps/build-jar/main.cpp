// switchyard-build-jar: build the service and write its artifact manifest.
#include <CLI/CLI.hpp>

#include "runner/cli/step.hpp"
#include "steps/build-jar/options.hpp"

int main(int argc, char** argv) {
  using namespace switchyard;
  CLI::App app{
      "Build the service with its own tool (./gradlew, ./mvnw, gradle, mvn or build.command),\n"
      "find the runnable jar, label it, and write <jar>.manifest.json beside it."};
  CommonOptions common;
  build_jar::Flags flags;
  add_common_options(app, common, true);
  build_jar::add_flags(app, flags);
  return run_step("build-jar", app, common, argc, argv, [&](StepContext& context) -> Result<void> {
    auto config = context.load_config(build_jar::flag_values(flags));
    if (!config) return config.error();
    auto options = build_jar::options_from_config(*config, flags);
    if (!options) return options.error();
    options->dry_run = context.options.dry_run;
    return build_jar::run(*options, context.result);
  });
}
