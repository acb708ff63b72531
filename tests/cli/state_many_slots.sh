#!/usr/bin/env bash
# A state.json of very many slots (the probe's had 100,000; there are only
# 65,535 ports, so a file that big repeats some) is read in n log n: `status`
# and `rollback --list` answer well under 5 s (they re-sorted the slots on
# every one read, and took minutes), and the file with repeated ports is
# refused at once, naming the port.
set -euo pipefail
bin="${SWITCHYARD_BIN_DIR:?}"
work=$(mktemp -d /tmp/switchyard-many-slots-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

cat >switchyard.yml <<YAML
app: many
target:
  state_dir: $work/state
  ports: [18081, 18082]
  nginx:
    mode: seamless
health:
  request_timeout: 200ms
YAML
mkdir -p state

write_slots() {  # count: slots on ports count..1 (reverse order), 18081 live
  python3 - "$1" >state/state.json <<'PY'
import json, sys
count = int(sys.argv[1])
slots = [{"port": (p - 1) % 65535 + 1, "slot": "blue", "version": "1.0", "pid": 0,
          "status": "live" if p == 18081 else "stopped"} for p in range(count, 0, -1)]
print(json.dumps({"app": "many", "slots": slots}))
PY
}

# timed LIMIT_SECONDS EXPECTED_EXIT COMMAND...
timed() {
  local limit=$1 expected=$2
  shift 2
  local start end status=0
  start=$(date +%s%N)
  "$@" >out.txt 2>err.txt || status=$?
  end=$(date +%s%N)
  local ms=$(((end - start) / 1000000))
  echo "$* -> exit $status in ${ms} ms" >&2
  [[ $status == "$expected" ]] || fail "$*: exit $status, not $expected: $(cat err.txt)"
  ((ms < limit * 1000)) || fail "$*: took ${ms} ms, more than ${limit} s"
}

write_slots 65535
timed 5 0 "$bin/switchyard" status --config switchyard.yml
grep -q "many 1.0 on port 18081" out.txt || fail "status: $(cat out.txt)"
timed 5 0 "$bin/switchyard-rollback" --config switchyard.yml --list

write_slots 100000
timed 5 2 "$bin/switchyard" status --config switchyard.yml
grep -q "state/state.json: port 1 has two slots" err.txt || fail "not refused by port: $(cat err.txt)"
timed 5 2 "$bin/switchyard-rollback" --config switchyard.yml --list
echo "ok"
