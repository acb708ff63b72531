// build-jar: build the service with the project's own tool, find the runnable
// jar, give it a release label, and write the artifact manifest beside it
// (issue 3; DESIGN.md, "The artifact manifest").
//
// The pieces are separate functions so the tests can drive each one with
// plain values: detection reads only the project directory, jar selection
// only a listing, the version only the facts gathered before.
#pragma once

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/core/manifest.hpp"
#include "runner/util/result.hpp"

namespace switchyard::steps::build_jar {

enum class Tool { Auto, Gradle, Maven, Command };

// "auto", "gradle", "maven", "command"; anything else fails (exit 2) naming `origin`.
Result<Tool> parse_tool(std::string_view text, std::string_view origin);
std::string_view tool_name(Tool tool);

// What to run and where its jars land.
struct BuildPlan {
  Tool tool = Tool::Auto;             // Gradle, Maven or Command once planned
  std::vector<std::string> argv;      // the build, an argument vector
  std::vector<std::string> jar_dirs;  // where to look, relative to the project
  std::string reason;                 // "found ./gradlew", for the log
};

struct PlanInput {
  std::filesystem::path project_dir;
  Tool tool = Tool::Auto;
  std::vector<std::string> command;     // build.command (an argument vector)
  std::vector<std::string> extra_args;  // build.args, appended to a detected build
  // Whether `program` is on PATH (find_program in the step; a set in tests).
  std::function<bool(std::string_view program)> on_path;
};

// Picks the build: build.command when configured (or --tool command),
// else ./gradlew, ./mvnw, gradle (build.gradle[.kts] or settings.gradle[.kts]
// with gradle on PATH), mvn (pom.xml). Maven runs `package -DskipTests` in
// batch mode; Gradle `bootJar` when the Spring Boot plugin is applied, else
// `assemble`. There is no `clean`: Debian's offline clean plugin cannot
// resolve, and select_jar sets stale jars aside instead.
Result<BuildPlan> plan_build(const PlanInput& input);

// False for jars that are not the service: -plain, -sources, -javadoc,
// -test/-tests, original-*.jar (maven-shade's backup).
bool is_runnable_jar_name(std::string_view file_name);

// The jars (regular *.jar files) in `project_dir`/`dir` for each of `dirs`,
// as paths relative to `project_dir`, sorted.
std::vector<std::string> list_jars(const std::filesystem::path& project_dir,
                                   const std::vector<std::string>& dirs);

// The modification time of each jar list_jars finds.
std::map<std::string, std::filesystem::file_time_type> jar_times(
    const std::filesystem::path& project_dir, const std::vector<std::string>& dirs);
// The jars in `after` that the build did not write (same time in `before`).
std::vector<std::string> unchanged_jars(
    const std::map<std::string, std::filesystem::file_time_type>& before,
    const std::map<std::string, std::filesystem::file_time_type>& after);

// Picks the runnable jar among `jars` (relative paths). `glob` (--jar) matches
// the file name, or the relative path when it holds a '/'. Jars in
// `unchanged` (left by an earlier build) give way when the build wrote
// another. More than one candidate fails with exit 2 listing them; none fails
// with exit 1.
Result<std::string> select_jar(const std::vector<std::string>& jars,
                               const std::vector<std::string>& dirs, std::string_view glob,
                               const std::vector<std::string>& unchanged = {});

// Reads one member of a zip file (stored or deflated): enough of zip to read
// a jar's META-INF/MANIFEST.MF without a JDK. Fails (exit 1) naming the file.
Result<std::string> read_zip_entry(const std::filesystem::path& zip, std::string_view name);

// The main section of a MANIFEST.MF: "Name: value" lines, continuation
// lines starting with one space joined on.
std::map<std::string, std::string> parse_jar_manifest(std::string_view text);

// `text` without terminal escape sequences (Debian's Maven prints colour
// resets even in batch mode): logs and CI annotations stay plain text.
std::string strip_terminal_escapes(std::string_view text);

// The last `count` lines of `text`, without escapes or trailing blank lines,
// each on a new line indented with "  | " so they read as quoted output.
std::string last_lines(std::string_view text, std::size_t count);

// What the build file says about the project, used when the jar does not.
struct ProjectInfo {
  std::string name;     // Maven artifactId, Gradle rootProject.name
  std::string version;  // Maven project (or parent) version, Gradle version
};
ProjectInfo parse_pom(std::string_view pom_xml);
ProjectInfo parse_gradle(std::string_view settings_gradle, std::string_view build_gradle,
                         std::string_view gradle_properties);
ProjectInfo read_project_info(const std::filesystem::path& project_dir);

// "hello-service-1.0.0.jar" -> "hello-service": the app name of last resort.
std::string app_name_from_jar(std::string_view file_name);

// The facts a version template is filled from.
struct VersionFacts {
  std::string project_version;
  bool in_git = false;
  std::string sha;     // full commit sha ("" outside git)
  std::string branch;  // "" when unknown
  bool dirty = false;  // uncommitted changes besides the build outputs
  std::string build_number;
  std::chrono::system_clock::time_point now;
};

inline constexpr std::string_view k_default_release_template = "{project_version}-{short_sha}";

// Fills `template_text` ({project_version}, {sha}, {short_sha}, {branch},
// {build}, {time}), appends "-dirty" for a dirty work tree, and keeps only
// [A-Za-z0-9._-] ('/' and spaces become '-'). A template without {sha},
// {short_sha} or {time} is refused (exit 2): two commits would share a label.
Result<std::string> expand_version(std::string_view template_text, const VersionFacts& facts,
                                   std::string_view origin);

// Keeps [A-Za-z0-9._-], turning '/' and whitespace into '-'.
std::string sanitize_label(std::string_view text);

// The Java version a jar was built with, from its manifest (Build-Jdk,
// Build-Jdk-Spec, Created-By "17.0.9 (Debian)"); "" when it does not say.
std::string java_version_from_manifest(const std::map<std::string, std::string>& attributes);
// "17.0.9" from `java -version` output (`openjdk version "17.0.9" 2023-10-17`).
std::string parse_java_version_output(std::string_view output);

// The git state of the work tree holding `project_dir`; sha "" outside git.
// The build outputs (target/, build/, .gradle/) do not make it dirty.
struct GitState {
  bool in_git = false;
  std::string sha;
  std::string branch;
  bool dirty = false;
};
GitState read_git_state(const std::filesystem::path& project_dir,
                        const std::map<std::string, std::string>& environment);

// Everything the step needs, after flags and switchyard.yml are merged.
struct Options {
  std::filesystem::path project_dir = ".";
  Tool tool = Tool::Auto;
  std::vector<std::string> command;
  std::vector<std::string> extra_args;
  std::string jar_glob;
  std::string release_template = std::string(k_default_release_template);
  std::string release_template_origin = "--release-template";  // for messages about the template
  std::string app;
  bool dry_run = false;
};

// The whole step: plan, build, pick the jar, label it, write the manifest.
// Fills `result` with jar, manifest, version, sha256, app, size, build_tool.
Result<void> build(const Options& options, boost::json::object& result);

}  // namespace switchyard::steps::build_jar
