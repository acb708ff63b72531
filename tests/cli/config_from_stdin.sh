#!/usr/bin/env bash
# --config - (switch-traffic, rollback): the resolved configuration comes from
# stdin; ./switchyard.yml and SWITCHYARD_* variables are ignored, and a bad
# key is named as "--config -:LINE".
set -euo pipefail
unset GITHUB_ACTIONS JENKINS_URL
fail() { echo "FAIL: $*" >&2; exit 1; }
bin=${SWITCHYARD_BIN_DIR:?}
work=$(mktemp -d /tmp/switchyard-stdin-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# A local file and a variable that would change the snippet: both ignored.
printf 'app: from-file\ntarget: {nginx: {mode: reload, include: /from/file.inc}}\n' >switchyard.yml
out=$(printf '{"app": "sent", "target": {"nginx": {"mode": "reload", "include": "/sent/port.inc"}}}' |
  SWITCHYARD_TARGET__NGINX__INCLUDE=/from/variable.inc "$bin/switchyard-switch-traffic" --config - --print-nginx-config)
grep -qF "include /sent/port.inc;" <<<"$out" || fail "the snippet does not use the configuration from stdin: $out"
! grep -qF "/from/" <<<"$out" || fail "the file or the variable leaked in: $out"

# A bad key: exit 2, named as coming from stdin.
status=0
printf 'app: x\ntarget:\n  drain_timout: 5s\n' | "$bin/switchyard-rollback" --config - --list 2>err.txt || status=$?
[[ $status == 2 ]] || fail "a bad key exited $status"
grep -qF "error: --config -:3: target.drain_timout: unknown key; did you mean target.drain_timeout?" err.txt ||
  fail "message: $(cat err.txt)"
echo "PASS"
