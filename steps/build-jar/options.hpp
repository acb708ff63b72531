// build-jar's command line: its flags set switchyard.yml keys (build.*) through
// the configuration's flag layer, and the merged configuration becomes the
// Options the step runs with (DESIGN.md, "Configuration").
#pragma once

#include <CLI/CLI.hpp>

#include "runner/cli/step.hpp"
#include "runner/core/config.hpp"
#include "steps/build-jar/build_jar.hpp"

namespace switchyard::steps::build_jar {

// Adds --project, --tool, --jar and --release-template to `app`, each setting
// its build.* key.
void add_flags(CLI::App& app, CommonOptions& common);

// The Options from the configuration (flags already in its flag layer).
Result<Options> options_from_config(const Config& config);

// The executable: `return switchyard::steps::build_jar::run(argc, argv);`.
int run(int argc, char** argv);

}  // namespace switchyard::steps::build_jar
