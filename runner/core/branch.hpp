// Which branch is being built or deployed: the one answer build-jar's
// manifest, the `{branch}` label placeholder and the config's `branches:`
// mapping all use.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace switchyard {

// The branch: CI's own variables first, since CI checks out a detached HEAD
// (GITHUB_HEAD_REF for a pull request, GITHUB_REF_NAME, Jenkins' BRANCH_NAME
// and GIT_BRANCH, without a leading "origin/"); else `git rev-parse
// --abbrev-ref HEAD` in `directory` (the current one when empty); "" when
// there is none (no git, not a repository, a detached HEAD).
std::string current_branch(const std::map<std::string, std::string>& environment,
                           const std::filesystem::path& directory = {});

}  // namespace switchyard
