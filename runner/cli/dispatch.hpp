// The `switchyard` command: a git-style dispatcher (`switchyard verify-health
// ...` runs `switchyard-verify-health ...`) and the home of the runner's own
// subcommands.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace switchyard {

int switchyard_main(int argc, char** argv);

}  // namespace switchyard
