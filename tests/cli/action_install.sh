#!/usr/bin/env bash
# action/install.sh as the action's first step runs it, with the variables a
# GitHub runner sets (GITHUB_ACTION_PATH, GITHUB_OUTPUT, GITHUB_PATH,
# RUNNER_TEMP, INPUT_INSTALL): each install mode but release (which
# tests/cli/release_action_download.sh tests against a local server), the
# source build's cache key, and the build-only package set that a build from
# source installs (scripts/setup --build-only).
#
# GitHub's runners cannot run here, and a real build from source takes
# minutes: the `source` mode is checked through its reuse of a build already
# in $RUNNER_TEMP (as actions/cache restores it), not by building.
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
    RUNNER_TEMP="$work/runner_temp" INPUT_INSTALL="$mode" ${GITHUB_WORKSPACE:+GITHUB_WORKSPACE="$GITHUB_WORKSPACE"} \
    bash "$action_path/install.sh" >"$work/stdout" 2>"$work/stderr"
  status=$?
  set -e
}
expect_file() {
  local file=$1 expected=$2 what=$3
  [[ "$(cat "$file")" == "$expected" ]] || fail "$what: $(basename "$file") is '$(cat "$file")', expected '$expected'"
}

# --- auto, without a digest for the action's version: build the source -----
# (This checkout's action/digests lists no release of its own version until
# the release workflow commits one; a build made earlier stands in for it.)
mkdir -p "$work/other-action/action"
cp "$source_dir"/action/* "$work/other-action/action/"
cp "$source_dir/CMakeLists.txt" "$work/other-action/"
echo 9.9.9 >"$work/other-action/action/VERSION"
prebuilt="$bin_dir" run_install auto "$work/other-action/action" "/usr/bin:/bin"
((status == 0)) || fail "auto, no digest: exit $status: $(cat "$work/stderr")"
grep -qxF "switchyard: this action carries no release digest for 9.9.9; building it from source" "$work/stderr" ||
  fail "auto, no digest: did not say why it builds: $(cat "$work/stderr")"
grep -qx "mode=source" "$work/github_output" || fail "auto, no digest: planned $(cat "$work/github_output")"
expect_file "$work/github_path" "$work/runner_temp/switchyard/bin" "auto, no digest"
echo "ok: auto builds the source when the action carries no digest for its version"

# --- auto, as `uses: ./action`: the workspace's own copy builds its source ---
prebuilt="$bin_dir" GITHUB_WORKSPACE="$source_dir" run_install auto "$source_dir/action" "/usr/bin:/bin"
((status == 0)) || fail "auto, ./action: exit $status: $(cat "$work/stderr")"
grep -qxF "switchyard: the action is this workspace's own copy; building it from source" "$work/stderr" ||
  fail "auto, ./action: did not say why it builds: $(cat "$work/stderr")"
echo "ok: auto inside this repository (uses: ./action) builds the source"

# --- source: the cache key follows the source tree -----------------------------
run_install source "$work/other-action/action" "/usr/bin:/bin"
key_before=$(sed -n 's/^cache-key=//p' "$work/github_output")
[[ "$key_before" == switchyard-source-* ]] || fail "source: cache-key is '$key_before'"
mkdir -p "$work/other-action/runner/util" && echo "// changed" >"$work/other-action/runner/util/new.cpp"
mkdir -p "$work/other-action/cmake" "$work/other-action/steps"
run_install source "$work/other-action/action" "/usr/bin:/bin"
key_after=$(sed -n 's/^cache-key=//p' "$work/github_output")
[[ -n "$key_after" && "$key_after" != "$key_before" ]] || fail "source: a changed source file kept the cache key $key_before"
echo "ok: the source build's cache key changes with the source tree"

# --- none: PATH only, nothing published ---------------------------------------
run_install none "$source_dir/action" "/usr/bin:/bin"
((status == 0)) || fail "none: exit $status"
grep -qx "bin-dir=" "$work/github_output" || fail "none: no empty bin-dir in: $(cat "$work/github_output")"
grep -qx "mode=none" "$work/github_output" || fail "none: planned $(cat "$work/github_output")"
expect_file "$work/github_path" "" "none"
echo "ok: none installs nothing"

# --- an unknown mode: exit 2 naming the input ----------------------------------
run_install nightly "$source_dir/action" "/usr/bin:/bin"
((status == 2)) || fail "unknown mode: exit $status, expected 2"
grep -qxF "::error title=switchyard::install: 'nightly' is not auto, release, source or none; fix the action's install input" "$work/stderr" ||
  fail "unknown mode: message is: $(cat "$work/stderr")"
echo "ok: an unknown install mode exits 2 with what to fix"

# --- source, built earlier in the job: reused, not rebuilt ---------------------
prebuilt="$bin_dir" run_install source "$source_dir/action" "/usr/bin:/bin"
((status == 0)) || fail "source, reuse: exit $status: $(cat "$work/stderr")"
grep -qxF "bin-dir=$work/runner_temp/switchyard/bin" "$work/github_output" ||
  fail "source, reuse: no bin-dir=$work/runner_temp/switchyard/bin in: $(cat "$work/github_output")"
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
expect_file "$work/stderr" "setup: '--build-everything' is not an option; use --build-only, --release, --dry-run or --list" "setup"
echo "ok: setup --build-only lists the build packages only; the full set contains them"
