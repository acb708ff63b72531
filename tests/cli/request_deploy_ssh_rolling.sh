#!/usr/bin/env bash
# request-deploy --via ssh to three real sshd "hosts" (network and mount
# namespaces, tests/support/fleet_hosts.sh): a first deploy, then a rolling
# deploy with a load generator on every host's nginx (0 failed requests),
# the secret in target.environment reaching the service and nowhere else
# (logs, a ps snapshot taken during the deploy, state files), who asked in
# each host's history, --status, --dry-run, and --rollback of the fleet.
set -euo pipefail
unset GITHUB_ACTIONS JENKINS_URL
source "${SWITCHYARD_SOURCE_DIR:?}/tests/support/fleet_hosts.sh"
command -v wrk >/dev/null || fleet_skip "wrk: not installed (scripts/setup installs it)"
fleet_test_start 3

FLEET_TEST_SECRET="fleet-secret-$(od -An -tx8 -N8 /dev/urandom | tr -d ' \n')"
export FLEET_TEST_SECRET
export GIT_COMMIT=0123456789abcdef0123456789abcdef01234567
fleet_config switchyard.yml "  environment:
    DB_PASSWORD: env:FLEET_TEST_SECRET"
v1=$(fleet_release "$ci/releases" 1.0.0)
v2=$(fleet_release "$ci/releases" 2.0.0)

# The first deploy: every host at once.
"$bin" --artifact "$v1" --batch 3 --json >first.json 2>first.log || { cat first.log >&2; fail "first deploy exited $?"; }
for i in 1 2 3; do
  got=$(curl -sf "http://${fleet_ip[i]}/version" | json "d['version']")
  [[ $got == 1.0.0 ]] || fail "host $i serves [$got] after the first deploy"
done
[[ $(json "[h['result'] for h in d['hosts']]" <first.json) == "['deployed', 'deployed', 'deployed']" ]] ||
  fail "first deploy results: $(cat first.json)"

# Rolling, one host at a time, under load on every host's nginx, while ps
# is watched for the secret.
for i in 1 2 3; do
  wrk -t1 -c8 -d120s "http://${fleet_ip[i]}/" >"wrk$i.txt" 2>&1 &
  eval "wrk_pid$i=$!"
done
(while :; do ps -eo pid,args >>ps.txt; sleep 0.1; done) &
ps_pid=$!
sleep 1
status=0
"$bin" --artifact "$v2" --json >rolling.json 2>rolling.log || status=$?
kill "$ps_pid"
sleep 1
# wrk stops on SIGINT and prints what it counted.
for i in 1 2 3; do eval "kill -INT \$wrk_pid$i; wait \$wrk_pid$i" || true; done
[[ $status == 0 ]] || { cat rolling.log >&2; fail "rolling deploy exited $status"; }
for i in 1 2 3; do
  requests=$(awk '/requests in/ {print $1}' "wrk$i.txt")
  [[ -n $requests && $requests -gt 0 ]] || fail "host $i: wrk made no requests: $(cat "wrk$i.txt")"
  if grep -qE 'Non-2xx|Socket errors' "wrk$i.txt"; then
    fail "host $i: failed requests during the rolling deploy: $(cat "wrk$i.txt")"
  fi
  echo "host $i: $requests requests through nginx during the rolling deploy, 0 failed"
  got=$(curl -sf "http://${fleet_ip[i]}/version" | json "d['version']")
  [[ $got == 2.0.0 ]] || fail "host $i serves [$got] after the rolling deploy"
done
[[ $(json "[(h['before'], h['after'], h['result']) for h in d['hosts']]" <rolling.json) == \
  "[('1.0.0', '2.0.0', 'deployed'), ('1.0.0', '2.0.0', 'deployed'), ('1.0.0', '2.0.0', 'deployed')]" ]] ||
  fail "rolling results: $(cat rolling.json)"
# Output streamed with a host prefix, and the final table.
grep -q "^\[${fleet_address[2]}\] " rolling.log || fail "no host-prefixed lines: $(head -20 rolling.log)"
grep -qE "^${fleet_address[3]} +1\.0\.0 -> 2\.0\.0 +deployed" rolling.log || fail "no final table: $(tail -5 rolling.log)"

# The secret reached the service...
expected=$(printf %s "$FLEET_TEST_SECRET" | sha256sum | cut -d' ' -f1)
got=$(curl -sf "http://${fleet_ip[1]}/secret-digest" | json "d['sha256']")
[[ $got == "$expected" ]] || fail "target.environment did not reach the service"
# ...and nowhere else: logs, results, ps, any host's state.
for file in first.log first.json rolling.log rolling.json ps.txt; do
  ! grep -qF "$FLEET_TEST_SECRET" "$file" || fail "the secret is in $file"
done
grep -q 'python3 ' ps.txt || fail "the ps snapshot saw no slot (it did not watch the deploy)"
for i in 1 2 3; do
  ! fleet_exec "$i" grep -rqF "$FLEET_TEST_SECRET" /var/lib/switchyard || fail "the secret is in host $i's state"
  fleet_exec "$i" grep -q '"who":"[^"]* at git 0123456789ab"' /var/lib/switchyard/hello/history.jsonl ||
    fail "host $i's history does not say who asked: $(fleet_exec "$i" cat /var/lib/switchyard/hello/history.jsonl)"
done

# --status: what each runs now.
"$bin" --status --json >status.json 2>status.log || fail "--status exited $?: $(cat status.log)"
[[ $(json "[(h['before'], h['before_port'], h['healthy']) for h in d['hosts']]" <status.json) == \
  "[('2.0.0', 8081, True), ('2.0.0', 8081, True), ('2.0.0', 8081, True)]" ]] || fail "status: $(cat status.json)"

# --dry-run: the plan, nothing changed.
v3=$(fleet_release "$ci/releases" 3.0.0)
"$bin" --artifact "$v3" --dry-run --json >dry.json 2>dry.log || fail "--dry-run exited $?: $(cat dry.log)"
grep -qF "[${fleet_address[1]}] runs 2.0.0 on port 8081; would start 3.0.0 on port 8082 and switch to it" dry.log ||
  fail "no plan: $(cat dry.log)"
for i in 1 2 3; do
  got=$(curl -sf "http://${fleet_ip[i]}/version" | json "d['version']")
  [[ $got == 2.0.0 ]] || fail "host $i changed during --dry-run: [$got]"
  ! fleet_exec "$i" test -e /var/lib/switchyard/hello/releases/3.0.0 || fail "--dry-run fetched 3.0.0 on host $i"
done

# --rollback: the whole fleet back to the previous release.
"$bin" --rollback --json >rollback.json 2>rollback.log || { cat rollback.log >&2; fail "--rollback exited $?"; }
for i in 1 2 3; do
  got=$(curl -sf "http://${fleet_ip[i]}/version" | json "d['version']")
  [[ $got == 1.0.0 ]] || fail "host $i serves [$got] after --rollback"
done
# --rollback --to a named release.
"$bin" --rollback --to 2.0.0 --json >rollback_to.json 2>rollback_to.log || { cat rollback_to.log >&2; fail "--rollback --to exited $?"; }
got=$(curl -sf "http://${fleet_ip[3]}/version" | json "d['version']")
[[ $got == 2.0.0 ]] || fail "host 3 serves [$got] after --rollback --to 2.0.0"
echo "PASS"
