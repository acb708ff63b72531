// build-jar's flags and switchyard.yml keys (build.*, app), merged into the
// Options the step runs with. Flags win over the file (DESIGN.md, "Configuration").
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <string>

#include "runner/core/config.hpp"
#include "steps/build-jar/build_jar.hpp"

namespace switchyard::build_jar {

struct Flags {
  std::string project;
  std::string tool;
  std::string jar;
  std::string version;
};

// Adds --project, --tool, --jar and --version [TEMPLATE] to `app`, after
// add_common_options (whose --version flag it replaces).
void add_flags(CLI::App& app, Flags& flags);

// The flags given, by the config key they set.
std::map<std::string, std::string> flag_values(const Flags& flags);

Result<Options> options_from_config(const Config& config, const Flags& flags);

}  // namespace switchyard::build_jar
