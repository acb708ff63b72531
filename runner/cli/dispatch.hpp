// The `switchyard` command: a git-style dispatcher (`switchyard verify-health
// ...` runs `switchyard-verify-health ...`) and the home of the runner's own
// subcommands.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace switchyard {

int switchyard_main(int argc, char** argv);

// The executable for `step`: beside the running `switchyard` first, then PATH.
std::filesystem::path step_executable(std::string_view step, const std::filesystem::path& self_dir);

}  // namespace switchyard
