#!/usr/bin/env bash
# Ctrl-C during a rolling request-deploy over ssh (three real sshd "hosts",
# tests/support/fleet_hosts.sh): while the second host is in its health gate,
# SIGINT stops the rollout: the second host undoes its own switch, the first
# (already switched) is rolled back, the third never starts; exit 130, and
# none is left half switched.
set -euo pipefail
unset GITHUB_ACTIONS JENKINS_URL
source "${SWITCHYARD_SOURCE_DIR:?}/tests/support/fleet_hosts.sh"
fleet_test_start 3
fleet_config switchyard.yml
sed -i 's/^  timeout: 5s/  timeout: 30s/' switchyard.yml  # host 2 gates long enough to be interrupted
v1=$(fleet_release "$ci/releases" 1.0.0)
v2=$(fleet_release "$ci/releases" 2.0.0)
serves() { curl -sf "http://${fleet_ip[$1]}/version" | json "d['version']"; }

"$bin" --artifact "$v1" --batch 3 >first.log 2>&1 || { cat first.log >&2; fail "first deploy"; }
before3=$(fleet_exec 3 wc -l </dev/null /var/lib/switchyard/hello/history.jsonl | cut -d' ' -f1)

# Host 2's new release never turns healthy: its gate waits.
fleet_exec 2 touch /var/lib/switchyard/unhealthy
"$bin" --artifact "$v2" --json >interrupted.json 2>interrupted.log &
rollout=$!
for _ in $(seq 300); do
  grep -q "^\[${fleet_address[2]}\] .*starting\|^\[${fleet_address[2]}\] .*started\|^\[${fleet_address[2]}\] .*health" interrupted.log 2>/dev/null && break
  sleep 0.1
done
sleep 1
kill -INT "$rollout"
status=0
wait "$rollout" || status=$?
fleet_exec 2 rm -f /var/lib/switchyard/unhealthy
[[ $status == 130 ]] || { cat interrupted.log >&2; fail "Ctrl-C exited $status, not 130"; }
[[ $(json "[(h['after'], h['result']) for h in d['hosts']]" <interrupted.json) == \
  "[('1.0.0', 'rolled back'), ('1.0.0', 'interrupted'), ('1.0.0', 'not touched')]" ]] ||
  { cat interrupted.log >&2; fail "results after Ctrl-C: $(cat interrupted.json)"; }
for i in 1 2 3; do [[ $(serves "$i") == 1.0.0 ]] || fail "host $i serves $(serves "$i") after Ctrl-C"; done
# Host 2's new slot is gone, not left running beside the live one.
fleet_exec 2 python3 - <<'PY' || fail "host 2 was left half switched: $(fleet_exec 2 cat /var/lib/switchyard/hello/state.json)"
import json, sys
slots = json.load(open("/var/lib/switchyard/hello/state.json"))["slots"]
sys.exit(0 if [s["version"] for s in slots if s["status"] != "stopped"] == ["1.0.0"] else 1)
PY
[[ $(fleet_exec 3 wc -l </dev/null /var/lib/switchyard/hello/history.jsonl | cut -d' ' -f1) == "$before3" ]] || fail "host 3 was touched"
echo "PASS"
