#!/usr/bin/env bash
# request-deploy --via ssh when things go wrong, on three real sshd "hosts"
# (tests/support/fleet_hosts.sh): an unhealthy release on the second host
# (the first is rolled back, the third never touched, exit 1); a changed
# host key, an unreachable host and a held lock in preflight (exit 3, 3, 4;
# no host touched); the exact messages a user sees.
set -euo pipefail
unset GITHUB_ACTIONS JENKINS_URL
source "${SWITCHYARD_SOURCE_DIR:?}/tests/support/fleet_hosts.sh"
fleet_test_start 3
fleet_config switchyard.yml
v1=$(fleet_release "$ci/releases" 1.0.0)
v2=$(fleet_release "$ci/releases" 2.0.0)

serves() { curl -sf "http://${fleet_ip[$1]}/version" | json "d['version']"; }
history_lines() { fleet_exec "$1" sh -c 'cat /var/lib/switchyard/hello/history.jsonl 2>/dev/null | wc -l'; }
snapshot() { for i in 1 2 3; do printf '%s:%s ' "$i" "$(history_lines "$i")"; done; }

"$bin" --artifact "$v1" --batch 3 >first.log 2>&1 || { cat first.log >&2; fail "first deploy"; }

# An unhealthy release on the second host: host 1 goes back, host 3 untouched.
fleet_exec 2 touch /var/lib/switchyard/unhealthy
before3=$(history_lines 3)
status=0
"$bin" --artifact "$v2" --json >failed.json 2>failed.log || status=$?
fleet_exec 2 rm -f /var/lib/switchyard/unhealthy
[[ $status == 1 ]] || { cat failed.log >&2; fail "an unhealthy host exited $status, not 1"; }
[[ $(json "[(h['after'], h['result']) for h in d['hosts']]" <failed.json) == \
  "[('1.0.0', 'rolled back'), ('1.0.0', 'failed'), ('1.0.0', 'not touched')]" ]] ||
  fail "results after a failure: $(cat failed.json)"
for i in 1 2 3; do [[ $(serves "$i") == 1.0.0 ]] || fail "host $i serves $(serves "$i") after the failed rollout"; done
[[ $(history_lines 3) == "$before3" ]] || fail "host 3 was touched"
error=$(json "d['error']" <failed.json)
[[ $error == "${fleet_address[2]}: "*"; ${fleet_address[1]} back on 1.0.0" ]] || fail "error line: $error"
grep -qE "^${fleet_address[1]} +1\.0\.0 +rolled back" failed.log || fail "table: $(tail -5 failed.log)"

# A changed host key: refused before any host changes, naming the host and the fingerprint.
cp "$fleet_known_hosts" known_hosts.good
ssh-keygen -q -t ed25519 -N '' -f impostor
fake="${fleet_ip[2]} $(cut -d' ' -f1-2 impostor.pub)"
sed -i "2s|.*|$fake|" "$fleet_known_hosts"
before=$(snapshot)
status=0
"$bin" --artifact "$v2" 2>changed.log || status=$?
cp known_hosts.good "$fleet_known_hosts"
[[ $status == 3 ]] || { cat changed.log >&2; fail "a changed host key exited $status, not 3"; }
fingerprint=$(ssh-keygen -lf "$fleet_dir/h2/host_key.pub" | cut -d' ' -f2)
grep -qF "preflight failed, no host was changed: ${fleet_address[2]}: host key changed (now $fingerprint); refused" changed.log ||
  fail "changed key message: $(cat changed.log)"
[[ $(snapshot) == "$before" ]] || fail "a host was touched after a changed key"
for i in 1 2 3; do [[ $(serves "$i") == 1.0.0 ]] || fail "host $i changed after a refused key"; done

# An unknown host key: refused unless --accept-new-host-keys.
sed -i "3d" "$fleet_known_hosts"
status=0
"$bin" --artifact "$v2" --dry-run 2>unknown.log || status=$?
[[ $status == 3 ]] || fail "an unknown host key exited $status"
grep -qF "${fleet_address[3]}: host key not in $fleet_known_hosts; add it after checking its fingerprint (ssh-keyscan), or pass --accept-new-host-keys once" unknown.log ||
  fail "unknown key message: $(cat unknown.log)"
"$bin" --artifact "$v2" --dry-run --accept-new-host-keys 2>accepted.log || fail "--accept-new-host-keys: $(cat accepted.log)"
ssh-keygen -F "${fleet_ip[3]}" -f "$fleet_known_hosts" >/dev/null || fail "--accept-new-host-keys did not add the key"
cp known_hosts.good "$fleet_known_hosts"

# An unreachable host in preflight: nothing changes anywhere.
before=$(snapshot)
status=0
"$bin" --artifact "$v2" --host "${fleet_address[1]}" --host "${fleet_address[2]}:2222" 2>unreachable.log || status=$?
[[ $status == 3 ]] || { cat unreachable.log >&2; fail "an unreachable host exited $status, not 3"; }
grep -qF "preflight failed, no host was changed: ${fleet_address[2]}:2222: unreachable (ssh: connect to host ${fleet_ip[2]} port 2222: Connection refused); check the address, the network and that sshd runs there" unreachable.log ||
  fail "unreachable message: $(cat unreachable.log)"
[[ $(snapshot) == "$before" ]] || fail "a host was touched with another unreachable"

# A host whose lock is held: exit 4 naming the holder, nothing changes.
fleet_exec 2 flock /var/lib/switchyard/hello/lock sleep 60 &
holder=$!
sleep 0.5
before=$(snapshot)
status=0
"$bin" --artifact "$v2" --lock-timeout 1s 2>locked.log || status=$?
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
[[ $status == 4 ]] || { cat locked.log >&2; fail "a held lock exited $status, not 4"; }
grep -qF "preflight failed, no host was changed: ${fleet_address[2]}: /var/lib/switchyard/hello/lock: held by" locked.log ||
  fail "lock message: $(cat locked.log)"
[[ $(snapshot) == "$before" ]] || fail "a host was touched while one was locked"
for i in 1 2 3; do [[ $(serves "$i") == 1.0.0 ]] || fail "host $i changed while another was locked"; done

# Two rollouts never interleave: while one holds every lock, a second waits and exits 4.
# The first pauses 5s between its two hosts, holding both locks all along.
SWITCHYARD_DEPLOY__BATCH_PAUSE=5s "$bin" --artifact "$v2" --host "${fleet_address[1]}" --host "${fleet_address[3]}" >/dev/null 2>held.log &
first=$!
# Wait until the first holds host 1's lock (the file keeps an old holder's
# record, so ask flock whether it is held).
for _ in $(seq 300); do
  fleet_exec 1 flock -n /var/lib/switchyard/hello/lock true 2>/dev/null || break
  sleep 0.1
done
status=0
"$bin" --artifact "$v2" --host "${fleet_address[1]}" --lock-timeout 200ms 2>second.log || status=$?
wait "$first" || fail "the first rollout failed: $(cat held.log)"
[[ $status == 4 ]] || fail "a second rollout exited $status while the first held the lock: $(cat second.log)"
grep -qF "deploying (request-deploy) 2.0.0" second.log || fail "the second rollout does not name the holder: $(cat second.log)"
echo "PASS"
