#!/usr/bin/env bash
# request-deploy --presign: an s3:// artifact in a real s3rver reaches a host
# that has no AWS credentials through a presigned URL sent on the agent's
# stdin (two fleet_hosts.sh hosts; the hosts reach s3rver through a relay on
# their veth address). Without --presign that host cannot fetch it (exit 3);
# with it, it deploys, and the URL's signature is in no output, ps snapshot,
# state, history or release record. --via local does the same on the machine
# itself. A bad duration and a non-s3 artifact exit 2; a URL that expired
# before the host fetched it exits 1 saying to use a longer --presign; the
# JSON result reports each host's previous_app_version.
set -euo pipefail
unset GITHUB_ACTIONS JENKINS_URL
source "${SWITCHYARD_SOURCE_DIR:?}/tests/support/fleet_hosts.sh"
source "${SWITCHYARD_SOURCE_DIR:?}/tests/support/s3rver.sh"
relay_pid=""
cleanup() {
  [[ -n $relay_pid ]] && kill "$relay_pid" 2>/dev/null
  stop_s3rver
  fleet_teardown
}
fleet_test_start 2
trap cleanup EXIT
start_s3rver artifacts || exit $?
use_s3rver_credentials

# The hosts reach s3rver (its recording proxy) at <their veth peer>:PORT.
relay_port=$(s3rver_free_port)
python3 - "$relay_port" "${S3_PROXY_ENDPOINT##*:}" <<'PY' >relay.log 2>&1 &
import socket, sys, threading
listen, upstream = int(sys.argv[1]), int(sys.argv[2])
def pipe(source, sink):
    try:
        while data := source.recv(65536):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass
server = socket.create_server(("0.0.0.0", listen))
while True:
    client, _ = server.accept()
    backend = socket.create_connection(("127.0.0.1", upstream))
    threading.Thread(target=pipe, args=(client, backend), daemon=True).start()
    threading.Thread(target=pipe, args=(backend, client), daemon=True).start()
PY
relay_pid=$!
s3rver_wait_port "$relay_port" || fail "the relay did not start: $(cat relay.log)"
endpoint() { echo "http://${fleet_ip[$1]%.2}.1:$relay_port"; }

# Two releases in s3://artifacts/team, with their manifests.
fleet_config switchyard.yml
for version in 1.0.0 2.0.0; do
  file=$(fleet_release "$ci/releases" "$version")
  "${SWITCHYARD_BIN_DIR}/switchyard-push-artifact" --store s3://artifacts/team \
    --endpoint "$S3_PROXY_ENDPOINT" "$file" 2>push.log >/dev/null || fail "push $version: $(cat push.log)"
done
s3v1=s3://artifacts/team/hello/1.0.0/hello-1.0.0.py
s3v2=s3://artifacts/team/hello/2.0.0/hello-2.0.0.py
host=${fleet_address[2]}
export SWITCHYARD_ARTIFACT__ENDPOINT
SWITCHYARD_ARTIFACT__ENDPOINT=$(endpoint 2)

# A duration out of range, --presign for an artifact not in S3 or with
# --via codedeploy: exit 2.
expect_usage() {
  local expected=$1 status=0
  shift
  "$bin" --host "$host" "$@" 2>usage.log || status=$?
  [[ $status == 2 ]] || fail "$* exited $status, not 2: $(cat usage.log)"
  grep -qF -- "$expected" usage.log || fail "$*: no [$expected] in: $(cat usage.log)"
}
expect_usage "--presign: deploy.presign: '200h' is out of range; use from 1s to 168h" \
  --artifact "$s3v1" --presign 200h
expect_usage "--presign: deploy.presign: '0s' is out of range; use from 1s to 168h" \
  --artifact "$s3v1" --presign 0s
expect_usage "--presign: deploy.presign: $ci/releases/hello-1.0.0.py is not an s3:// artifact;" \
  --artifact "$ci/releases/hello-1.0.0.py" --presign 10m
expect_usage "--presign: deploy.presign: --via codedeploy puts the artifact in the revision bundle" \
  --via codedeploy --artifact "$s3v1" --presign 10m

# Without --presign the host has no credentials to fetch the s3:// artifact.
status=0
"$bin" --host "$host" --artifact "$s3v1" >plain.log 2>&1 || status=$?
[[ $status == 3 ]] || fail "without --presign: exit $status, not 3: $(tail -5 plain.log)"
grep -qi "credentials" plain.log || fail "without --presign: no word of credentials: $(tail -5 plain.log)"

# With it, the host fetches the presigned URL; ps is watched meanwhile.
(while :; do ps -eo pid,args >>ps.txt; sleep 0.05; done) &
ps_pid=$!
status=0
"$bin" --host "$host" --artifact "$s3v1" --presign 10m --json >first.json 2>first.log || status=$?
kill "$ps_pid"
wait "$ps_pid" 2>/dev/null || true
[[ $status == 0 ]] || fail "--presign 10m exited $status: $(cat first.log)"
got=$(curl -sf "http://${fleet_ip[2]}/version" | json "d['version']")
[[ $got == 1.0.0 ]] || fail "host 2 serves [$got] after the presigned deploy"
[[ $(json "[(h['result'], h['after'], h['previous_app_version']) for h in d['hosts']]" <first.json) == \
  "[('deployed', '1.0.0', None)]" ]] || fail "first deploy: $(cat first.json)"
grep -q 'switchyard-switch-traffic' ps.txt || fail "the ps snapshots missed the deploy"

# The host fetched through the presigned URL (the proxy saw its signature)...
signature=$(python3 - "$S3_PROXY_LOG" <<'PY'
import json, sys, urllib.parse
for line in open(sys.argv[1]):
    entry = json.loads(line)
    query = urllib.parse.parse_qs(entry["query"])
    if entry["method"] == "GET" and entry["path"].endswith("/hello-1.0.0.py") and "X-Amz-Signature" in query:
        print(query["X-Amz-Signature"][0])
PY
)
[[ -n $signature ]] || fail "no presigned GET of hello-1.0.0.py reached s3rver"
# ...and the URL is nowhere else: outputs, ps, the host's state, history, releases.
fleet_exec 2 sh -c 'cat /var/lib/switchyard/hello/state.json /var/lib/switchyard/hello/history.jsonl /var/lib/switchyard/hello/releases/*/release.json' >host-files.txt
grep -q '"1.0.0"' host-files.txt || fail "the host's records are not there: $(cat host-files.txt)"
for file in first.json first.log ps.txt host-files.txt; do
  ! grep -qF "$signature" "$file" || fail "the presigned URL's signature is in $file"
  ! grep -qF "X-Amz-Signature" "$file" || fail "a presigned URL is in $file"
done
! fleet_exec 2 grep -rqF "$signature" /var/lib/switchyard || fail "the signature is under the host's /var/lib/switchyard"

# A second deploy reports what the host served before.
"$bin" --host "$host" --artifact "$s3v2" --presign 10m --json >second.json 2>second.log ||
  fail "second presigned deploy: $(cat second.log)"
[[ $(json "[(h['before'], h['after'], h['previous_app_version']) for h in d['hosts']]" <second.json) == \
  "[('1.0.0', '2.0.0', '1.0.0')]" ]] || fail "second deploy: $(cat second.json)"

# A URL that expires while the rollout waits for the host's lock: exit 1,
# the host left as it was, and the message says what to do.
fleet_exec 2 flock /var/lib/switchyard/hello/lock sleep 3 &
holder=$!
sleep 0.5
status=0
"$bin" --host "$host" --artifact "$s3v1" --presign 1s --lock-timeout 20s 2>expired.log || status=$?
wait "$holder" || true
[[ $status == 1 ]] || fail "an expired URL: exit $status, not 1: $(cat expired.log)"
grep -qF "HTTP 403; a presigned URL may have expired: make a new one with a longer --presign" expired.log ||
  fail "an expired URL: no hint: $(tail -5 expired.log)"
! grep -qF "X-Amz-Signature" expired.log || fail "a presigned URL is in the failure's log"
got=$(curl -sf "http://${fleet_ip[2]}/version" | json "d['version']")
[[ $got == 2.0.0 ]] || fail "host 2 serves [$got] after the expired URL"

# --via local: request-deploy on host 1 itself, the local agent fetching.
SWITCHYARD_ARTIFACT__ENDPOINT=$(endpoint 1)
fleet_exec 1 "$bin" --via local --config "$ci/switchyard.yml" --artifact "$s3v1" --presign 10m --json >local.json 2>local.log ||
  fail "--via local --presign: $(cat local.log)"
[[ $(json "[(h['host'], h['result'], h['after'], h['previous_app_version']) for h in d['hosts']]" <local.json) == \
  "[('local', 'deployed', '1.0.0', None)]" ]] || fail "--via local: $(cat local.json)"
got=$(curl -sf "http://${fleet_ip[1]}/version" | json "d['version']")
[[ $got == 1.0.0 ]] || fail "host 1 serves [$got] after --via local --presign"
fleet_exec 1 "$bin" --via local --config "$ci/switchyard.yml" --artifact "$s3v2" --presign 10m --json >local2.json 2>local2.log ||
  fail "--via local --presign again: $(cat local2.log)"
[[ $(json "[h['previous_app_version'] for h in d['hosts']]" <local2.json) == "['1.0.0']" ]] ||
  fail "--via local again: $(cat local2.json)"
for file in local.json local.log local2.json local2.log; do
  ! grep -qF "X-Amz-Signature" "$file" || fail "a presigned URL is in $file"
done
echo "ok: --presign deployed to a host without credentials (ssh) and locally; the URL stayed secret"
