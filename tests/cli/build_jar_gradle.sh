#!/usr/bin/env bash
# build-jar with a Gradle project: detection of ./gradlew, the task it runs,
# jar selection in build/libs (the -plain jar skipped, two candidates refused,
# --jar picking one), a failed build, version placeholders, and a project
# outside git.
#
# Real Gradle cannot run here: Debian 12's Gradle (4.4) is too old for Java 17.
# tests/fixtures/gradle-project/gradlew is a stand-in wrapper that records its
# arguments and writes real jars with the JDK's jar tool, named and laid out
# in build/libs/ the way Gradle 8 with the Spring Boot plugin does.
set -euo pipefail

bin_dir=${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}
source_dir=${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}
build_jar="$bin_dir/switchyard-build-jar"

source "${SWITCHYARD_SOURCE_DIR:?}/tests/support/build_jar_testing.sh"
need_tools "scripts/setup installs it" git jar
make_work_dir
# CI variables would name the branch and build number; these tests set their own.
run_build_jar() { without_ci "$@"; }

new_project() {
  local project="$work/$1"
  cp -r "$source_dir/tests/fixtures/gradle-project" "$project"
  rm -rf "$project/build"
  # Without the .gitignore, build/ is an untracked directory: it still must
  # not count as an uncommitted change.
  rm -f "$project/.gitignore"
  git -C "$project" init -q -b feature/login
  git -C "$project" add -A
  git -C "$project" -c user.name=test -c user.email=test@invalid commit -qm "fixture"
  echo "$project"
}

# --- detection, task, selection, manifest --------------------------------
project=$(new_project app)
set +e
run_build_jar "$build_jar" --project "$project" --json >"$work/out.json" 2>"$work/err.txt"
status=$?
set -e
[[ $status -eq 0 ]] || { cat "$work/err.txt" >&2; fail "build exited $status, not 0"; }

[[ "$(cat "$project/build/gradlew-args")" == "--no-daemon --console=plain bootJar" ]] ||
  fail "gradlew ran with '$(cat "$project/build/gradlew-args")', not '--no-daemon --console=plain bootJar'"
grep -qx 'build-jar: gradle build (found ./gradlew): '"$project"'/gradlew --no-daemon --console=plain bootJar' "$work/err.txt" ||
  fail "the log does not say which build ran: $(head -3 "$work/err.txt")"

jar=$(field "$work/out.json" jar)
[[ "$jar" == "$project/build/libs/app-1.2.0.jar" ]] || fail "picked $jar, not build/libs/app-1.2.0.jar"
short=$(git -C "$project" rev-parse --short=7 HEAD)
[[ "$(field "$work/out.json" version)" == "1.2.0-$short" ]] ||
  fail "version $(field "$work/out.json" version), not 1.2.0-$short"
manifest="$jar.manifest.json"
[[ "$(field "$work/out.json" manifest)" == "$manifest" && -f "$manifest" ]] || fail "no manifest at $manifest"
[[ "$(field "$manifest" app)" == app ]] || fail "app $(field "$manifest" app), not rootProject.name 'app'"
[[ "$(field "$manifest" app_version)" == 1.2.0 ]] || fail "app_version is not the jar's Implementation-Version"
[[ "$(field "$manifest" build_tool)" == gradle ]] || fail "build_tool $(field "$manifest" build_tool), not gradle"
[[ "$(field "$manifest" branch)" == feature/login ]] || fail "branch $(field "$manifest" branch)"
[[ "$(field "$manifest" sha256)" == "$(sha256sum "$jar" | cut -d' ' -f1)" ]] || fail "sha256 does not match the jar"
# The fixture's jars are made by the JDK's jar tool, which writes Created-By: <java version>.
[[ "$(field "$manifest" java_version)" =~ ^[0-9]+(\.[0-9]+)*$ ]] ||
  fail "java_version '$(field "$manifest" java_version)' is not a Java version"

# A second build of the same commit, with build/ left over and untracked:
# not dirty, the same version.
run_build_jar "$build_jar" --project "$project" --json >"$work/again.json" 2>"$work/err.txt" ||
  { cat "$work/err.txt" >&2; fail "the second build failed"; }
[[ "$(field "$work/again.json" version)" == "1.2.0-$short" ]] ||
  fail "build outputs made the tree dirty: $(field "$work/again.json" version)"

# --- placeholders ----------------------------------------------------------
run_build_jar env BUILD_NUMBER=17 "$build_jar" --project "$project" --json \
  --release-template '{branch}.{build}.{short_sha}' >"$work/out.json" 2>"$work/err.txt" ||
  { cat "$work/err.txt" >&2; fail "the build with a version template failed"; }
[[ "$(field "$work/out.json" version)" == "feature-login.17.$short" ]] ||
  fail "version $(field "$work/out.json" version), not feature-login.17.$short"

# --- two runnable jars -----------------------------------------------------
set +e
run_build_jar env GRADLEW_FIXTURE_EXTRA_JAR=app-1.2.0-all.jar "$build_jar" --project "$project" \
  >/dev/null 2>"$work/err.txt"
status=$?
set -e
[[ $status -eq 2 ]] || fail "two candidates exited $status, not 2"
expected="build-jar: 2 runnable jars in build/libs (app-1.2.0-all.jar, app-1.2.0.jar); pick one with --jar GLOB"
[[ "$(tail -1 "$work/err.txt")" == "error: $expected" ]] || fail "two candidates said: $(tail -1 "$work/err.txt")"

run_build_jar env GRADLEW_FIXTURE_EXTRA_JAR=app-1.2.0-all.jar "$build_jar" --project "$project" \
  --jar '*-all.jar' --json >"$work/out.json" 2>"$work/err.txt" ||
  { cat "$work/err.txt" >&2; fail "--jar '*-all.jar' failed"; }
[[ "$(field "$work/out.json" jar)" == "$project/build/libs/app-1.2.0-all.jar" ]] ||
  fail "--jar picked $(field "$work/out.json" jar)"

# --- a failed build --------------------------------------------------------
set +e
run_build_jar env GRADLEW_FIXTURE_FAIL=1 "$build_jar" --project "$project" >/dev/null 2>"$work/err.txt"
status=$?
set -e
[[ $status -eq 1 ]] || fail "a failed build exited $status, not 1"
headline="error: build-jar: $project/gradlew --no-daemon --console=plain bootJar exited with status 1 in $project; fix the build (its last lines follow)"
grep -qxF "$headline" "$work/err.txt" || fail "no error headline; stderr was: $(cat "$work/err.txt")"
# The build's last lines are repeated under the error line.
after=$(sed -n "\\|^$(printf '%s' "$headline" | sed 's/[][\.*^$|]/\\&/g')\$|,\$p" "$work/err.txt")
grep -qxF "  | /fixture/src/main/java/App.java:3: error: ';' expected" <<<"$after" ||
  fail "the compiler's line is not repeated under the error: $after"

# --- outside git -----------------------------------------------------------
rm -rf "$project/.git"
run_build_jar "$build_jar" --project "$project" --json >"$work/out.json" 2>"$work/err.txt" ||
  { cat "$work/err.txt" >&2; fail "the build outside git failed"; }
[[ "$(field "$work/out.json" version)" =~ ^1\.2\.0-[0-9]{8}T[0-9]{6}Z$ ]] ||
  fail "outside git the version is $(field "$work/out.json" version), not 1.2.0-<UTC time>"
[[ "$(field "$work/out.json" git_sha)" == "" ]] || fail "outside git git_sha is not empty"

echo "build_jar_gradle: detection, selection, versions and failures as expected"
