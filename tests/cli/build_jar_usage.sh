#!/usr/bin/env bash
# build-jar's usage and configuration paths: build.command from switchyard.yml,
# an unknown --tool, --tool command without build.command, a project with no
# build, a bad release template (refused before any build runs), the
# template's old names refused, and --version alone printing the program's
# version.
set -euo pipefail

bin_dir=${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}
build_jar="$bin_dir/switchyard-build-jar"

source "${SWITCHYARD_SOURCE_DIR:?}/tests/support/build_jar_testing.sh"
need_tools "scripts/setup installs it" git
make_work_dir
run_build_jar() { without_ci "$build_jar" "$@"; }
# Runs build-jar in directory $1 with the rest as arguments; sets $status and
# $last (the last line of stderr).
expect_failure() {
  local directory=$1
  shift
  set +e
  (cd "$directory" && run_build_jar "$@") >/dev/null 2>"$work/err.txt"
  status=$?
  set -e
  last=$(tail -1 "$work/err.txt")
  # The error line is the last one, after the log's "error: " prefix.
  [[ "$last" == "error: "* ]] || fail "the last line of stderr is not an error: $last"
  last=${last#error: }
}

# --- --version alone is the program's version ------------------------------
[[ "$("$build_jar" --version)" == "switchyard-build-jar $("$bin_dir/switchyard" --version | cut -d' ' -f2)" ]] ||
  fail "--version alone printed: $("$build_jar" --version)"

# --- build.command from switchyard.yml --------------------------------------
# A build that is neither Maven nor Gradle: a script writes the jar with
# Python's zipfile, given as an argument vector.
project="$work/custom"
custom_jar_project "$project" 'print("custom build: writing target/custom-3.0.0.jar")'
(cd "$project" && run_build_jar --json) >"$work/out.json" 2>"$work/err.txt" ||
  { cat "$work/err.txt" >&2; fail "the build.command build failed"; }
grep -qx "custom build: writing target/custom-3.0.0.jar" "$work/err.txt" || fail "the command's output was not streamed"
[[ "$(field "$work/out.json" build_tool)" == command ]] || fail "build_tool is $(field "$work/out.json" build_tool)"
[[ "$(field "$work/out.json" jar)" == "$project/target/custom-3.0.0.jar" ]] || fail "jar is $(field "$work/out.json" jar)"
[[ "$(field "$work/out.json" app)" == custom-service ]] || fail "app is not switchyard.yml's: $(field "$work/out.json" app)"
[[ "$(field "$work/out.json" version)" == "3.0.0-$(git -C "$project" rev-parse --short=7 HEAD)" ]] ||
  fail "version is $(field "$work/out.json" version)"

# --- an unknown --tool --------------------------------------------------------
expect_failure "$project" --tool ant
[[ $status -eq 2 ]] || fail "--tool ant exited $status, not 2"
[[ "$last" == "--tool: build.tool: 'ant' is not one of auto, maven, gradle, command" ]] ||
  fail "--tool ant said: $last"

# --- --tool command without build.command -------------------------------------
empty="$work/empty"
mkdir -p "$empty"
expect_failure "$empty" --tool command
[[ $status -eq 2 ]] || fail "--tool command without build.command exited $status, not 2"
[[ "$last" == "build.command: not set, but --tool command needs it; set build.command in switchyard.yml to the build's argument vector, e.g. [make, dist]" ]] ||
  fail "--tool command without build.command said: $last"

# --- nothing to build ---------------------------------------------------------
expect_failure "$empty"
[[ $status -eq 2 ]] || fail "a project without a build exited $status, not 2"
[[ "$last" == "$empty: no build found (no gradlew, mvnw, build.gradle or pom.xml); set build.command in switchyard.yml or pass --project" ]] ||
  fail "a project without a build said: $last"

expect_failure "$empty" --project "$work/missing"
[[ $status -eq 2 ]] || fail "a missing --project exited $status, not 2"
[[ "$last" == "$work/missing: no such project directory; check --project or build.project_dir" ]] ||
  fail "a missing --project said: $last"

# --- a version template that could repeat, refused before the build runs ----
rm -rf "$project/target"
expect_failure "$project" --release-template '{project_version}-{branch}'
[[ $status -eq 2 ]] || fail "a template without a sha exited $status, not 2"
[[ "$last" == '--release-template: build.release_template: version template "{project_version}-{branch}" has no {sha}, {short_sha} or {time}, so two builds could share a version; add one of them' ]] ||
  fail "a template without a sha said: $last"
[[ ! -e "$project/target" ]] || fail "the build ran although the template was refused"

# --- the template's old names: refused, so no label silently changes --------
# --version TEMPLATE, build.version and SWITCHYARD_BUILD__VERSION were renamed.
expect_failure "$project" --version '{short_sha}'
[[ $status -eq 2 ]] || fail "--version with a template exited $status, not 2"
[[ "$last" == "switchyard-build-jar: --version prints the program's version and takes no other argument; the release label is now --release LABEL (build-jar: --release-template T), see CHANGELOG.md" ]] ||
  fail "--version with a template said: $last"
printf 'build:\n  version: "{short_sha}"\n' >"$project/switchyard.yml"
expect_failure "$project"
[[ $status -eq 2 ]] || fail "build.version in switchyard.yml exited $status, not 2"
[[ "$last" == "switchyard.yml:2: build.version: renamed to build.release_template; rename the key (see CHANGELOG.md)" ]] ||
  fail "build.version in switchyard.yml said: $last"
rm "$project/switchyard.yml"
SWITCHYARD_BUILD__VERSION='{short_sha}' expect_failure "$project"
[[ $status -eq 2 ]] || fail "SWITCHYARD_BUILD__VERSION exited $status, not 2"
[[ "$last" == "SWITCHYARD_BUILD__VERSION: renamed to build.release_template; set SWITCHYARD_BUILD__RELEASE_TEMPLATE instead" ]] ||
  fail "SWITCHYARD_BUILD__VERSION said: $last"
expect_failure "$project" --release-template ''
[[ $status -eq 2 ]] || fail "an empty --release-template exited $status, not 2"
[[ "$last" == "switchyard-build-jar: --release-template: empty value; give it a value or leave the flag out" ]] ||
  fail "an empty --release-template said: $last"
[[ ! -e "$project/target" ]] || fail "the build ran although the command line was refused"

echo "build_jar_usage: configuration and usage errors as expected"
