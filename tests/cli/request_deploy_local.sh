#!/usr/bin/env bash
# request-deploy --via local: the switch on this machine, against a private
# nginx on loopback, leaves the same records as switch-traffic (state.json,
# history.jsonl, the release directory), then --status and --rollback.
set -euo pipefail
unset GITHUB_ACTIONS JENKINS_URL
source "${SWITCHYARD_SOURCE_DIR:?}/tests/support/fleet_hosts.sh"  # fail, json, fleet_release
[[ -f /usr/lib/nginx/modules/ngx_http_js_module.so ]] ||
  fleet_skip "ngx_http_js_module: not installed; apt-get install -y libnginx-mod-http-js"
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || fleet_skip "nginx: not installed"
bin_dir=${SWITCHYARD_BIN_DIR:?}
work=$(mktemp -d /tmp/switchyard-local-XXXXXX)
nginx_dir=$work/nginx
cleanup() {
  [[ -f $nginx_dir/nginx.pid ]] && kill "$(cat "$nginx_dir/nginx.pid")" 2>/dev/null
  for state in "$work"/state-*; do
    python3 - "$state/state.json" <<'PY' 2>/dev/null || true
import json, os, signal, sys
for slot in json.load(open(sys.argv[1]))["slots"]:
    if slot.get("pid"):
        try: os.killpg(slot["pid"], signal.SIGKILL)
        except OSError: pass
PY
  done
  rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"  # nginx workers (nobody) read the live-port file here
cd "$work"

# A private nginx on 127.0.0.1:18080 routing to 18081/18082 (seamless).
port_base=18080
mkdir -p "$nginx_dir/tmp"
fleet_nginx_conf "$SWITCHYARD_SOURCE_DIR/runner/host/nginx/router.js" |
  sed -e "s|/var/lib/switchyard/nginx|$nginx_dir|g" \
    -e "s|listen 80;|listen 127.0.0.1:$port_base;|" \
    -e "s|switchyard_8081 { server 127.0.0.1:8081|switchyard_18081 { server 127.0.0.1:18081|" \
    -e "s|switchyard_8082 { server 127.0.0.1:8082|switchyard_18082 { server 127.0.0.1:18082|" \
    -e "s|/var/lib/switchyard/hello/live-port|$work/live-port|" >"$nginx_dir/nginx.conf"
echo 18081 >"$work/live-port"
nginx -p "$nginx_dir" -c "$nginx_dir/nginx.conf" -e "$nginx_dir/error.log"

config() {
  cat >"$work/$1.yml" <<YAML
app: hello
health: {timeout: 5s, interval: 50ms}
target:
  state_dir: $work/state-$1
  ports: [18081, 18082]
  start_command: [python3, "{artifact}", "{port}", "{version}"]
  drain_timeout: 2s
  stop_grace: 2s
  nginx:
    mode: seamless
    binary: $(command -v nginx || echo /usr/sbin/nginx)
    prefix: $nginx_dir
    conf: $nginx_dir/nginx.conf
    pid_file: $nginx_dir/nginx.pid
    live_port_file: $work/live-port
    router_script: $SWITCHYARD_SOURCE_DIR/runner/host/nginx/router.js
    url: http://127.0.0.1:$port_base/version
YAML
}
v1=$(fleet_release "$work/releases" 1.0.0)
v2=$(fleet_release "$work/releases" 2.0.0)

# switch-traffic itself, for the records to compare with.
config switch
"$bin_dir/switchyard-switch-traffic" --config switch.yml --artifact "$v1" --json >switch.json 2>switch.log ||
  { cat switch.log >&2; fail "switch-traffic"; }
# Its slot goes, so that request-deploy (its own state directory) has both ports.
python3 - state-switch/state.json <<'PY'
import json, os, signal, sys
for slot in json.load(open(sys.argv[1]))["slots"]:
    if slot.get("pid"):
        os.killpg(slot["pid"], signal.SIGKILL)
PY
# request-deploy --via local, with its own state directory.
config local
"$bin_dir/switchyard-request-deploy" --via local --config local.yml --artifact "$v2" --json >local.json 2>local.log ||
  { cat local.log >&2; fail "request-deploy --via local"; }
[[ $(curl -sf "http://127.0.0.1:$port_base/version" | json "d['version']") == 2.0.0 ]] || fail "nginx does not serve 2.0.0"
[[ $(json "[(h['host'], h['after'], h['result']) for h in d['hosts']]" <local.json) == "[('local', '2.0.0', 'deployed')]" ]] ||
  fail "result: $(cat local.json)"

# The same records: state.json's keys, a history line with the same fields, the release kept.
keys() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sorted(d), sorted(d['slots'][0]))" "$1"; }
[[ $(keys state-local/state.json) == "$(keys state-switch/state.json)" ]] || fail "state.json differs in shape"
hist() { python3 -c "import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(sorted(d), d['action'], d['outcome'])" "$1"; }
[[ $(hist state-local/history.jsonl) == "$(hist state-switch/history.jsonl)" ]] ||
  fail "history differs: $(hist state-local/history.jsonl) vs $(hist state-switch/history.jsonl)"
[[ -f state-local/releases/2.0.0/release.json ]] || fail "no release directory"

# --status and --rollback on this machine.
"$bin_dir/switchyard-request-deploy" --via local --config local.yml --status >status.txt 2>status.log || fail "--status: $(cat status.log)"
grep -qE '^local +2\.0\.0 +18081 +healthy' status.txt || fail "status table: $(cat status.txt)"
"$bin_dir/switchyard-request-deploy" --via local --config local.yml --artifact "$v1" 2>again.log || fail "second deploy: $(cat again.log)"
"$bin_dir/switchyard-request-deploy" --via local --config local.yml --rollback 2>rollback.log || fail "--rollback: $(cat rollback.log)"
[[ $(curl -sf "http://127.0.0.1:$port_base/version" | json "d['version']") == 2.0.0 ]] || fail "--rollback did not bring 2.0.0 back"
echo "PASS"
