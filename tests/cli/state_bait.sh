#!/usr/bin/env bash
# A corrupted or hand-edited state.json never makes rollback or restore signal
# a process whose identity is not proven (its kernel start time AND the
# slot's token in its environment). A bait process, in a process group of its
# own like a slot, carries the pid the state file names; it must survive
# every run, and each run reports the problem instead of acting on it.
set -euo pipefail
bin="${SWITCHYARD_BIN_DIR:?}"
work=$(mktemp -d /tmp/switchyard-bait-XXXXXX)
bait=0
cleanup() {
  if ((bait > 1)); then kill -9 -- "-$bait" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

# The bait: a process group leader that is not a slot (no token). Without job
# control the background child is no group leader, so setsid does not fork
# and $! is the sleep itself.
setsid sleep 600 </dev/null >/dev/null 2>&1 &
bait=$!
disown "$bait"  # its end at cleanup is no news
for _ in $(seq 1 200); do
  [[ $(cat "/proc/$bait/comm" 2>/dev/null) == sleep ]] && break
  sleep 0.01
done
[[ $(cat "/proc/$bait/comm" 2>/dev/null) == sleep ]] || fail "the bait did not start"
[[ $(ps -o pgid= -p "$bait" | tr -d ' ') == "$bait" ]] || fail "the bait leads no process group"
ticks=$(awk '{sub(/.*\) /, ""); print $20}' "/proc/$bait/stat")

cat >switchyard.yml <<EOF
app: bait
target:
  state_dir: $work/state
  ports: [18081, 18082]
  stop_grace: 1s
  nginx:
    mode: seamless
health:
  timeout: 1s
EOF
mkdir -p state
# Seamless mode: the njs router's live-port file says where nginx points.
echo 18081 >state/live-port

# state.json with one slot on each port, both naming the bait.
write_state() {  # live_pid live_ticks live_token idle_pid idle_ticks idle_token
  cat >state/state.json <<EOF
{"app":"bait","previous_version":"","slots":[
 {"port":18081,"slot":"blue","version":"1.0","pid":$1,"start_ticks":$2,"token":"$3","status":"live","since":"2026-01-01T00:00:00Z"},
 {"port":18082,"slot":"green","version":"0.9","pid":$4,"start_ticks":$5,"token":"$6","status":"starting","since":"2026-01-01T00:00:00Z"}]}
EOF
}

alive() { kill -0 "$bait" 2>/dev/null && [[ $(awk '{sub(/.*\) /, ""); print $20}' "/proc/$bait/stat") == "$ticks" ]]; }

run() {  # expected-exit description command...
  local expected=$1 what=$2
  shift 2
  local code=0
  "$@" >out.txt 2>err.txt || code=$?
  [[ $code == "$expected" ]] || fail "$what: exit $code, not $expected: $(cat err.txt)"
  alive || fail "$what: the bait (pid $bait) was signalled"
}

# 1. No start time, no token (the probe's case): rollback leaves it alone.
write_state "$bait" 0 "" "$bait" 0 ""
run 2 "rollback, no start_ticks" "$bin/switchyard-rollback" --config switchyard.yml
grep -q "pid $bait is not provably this slot's process" err.txt ||
  fail "rollback did not report the unproven pid: $(cat err.txt)"

# 2. The right start time but no token, then a wrong token: still not proven.
write_state "$bait" "$ticks" "" "$bait" "$ticks" ""
run 2 "rollback, start_ticks but no token" "$bin/switchyard-rollback" --config switchyard.yml
write_state "$bait" "$ticks" "0123456789abcdef0123456789abcdef" "$bait" "$ticks" "0123456789abcdef0123456789abcdef"
run 2 "rollback, a token the bait does not carry" "$bin/switchyard-rollback" --config switchyard.yml

# 3. restore does not take the bait for the live slot ("running; nothing to
# restore" was the old answer); it tries to start the release, which is not
# kept here, and says so.
write_state "$bait" 0 "" 0 0 ""
run 2 "restore, live slot without start_ticks" "$bin/switchyard" restore --config switchyard.yml
grep -q "nothing to restore" err.txt && fail "restore took the bait for the live slot"
grep -q "not a kept release" err.txt || fail "restore: unexpected message: $(cat err.txt)"

# 4. Pids no slot can have are refused when the file is read, naming it.
for pid in 1 -1 4294968530 18446744073709551615 1.5 '"12"'; do
  write_state "$pid" "$ticks" "" 0 0 ""
  run 2 "restore with pid $pid" "$bin/switchyard" restore --config switchyard.yml
  grep -q "state/state.json: the slot on port 18081 records a pid no slot can have" err.txt ||
    fail "pid $pid: not reported as a bad state file: $(cat err.txt)"
  run 2 "rollback with pid $pid" "$bin/switchyard-rollback" --config switchyard.yml
  run 2 "status with pid $pid" "$bin/switchyard" status --config switchyard.yml
done
# The bait's own pid plus 2^32 must not be truncated to the bait.
write_state "$((bait + 4294967296))" "$ticks" "" 0 0 ""
run 2 "rollback with the bait's pid + 2^32" "$bin/switchyard-rollback" --config switchyard.yml
grep -q "records a pid no slot can have ($((bait + 4294967296)))" err.txt ||
  fail "pid + 2^32: not reported: $(cat err.txt)"

echo "ok"
