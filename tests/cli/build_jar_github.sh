#!/usr/bin/env bash
# build-jar under a simulated GitHub runner (GITHUB_ACTIONS=true, GITHUB_OUTPUT
# a file): a build whose output holds workflow commands (::set-output,
# ::add-mask::, ::error::, ::endgroup::) gets them enclosed between
# `::stop-commands::TOKEN` and `::TOKEN::` inside its group, with a fresh
# token per run; a failing build's resume line comes before the ::error
# annotation; and RUNNER_DEBUG=1 (a debug re-run) lowers the log level unless
# SWITCHYARD_LOG says otherwise. GitHub's runner cannot run here: a small
# reader plays its part with its documented rules ("Workflow commands for
# GitHub Actions", "Stopping and starting workflow commands").
set -euo pipefail

bin_dir=${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}
build_jar="$bin_dir/switchyard-build-jar"
python=/usr/bin/python3
# Plays the runner: the workflow commands it would act on, one per line.
runner_reader="${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}/tests/support/github_runner_reader.py"

source "$SWITCHYARD_SOURCE_DIR/tests/support/build_jar_testing.sh"
need_tools "scripts/setup installs it" git
make_work_dir

# A build that is neither Maven nor Gradle (build.command): it prints what a
# dependency's build script could, writes the jar, and exits 3 when FAIL_BUILD
# is set.
project="$work/custom"
custom_jar_project "$project" 'print("::set-output name=x::y")
print("::add-mask::z")
print("::error::injected")
print("::endgroup::")
if os.environ.get("FAIL_BUILD"):
    sys.exit(3)'
sha=$(git -C "$project" rev-parse HEAD)

# Runs build-jar in the project as a GitHub runner would, with the extra
# variables given as NAME=value arguments; stderr in $work/err.txt, the exit
# code in $status.
run_github() {
  : >"$work/github_output"
  set +e
  (cd "$project" && env -u GITHUB_HEAD_REF -u GITHUB_REF_NAME -u BRANCH_NAME -u GIT_BRANCH \
    -u GITHUB_RUN_NUMBER -u BUILD_NUMBER -u JENKINS_URL -u SWITCHYARD_LOG -u RUNNER_DEBUG \
    -u FAIL_BUILD GITHUB_ACTIONS=true GITHUB_OUTPUT="$work/github_output" "$@" "$build_jar") \
    >/dev/null 2>"$work/err.txt"
  status=$?
  set -e
}

acted_on() { "$python" "$runner_reader" "$work/err.txt" | paste -sd' ' -; }

# Checks that stderr holds, from the group line on, exactly the build's
# output enclosed in stop-commands, then the resume and the end of the
# group; prints the token.
enclosed_token() {
  local group="::group::build: $python make_jar.py"
  mapfile -t lines <"$work/err.txt"
  local i=0
  for i in "${!lines[@]}"; do
    [[ "${lines[$i]}" == "$group" ]] && break
  done
  [[ "${lines[$i]}" == "$group" ]] || fail "no line '$group' in: $(cat "$work/err.txt")"
  local token=${lines[$((i + 1))]#::stop-commands::}
  [[ "${lines[$((i + 1))]}" == "::stop-commands::$token" && "$token" =~ ^[0-9a-f]{32}$ ]] ||
    fail "the build's output does not start with ::stop-commands:: and a 32-digit token: ${lines[$((i + 1))]}"
  local expected=("::set-output name=x::y" "::add-mask::z" "::error::injected" "::endgroup::"
    "::$token::" "::endgroup::")
  local j
  for j in "${!expected[@]}"; do
    [[ "${lines[$((i + 2 + j))]}" == "${expected[$j]}" ]] ||
      fail "line $((i + 3 + j)) of stderr is '${lines[$((i + 2 + j))]}', expected '${expected[$j]}'"
  done
  echo "$token"
}

# --- a build that succeeds ----------------------------------------------------
run_github
[[ $status -eq 0 ]] || fail "the build exited $status: $(cat "$work/err.txt")"
first=$(enclosed_token)
[[ "$(acted_on)" == "group stop-commands resume endgroup" ]] ||
  fail "the runner would act on: $(acted_on)"
grep -q "^version<<" "$work/github_output" || fail "no version output in GITHUB_OUTPUT: $(cat "$work/github_output")"
if grep -q "^x" "$work/github_output"; then fail "GITHUB_OUTPUT has an output x"; fi

# --- a second run stops commands with a token of its own -----------------------
run_github
[[ $status -eq 0 ]] || fail "the second build exited $status: $(cat "$work/err.txt")"
second=$(enclosed_token)
[[ "$first" != "$second" ]] || fail "two runs used the same stop-commands token $first"

# --- a failing build: the resume comes before the ::error annotation -----------
run_github FAIL_BUILD=1
[[ $status -eq 1 ]] || fail "a failing build exited $status, not 1"
enclosed_token >/dev/null
expected_error="::error title=switchyard-build-jar::build-jar: $python make_jar.py exited with status 3 in $project; fix the build (its last lines follow)%0A  | ::set-output name=x::y%0A  | ::add-mask::z%0A  | ::error::injected%0A  | ::endgroup::"
[[ "$(tail -1 "$work/err.txt")" == "$expected_error" ]] ||
  fail "the last line of stderr is not the annotation: $(tail -1 "$work/err.txt")"
[[ "$(acted_on)" == "group stop-commands resume endgroup error title=switchyard-build-jar" ]] ||
  fail "the runner would act on: $(acted_on)"

# --- RUNNER_DEBUG=1: debug lines, unless SWITCHYARD_LOG says otherwise --------
debug_line="debug: build-jar: $project: commit $sha on branch main"
run_github
if grep -qF "$debug_line" "$work/err.txt"; then fail "a debug line without RUNNER_DEBUG"; fi
run_github RUNNER_DEBUG=1
grep -qxF "$debug_line" "$work/err.txt" || fail "RUNNER_DEBUG=1 printed no debug line: $(cat "$work/err.txt")"
run_github RUNNER_DEBUG=1 SWITCHYARD_LOG=info
if grep -qF "debug: " "$work/err.txt"; then fail "SWITCHYARD_LOG=info did not win over RUNNER_DEBUG=1"; fi
run_github SWITCHYARD_LOG=debug
grep -qxF "$debug_line" "$work/err.txt" || fail "SWITCHYARD_LOG=debug printed no debug line"
set +e
(cd "$project" && env -u GITHUB_ACTIONS -u SWITCHYARD_LOG RUNNER_DEBUG=1 "$build_jar") >/dev/null 2>"$work/err.txt"
set -e
if grep -qF "debug: " "$work/err.txt"; then fail "RUNNER_DEBUG=1 outside GitHub Actions printed debug lines"; fi

echo "build_jar_github: the build's output enclosed in stop-commands, RUNNER_DEBUG honoured"
