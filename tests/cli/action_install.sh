#!/usr/bin/env bash
# action/install.sh as the action's first step runs it, with the variables a
# GitHub runner sets (GITHUB_ACTION_PATH, GITHUB_OUTPUT, GITHUB_PATH,
# RUNNER_TEMP, INPUT_INSTALL): each install mode, the version check against
# the action's own source, and the build-only package set that a build from
# source installs (scripts/setup --build-only).
#
# GitHub's runners cannot run here, and a real build from source takes
# minutes: the `source` mode is checked through its reuse of a build already
# in $RUNNER_TEMP, not by building.
set -euo pipefail

source_dir="${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}"
bin_dir="${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}"
if [[ ! -x "$bin_dir/switchyard" ]]; then
  echo "skipped: $bin_dir/switchyard is not built; cmake --build build --target switchyard" >&2
  exit 125
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Runs install.sh with INPUT_INSTALL=$1 from the action at $2; PATH is $3.
run_install() {
  local mode=$1 action_path=$2 path=$3
  rm -rf "$work/runner_temp"
  mkdir -p "$work/runner_temp"
  : >"$work/github_output"
  : >"$work/github_path"
  [[ -n "${prebuilt:-}" ]] && mkdir -p "$work/runner_temp/switchyard" &&
    ln -s "$prebuilt" "$work/runner_temp/switchyard/bin"
  set +e
  env -i PATH="$path" HOME="$work" GITHUB_ACTIONS=true GITHUB_ACTION_PATH="$action_path" \
    GITHUB_OUTPUT="$work/github_output" GITHUB_PATH="$work/github_path" \
    RUNNER_TEMP="$work/runner_temp" INPUT_INSTALL="$mode" \
    bash "$action_path/install.sh" >"$work/stdout" 2>"$work/stderr"
  status=$?
  set -e
}
expect_file() {
  local file=$1 expected=$2 what=$3
  [[ "$(cat "$file")" == "$expected" ]] || fail "$what: $(basename "$file") is '$(cat "$file")', expected '$expected'"
}

# --- auto, with switchyard on PATH: use it, publish its directory ------------
run_install auto "$source_dir/action" "$bin_dir:/usr/bin:/bin"
((status == 0)) || fail "auto: exit $status: $(cat "$work/stderr")"
expect_file "$work/github_output" "bin-dir=$bin_dir" "auto"
expect_file "$work/github_path" "$bin_dir" "auto"
if grep -q '^::warning' "$work/stderr"; then fail "auto: a version warning for the same version: $(cat "$work/stderr")"; fi
echo "ok: auto uses switchyard from PATH and hands its directory on"

# --- auto, with a binary of another version than the action's source ---------
mkdir -p "$work/other-action/action"
cp "$source_dir"/action/* "$work/other-action/action/"
sed 's/^project(switchyard VERSION [0-9.]*/project(switchyard VERSION 9.9.9/' \
  "$source_dir/CMakeLists.txt" >"$work/other-action/CMakeLists.txt"
run_install auto "$work/other-action/action" "$bin_dir:/usr/bin:/bin"
((status == 0)) || fail "auto, other version: exit $status"
version=$("$bin_dir/switchyard" --version | awk '{print $2}')
expected="::warning title=switchyard::$bin_dir/switchyard is version $version but this action is 9.9.9; install the matching .deb, or set install to 'source'"
grep -qxF "$expected" "$work/stderr" || fail "auto, other version: no warning '$expected' in: $(cat "$work/stderr")"
echo "ok: auto warns when the binary's version is not the action's"

# --- none: PATH only, nothing published ---------------------------------------
run_install none "$source_dir/action" "/usr/bin:/bin"
((status == 0)) || fail "none: exit $status"
expect_file "$work/github_output" "bin-dir=" "none"
expect_file "$work/github_path" "" "none"
echo "ok: none installs nothing"

# --- an unknown mode: exit 2 naming the input ----------------------------------
run_install nightly "$source_dir/action" "/usr/bin:/bin"
((status == 2)) || fail "unknown mode: exit $status, expected 2"
grep -qxF "::error title=switchyard::install: 'nightly' is not auto, source or none; fix the action's install input" "$work/stderr" ||
  fail "unknown mode: message is: $(cat "$work/stderr")"
echo "ok: an unknown install mode exits 2 with what to fix"

# --- source, built earlier in the job: reused, not rebuilt ---------------------
prebuilt="$bin_dir" run_install source "$source_dir/action" "/usr/bin:/bin"
((status == 0)) || fail "source, reuse: exit $status: $(cat "$work/stderr")"
expect_file "$work/github_output" "bin-dir=$work/runner_temp/switchyard/bin" "source, reuse"
grep -qF "built earlier in this job" "$work/stderr" || fail "source, reuse: did not say it reused the build"
if grep -q '^::group::Build' "$work/stderr"; then fail "source, reuse: started a build"; fi
echo "ok: source reuses a build made earlier in the job"

# --- scripts/setup --build-only: the compiler and -dev libraries, no test peers -
build_set=$(bash "$source_dir/scripts/setup" --build-only --list)
full_set=$(bash "$source_dir/scripts/setup" --list)
for package in g++ cmake libboost1.81-dev libboost-json1.81-dev libcurl4-openssl-dev libssl-dev libyaml-cpp-dev libcli11-dev; do
  grep -qxF "$package" <<<"$build_set" || fail "setup --build-only does not install $package"
done
for package in groovy shellcheck maven nginx-light libgtest-dev wrk; do
  if grep -qxF "$package" <<<"$build_set"; then fail "setup --build-only installs the test peer $package"; fi
  grep -qxF "$package" <<<"$full_set" || fail "setup (full) does not install $package"
done
while read -r package; do
  grep -qxF "$package" <<<"$full_set" || fail "setup (full) lacks the build package $package"
done <<<"$build_set"
set +e
bash "$source_dir/scripts/setup" --build-everything >/dev/null 2>"$work/stderr"
status=$?
set -e
((status == 2)) || fail "setup with an unknown option: exit $status, expected 2"
expect_file "$work/stderr" "setup: '--build-everything' is not an option; use --build-only, --dry-run or --list" "setup"
echo "ok: setup --build-only lists the build packages only; the full set contains them"
