#!/usr/bin/env bash
# Hostile values cannot inject on a host reached over ssh (a real sshd,
# tests/support/fleet_hosts.sh): a release label, an app name, a state path,
# start-command arguments and the remote program's name holding ', $(...),
# backquotes, ; and newlines. Each case asserts its marker file was not
# created; the start-command arguments reach the service verbatim.
set -euo pipefail
unset GITHUB_ACTIONS JENKINS_URL
source "${SWITCHYARD_SOURCE_DIR:?}/tests/support/fleet_hosts.sh"
fleet_test_start 1
markers="$fleet_dir/markers"
mkdir -p "$markers"
v1=$(fleet_release "$ci/releases" 1.0.0)

# Each hostile value names its own marker, in every shell form.
hostile() {
  local m="$markers/$1"
  printf "x'; touch %s-q; '\$(touch %s-d)\`touch %s-b\`; touch %s-s\ntouch %s-n" "$m" "$m" "$m" "$m" "$m"
}
no_markers() {
  local found
  found=$(ls -A "$markers")
  [[ -z $found ]] || fail "$1: a hostile value ran: $found"
  fleet_exec 1 sh -c '! ls /var/lib/switchyard/*-[qdbsn] 2>/dev/null' >/dev/null || fail "$1: a marker on the host"
}
yaml_quote() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }

# A start command's arguments: passed to the service as they are, never to a shell.
arg=$(hostile arg)
fleet_config switchyard.yml
set_line() {  # set_line FILE PREFIX NEW_LINE: no sed, so escapes stay escapes
  python3 - "$@" <<'PY'
import sys
path, prefix, new = sys.argv[1:]
lines = open(path).read().split("\n")
open(path, "w").write("\n".join(new if l.startswith(prefix) else l for l in lines))
PY
}
set_line switchyard.yml "  start_command:" "  start_command: [python3, \"{artifact}\", \"{port}\", \"{version}\", $(yaml_quote "$arg")]"
"$bin" --artifact "$v1" 2>arg.log || { cat arg.log >&2; fail "a deploy with a hostile start-command argument failed"; }
no_markers "start-command argument"
pid=$(fleet_exec 1 python3 -c 'import json; s=json.load(open("/var/lib/switchyard/hello/state.json")); print([x["pid"] for x in s["slots"] if x["status"]=="live"][0])')
fleet_exec 1 cat "/proc/$pid/cmdline" | tr '\0' '\n' >cmdline.txt
python3 - "$arg" cmdline.txt <<'PY' || fail "the service did not get the argument verbatim: $(cat cmdline.txt)"
import sys
args = open(sys.argv[2]).read()
sys.exit(0 if sys.argv[1] in args else 1)
PY

# A release label: refused before any host is asked (exit 2).
status=0
"$bin" --artifact "$v1" --release "$(hostile label)" 2>label.log || status=$?
[[ $status == 2 ]] || fail "a hostile label exited $status, not 2"
grep -qF "a release label is letters, digits, '.', '_' and '-'" label.log || fail "label message: $(cat label.log)"
no_markers "release label"

# An app name: the host refuses it (exit 2) and runs nothing.
fleet_config switchyard.yml
set_line switchyard.yml "app:" "app: $(yaml_quote "$(hostile app)")"
status=0
"$bin" --artifact "$v1" 2>app.log || status=$?
[[ $status == 2 ]] || { cat app.log >&2; fail "a hostile app name exited $status, not 2"; }
grep -qF "has characters that cannot be in a path or unit name" app.log || fail "app message: $(cat app.log)"
no_markers "app name"

# A state path: used as a path (a directory with that odd name), never run.
fleet_config switchyard.yml "  state_dir: $(yaml_quote "/var/lib/switchyard/$(hostile path | tr '\n' ' ')")"
"$bin" --artifact "$v1" 2>path.log || { cat path.log >&2; fail "a deploy into a hostile state path failed"; }
no_markers "state path"

# The remote program's name: quoted into the one remote line, so it is one
# (missing) program, exit 3.
fleet_config switchyard.yml
set_line switchyard.yml "  remote_bin:" "  remote_bin: $(yaml_quote "switchyard$(hostile bin)")"
status=0
"$bin" --artifact "$v1" 2>bin.log || status=$?
[[ $status == 3 ]] || { cat bin.log >&2; fail "a hostile remote_bin exited $status, not 3"; }
grep -qF "switchyard is not installed there" bin.log || fail "remote_bin message: $(cat bin.log)"
no_markers "remote program"
echo "PASS"
