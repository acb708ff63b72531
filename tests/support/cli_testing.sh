# shellcheck shell=bash disable=SC2034
# (work and server_pid are read by the scripts that source this file.)
# What the tests/cli scripts share, sourced after `set -euo pipefail`:
#
# fail MESSAGE               FAIL: MESSAGE on stderr, exit 1
# need_tools HINT TOOL...    skips (exit 125) unless every TOOL is on PATH;
#                            HINT says how to install them
# need_file FILE HINT        skips (exit 125) unless FILE exists; HINT says how
#                            to make it
# port_from FILE             the port a background server wrote to FILE
# release_dist               $dist (scripts/release's output) and $version
# need_release_file FILE     skips unless scripts/release built FILE
# make_work_dir [TEMPLATE]   $work: a temp directory removed on exit, after
#                            $server_pid (a server the script starts in the
#                            background) is stopped and after `on_exit`, a
#                            command the script may define (stop_s3rver)

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

need_tools() {
  local hint=$1 tool
  shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "skipped: $tool is not installed; $hint" >&2; exit 125; }
  done
}

need_file() {
  [[ -e $1 ]] || { echo "skipped: $1 not found; $2" >&2; exit 125; }
}

cli_testing_cleanup() {
  if declare -F on_exit >/dev/null; then on_exit || true; fi
  if [[ -n ${server_pid:-} ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  [[ -n ${work:-} ]] && rm -rf "$work"
  return 0
}

make_work_dir() {
  work=$(mktemp -d ${1:+"$1"})
  server_pid=""
  trap cli_testing_cleanup EXIT
}

# need_built PROGRAM...: skips unless each is built in $SWITCHYARD_BIN_DIR.
need_built() {
  local program
  for program in "$@"; do
    if [[ ! -x "${SWITCHYARD_BIN_DIR:?}/$program" ]]; then
      echo "skipped: $SWITCHYARD_BIN_DIR/$program is not built; cmake --build build --target $program" >&2
      exit 125
    fi
  done
}

# start_health_recorder: tests/support/recording_health_server.py as
# $server_pid, /health answering UP and any other path DOWN with 503, every
# request's headers appended to $work/requests.jsonl; its URL in $base.
start_health_recorder() {
  /usr/bin/python3 "${SWITCHYARD_SOURCE_DIR:?}/tests/support/recording_health_server.py" \
    "$work/requests.jsonl" "$work/port" &
  server_pid=$!
  base="http://127.0.0.1:$(port_from "$work/port")"
}

# port_from FILE: the port a server started in the background writes to
# FILE, once it has (up to 5 s); fails the test otherwise.
port_from() {
  local _
  for _ in $(seq 100); do
    [[ -s "$1" ]] && break
    sleep 0.05
  done
  [[ -s "$1" ]] || fail "the loopback server did not start (no port in $1)"
  cat "$1"
}

release_dist() {
  dist=${SWITCHYARD_RELEASE_DIST:-${SWITCHYARD_SOURCE_DIR:?}/dist}
  version=$(sed -n 's/^project(switchyard VERSION \([0-9.]*\).*/\1/p' "$SWITCHYARD_SOURCE_DIR/CMakeLists.txt")
}

need_release_file() {
  need_file "$1" "run scripts/release (minutes), or scripts/release --check"
}
