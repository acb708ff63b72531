#include "runner/core/branch.hpp"

#include <chrono>

#include "runner/util/environment.hpp"
#include "runner/util/process.hpp"
#include "runner/util/strings.hpp"

namespace switchyard {

std::string current_branch(const std::map<std::string, std::string>& environment,
                           const std::filesystem::path& directory) {
  for (const char* name : {"GITHUB_HEAD_REF", "GITHUB_REF_NAME", "BRANCH_NAME", "GIT_BRANCH"}) {
    std::string branch = environment_value(environment, name);
    if (branch.empty()) continue;
    if (branch.starts_with("origin/")) branch = branch.substr(7);
    return branch;
  }
  if (find_program("git").empty()) return "";
  ProcessSpec spec;
  spec.argv = {"git"};
  if (!directory.empty()) spec.argv.insert(spec.argv.end(), {"-C", directory.string()});
  spec.argv.insert(spec.argv.end(), {"rev-parse", "--abbrev-ref", "HEAD"});
  spec.timeout = std::chrono::seconds(30);
  std::string branch;
  auto outcome = run_process(spec, [&](Stream stream, std::string_view line) {
    if (stream == Stream::Stdout && branch.empty()) branch = std::string(trim(line));
  });
  if (!outcome || !outcome->succeeded() || branch == "HEAD") return "";
  return branch;
}

}  // namespace switchyard
