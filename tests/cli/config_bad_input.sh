#!/usr/bin/env bash
# What a bad-input probe found every step accepting from switchyard.yml: each
# step validates the whole file, so switch-traffic --print-nginx-config
# refuses the health.* values verify-health refuses; a key written twice
# exits 2 naming both lines; a duration past what a clock holds exits 2.
set -euo pipefail
bin="${SWITCHYARD_BIN_DIR:?}"
work=$(mktemp -d /tmp/switchyard-config-bad-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect CODE MESSAGE COMMAND...: the exit code, and the message on stderr.
expect() {
  local code=$1 message=$2
  shift 2
  local status=0
  "$@" >out.txt 2>err.txt || status=$?
  [[ $status == "$code" ]] || fail "$*: exit $status, not $code: $(cat err.txt)"
  grep -qF -- "$message" err.txt || fail "$*: no '$message' in: $(cat err.txt)"
}

base='app: hello
target:
  nginx:
    mode: seamless
'
check() {  # yaml-lines message
  printf '%s%s\n' "$base" "$1" >switchyard.yml
  expect 2 "$2" "$bin/switchyard-switch-traffic" --config switchyard.yml --print-nginx-config
  expect 2 "$2" "$bin/switchyard-verify-health" --config switchyard.yml http://127.0.0.1:1/
  expect 2 "$2" "$bin/switchyard-rollback" --config switchyard.yml --list
}

check $'health:\n  expect_status: -1' \
  "switchyard.yml:6: health.expect_status: '-1' is out of range; use from 100 to 599"
check $'health:\n  successes: 0' \
  "switchyard.yml:6: health.successes: '0' is out of range; use from 1 to 999999"
check $'health:\n  interval: 0s' \
  "switchyard.yml:6: health.interval: '0s' is out of range; use at least 1ms"
check $'health:\n  timeout: 2562048h' \
  "switchyard.yml:6: health.timeout: '2562048h': too long; the longest duration is 1000000h"
check $'health:\n  path: /a\n  path: /b' \
  "switchyard.yml:7: health.path: set twice (lines 6 and 7); keep one"

# The same from a flag: the duration check is the parser's.
printf '%s' "$base" >switchyard.yml
expect 2 "'2562048h': too long" \
  "$bin/switchyard-verify-health" --config switchyard.yml --timeout 2562048h http://127.0.0.1:1/

# A valid file still prints the snippet.
printf '%shealth:\n  expect_status: 204\n  successes: 2\n  interval: 1ms\n' "$base" >switchyard.yml
"$bin/switchyard-switch-traffic" --config switchyard.yml --print-nginx-config >out.txt 2>err.txt ||
  fail "a valid file was refused: $(cat err.txt)"
grep -q upstream out.txt || fail "no snippet printed: $(cat out.txt)"
echo "ok"
