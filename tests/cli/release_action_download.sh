#!/usr/bin/env bash
# The action's `install: release` against a local HTTP server of this test's
# (standing in for GitHub's release downloads, which SWITCHYARD_DOWNLOAD_URL
# redirects, the way a mirror would): the tarball whose sha256 the action
# carries is unpacked into the tool cache and put on PATH; a second run is a
# tool-cache hit and downloads nothing; a tampered tarball is refused with a
# clear error and nothing installed; a version the action carries no digest
# for is refused before any download; auto picks release when a digest is
# there.
#
# The tarball is a small one made here (a release build takes minutes;
# tests/cli/release_tarball.sh tests the real one): what is under test is
# install.sh's download, verification and cache.
set -euo pipefail

source_dir="${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}"
source "$source_dir/tests/support/cli_testing.sh"
need_tools "run scripts/setup" python3 curl sha256sum tar

make_work_dir

# A release tarball of version $1 into the served directory, whose switchyard
# prints $2 for --version.
make_tarball() {
  local version=$1 says=$2 top="$work/build/switchyard-$1-linux-x86_64"
  rm -rf "$work/build"
  mkdir -p "$top/bin"
  printf '#!/bin/sh\necho "%s"\n' "$says" >"$top/bin/switchyard"
  chmod 0755 "$top/bin/switchyard"
  tar -C "$work/build" -czf "$work/served/switchyard-$version-linux-x86_64.tar.gz" "$(basename "$top")"
}

# --- the server: python's http.server on a free loopback port, logging requests
mkdir -p "$work/served"
make_tarball 1.2.3 "switchyard 1.2.3"
good_digest=$(sha256sum "$work/served/switchyard-1.2.3-linux-x86_64.tar.gz" | cut -d' ' -f1)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/served" >/dev/null 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 50); do
  curl -fs -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.1
done
curl -fs -o /dev/null "http://127.0.0.1:$port/" || fail "the test's HTTP server did not start: $(cat "$work/server.log")"
: >"$work/server.log"
downloads() { grep -c 'GET /switchyard-' "$work/server.log" || true; }

# --- an action that carries the digest of 1.2.3 --------------------------------
action="$work/checkout/action"
mkdir -p "$action"
cp "$source_dir"/action/* "$action/"
cp "$source_dir/CMakeLists.txt" "$work/checkout/"
echo 1.2.3 >"$action/VERSION"
{
  cat "$source_dir/action/digests"
  echo "$good_digest  switchyard-1.2.3-linux-x86_64.tar.gz"
} >"$action/digests"

# Runs install.sh with INPUT_INSTALL=$1 (and INPUT_VERSION=$2).
run_install() {
  : >"$work/github_output"
  : >"$work/github_path"
  set +e
  env -i PATH=/usr/bin:/bin HOME="$work" GITHUB_ACTIONS=true GITHUB_ACTION_PATH="$action" \
    GITHUB_OUTPUT="$work/github_output" GITHUB_PATH="$work/github_path" \
    RUNNER_TEMP="$work/runner_temp" RUNNER_TOOL_CACHE="$work/toolcache" \
    INPUT_INSTALL="$1" INPUT_VERSION="${2:-}" SWITCHYARD_DOWNLOAD_URL="http://127.0.0.1:$port" \
    bash "$action/install.sh" >"$work/stdout" 2>"$work/stderr"
  status=$?
  set -e
}
mkdir -p "$work/runner_temp" "$work/toolcache"
tool_bin="$work/toolcache/switchyard/1.2.3/x64/bin"

# --- release: downloaded, verified, unpacked into the tool cache ---------------
run_install release
((status == 0)) || fail "release: exit $status: $(cat "$work/stderr")"
[[ "$(downloads)" == 1 ]] || fail "release: $(downloads) downloads, expected 1"
[[ "$(cat "$work/github_path")" == "$tool_bin" ]] || fail "release: GITHUB_PATH is '$(cat "$work/github_path")', expected $tool_bin"
grep -qxF "bin-dir=$tool_bin" "$work/github_output" || fail "release: no bin-dir=$tool_bin in: $(cat "$work/github_output")"
[[ "$("$tool_bin/switchyard" --version)" == "switchyard 1.2.3" ]] || fail "release: the unpacked switchyard does not run"
echo "ok: release downloads the tarball, checks its digest and unpacks it into the tool cache"

# --- the same again: a tool-cache hit, no download ------------------------------
run_install release
((status == 0)) || fail "release, cached: exit $status: $(cat "$work/stderr")"
[[ "$(downloads)" == 1 ]] || fail "release, cached: downloaded again ($(downloads) downloads)"
grep -qF "switchyard: using 1.2.3 from the tool cache" "$work/stderr" || fail "release, cached: $(cat "$work/stderr")"
[[ "$(cat "$work/github_path")" == "$tool_bin" ]] || fail "release, cached: GITHUB_PATH is '$(cat "$work/github_path")'"
echo "ok: a second install is a tool-cache hit and downloads nothing"

# --- a tampered tarball under the same name: refused, nothing installed ---------
rm -rf "$work/toolcache"/*
make_tarball 1.2.3 "switchyard 1.2.3, altered"
bad_digest=$(sha256sum "$work/served/switchyard-1.2.3-linux-x86_64.tar.gz" | cut -d' ' -f1)
run_install release
((status == 1)) || fail "tampered: exit $status, expected 1: $(cat "$work/stderr")"
expected="::error title=switchyard::switchyard-1.2.3-linux-x86_64.tar.gz: sha256 $bad_digest is not the $good_digest this action carries; refusing it (the download was altered or the release replaced), nothing installed"
grep -qxF "$expected" "$work/stderr" || fail "tampered: expected '$expected' in: $(cat "$work/stderr")"
[[ ! -e "$work/toolcache/switchyard" ]] || fail "tampered: something was installed: $(find "$work/toolcache")"
[[ ! -s "$work/github_path" ]] || fail "tampered: PATH was changed to $(cat "$work/github_path")"
leftovers=("$work"/runner_temp/switchyard-download.*)
[[ ! -e "${leftovers[0]}" ]] || fail "tampered: the download was left in RUNNER_TEMP: ${leftovers[*]}"
echo "ok: a tarball whose digest the action does not carry is refused, nothing installed"

# --- a version without a digest: refused before downloading ---------------------
before=$(downloads)
make_tarball 2.0.0 "switchyard 2.0.0"
run_install release 2.0.0
((status == 2)) || fail "no digest: exit $status, expected 2: $(cat "$work/stderr")"
expected="::error title=switchyard::switchyard-2.0.0-linux-x86_64.tar.gz: this action carries no sha256 for it (action/digests), so it will not install it; use a version this action was released with (1.2.3) or install: source"
grep -qxF "$expected" "$work/stderr" || fail "no digest: expected '$expected' in: $(cat "$work/stderr")"
[[ "$(downloads)" == "$before" ]] || fail "no digest: it downloaded anyway"
echo "ok: a version without a digest is refused before any download"

# --- a bad version input: exit 2 naming the input -------------------------------
run_install release '1.2;rm -rf /'
((status == 2)) || fail "bad version: exit $status, expected 2"
grep -qxF "::error title=switchyard::version: '1.2;rm -rf /' is not a release version like 1.2.3; fix the action's version input" "$work/stderr" ||
  fail "bad version: $(cat "$work/stderr")"
echo "ok: a version input that is no version exits 2"

# --- the server gone: exit 3 saying what to do -----------------------------------
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""
run_install release
((status == 3)) || fail "no server: exit $status, expected 3: $(cat "$work/stderr")"
grep -qF "::error title=switchyard::http://127.0.0.1:$port/switchyard-1.2.3-linux-x86_64.tar.gz: the download failed (above); check the version and the network, or use install: source" "$work/stderr" ||
  fail "no server: $(cat "$work/stderr")"
echo "ok: a failed download exits 3 and names the URL"

# --- auto with the digest: plans a release ---------------------------------------
: >"$work/github_output"
env -i PATH=/usr/bin:/bin GITHUB_ACTION_PATH="$action" GITHUB_OUTPUT="$work/github_output" \
  RUNNER_TEMP="$work/runner_temp" INPUT_INSTALL=auto SWITCHYARD_INSTALL_PHASE=plan bash "$action/install.sh" 2>"$work/stderr" ||
  fail "auto plan: $(cat "$work/stderr")"
grep -qx "mode=release" "$work/github_output" || fail "auto with a digest planned: $(cat "$work/github_output")"
grep -qx "version=1.2.3" "$work/github_output" || fail "auto with a digest: version: $(cat "$work/github_output")"
echo "ok: auto installs the release when the action carries its digest"

# --- the committed action: VERSION is the source's version ------------------------
committed=$(tr -d '[:space:]' <"$source_dir/action/VERSION")
project=$(sed -n 's/^project(switchyard VERSION \([0-9.]*\).*/\1/p' "$source_dir/CMakeLists.txt")
[[ "$committed" == "$project" ]] || fail "action/VERSION is $committed but CMakeLists.txt is $project; bump both together"
echo "ok: action/VERSION matches the source's version ($project)"
