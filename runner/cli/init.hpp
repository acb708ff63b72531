// `switchyard init`: a starter switchyard.yml, GitHub workflow, Jenkinsfile
// and nginx snippet for the project it runs in, from what it can detect
// (build tool, app name, Java version, the branches in use), asking nothing.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "runner/util/result.hpp"

namespace switchyard {

// What init found out about the project in `directory`.
struct ProjectFacts {
  std::string app;           // pom artifactId, Gradle rootProject.name, else the folder's name
  std::string build_tool;    // "maven", "gradle", or "auto" when neither is there
  std::string java_version;  // "17" from the pom or build.gradle; "17" when not stated
  std::string prod_branch;   // main or master, whichever exists (main when neither)
  std::string dev_branch;    // dev or develop when one exists, else ""
};

// Reads pom.xml, build.gradle(.kts), settings.gradle(.kts) and the git
// branches (local and remote) of `directory`.
ProjectFacts detect_project(const std::filesystem::path& directory);

// One file init writes: its path relative to the project and its text.
struct StarterFile {
  std::filesystem::path path;
  std::string text;
};

// The files for `facts`; `ci` is "github", "jenkins" or "both"; `action` is
// the `uses:` reference of switchyard's reusable workflow's repository and ref
// ("owner/switchyard@v0.1.0").
std::vector<StarterFile> starter_files(const ProjectFacts& facts, const std::string& ci,
                                       const std::string& action);

// Writes `files` under `directory`. An existing file is refused (exit 2,
// naming it) unless `force`; nothing is written when one is refused.
Result<void> write_starter_files(const std::filesystem::path& directory,
                                 const std::vector<StarterFile>& files, bool force);

// `switchyard init ...` (argv[0] is "init").
int init_main(int argc, char** argv);

}  // namespace switchyard
