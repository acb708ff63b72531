#!/usr/bin/env bash
# examples/demo.sh BUILD_DIR: the README's main job, run by scripts/demo after
# it has built switchyard into BUILD_DIR.
#
# The whole pipeline on one machine, with real Maven, a private nginx on a
# loopback port and real processes. Nothing outside a temporary directory is
# touched, and everything the demo starts is stopped when it exits:
#   1. build two versions of the sample service with switchyard-build-jar
#      (Maven, offline) and store them with switchyard-push-artifact (file://);
#   2. gate on health: switchyard-verify-health waits for a slow-starting
#      service and refuses an unhealthy one, saying why;
#   3. deploy 1.0.0 behind nginx (seamless mode) with switchyard-switch-traffic;
#      under a light load, try an unhealthy 2.0.0 (refused, 1.0.0 keeps
#      serving), deploy the healthy 2.0.0, roll back to 1.0.0, and show that
#      no request failed and which versions answered.
set -uo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: examples/demo.sh BUILD_DIR" >&2
  exit 2
fi
build_dir=$(realpath "$1")
examples_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$examples_dir/.." && pwd)
# shellcheck source=bench/lib/harness.sh
source "$source_dir/bench/lib/harness.sh"

for tool in java mvn curl ss wrk nginx /usr/bin/python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "$tool: not found; run scripts/setup first" >&2
    exit 3
  fi
done
for step in build-jar push-artifact verify-health switch-traffic rollback; do
  if [[ ! -x $build_dir/switchyard-$step ]]; then
    echo "$build_dir/switchyard-$step: not built; build switchyard first (cmake --build $build_dir)" >&2
    exit 3
  fi
done
switchyard() { # STEP ARGS...: runs BUILD_DIR/switchyard-STEP
  local step=$1
  shift
  "$build_dir/switchyard-$step" "$@"
}

work=$(mktemp -d /tmp/switchyard-demo.XXXXXX)
# nginx workers run as an unprivileged user and must read the live-port file.
chmod 755 "$work"
port_blue="" port_green=""
cleanup() {
  harness_cleanup
  # The slots switch-traffic started run detached (as they must, to outlive
  # a CI job); they listen on the two ports this run picked.
  stop_listeners ${port_blue:+"$port_blue"} ${port_green:+"$port_green"}
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "demo: interrupted" >&2; exit 130' INT TERM

if [[ -t 1 ]]; then bold=$'\e[1m' green=$'\e[32m' red=$'\e[31m' plain=$'\e[0m'; else bold="" green="" red="" plain=""; fi
section() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
say() { printf '  %s\n' "$*"; }
ok() { printf '%s  ok%s %s\n' "$green" "$plain" "$*"; }
die() {
  printf '%sdemo: %s%s\n' "$red" "$*" "$plain" >&2
  exit 1
}
# json_field FILE KEY: one field of a step's --json result.
json_field() {
  /usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}
summary=()

# One switchyard.yml for every step, as a service's repository would have:
# the build, the artifact store, the health gate and the host, all under
# $work, on loopback ports picked free now.
nginx_port=$(free_port)
port_blue=$(free_port)
port_green=$(free_port)
while [[ $port_green == "$port_blue" ]]; do port_green=$(free_port); done
config=$work/switchyard.yml
java_args=$(printf '"%s", ' "${harness_java_opts[@]}")
cat >"$config" <<YAML
# The demo's switchyard.yml (docs/CONFIG.md): everything lives under $work.
app: hello
build:
  tool: maven
  args: [-o, -Dmaven.repo.local=/usr/share/maven-repo]   # offline, from Debian's Maven plugins
artifact:
  store: "file://$work/store"
health:
  expect_json: [status=UP]
  timeout: 30s
target:
  state_dir: "$work/host"
  ports: [$port_blue, $port_green]
  start_command: [java, ${java_args} -jar, "{artifact}", "--server.port={port}"]
  drain_timeout: 10s
  keep_warm: 1m
  nginx:
    mode: seamless
    prefix: "$work/nginx"
    conf: "$work/nginx/conf/nginx.conf"
    router_script: "$source_dir/runner/host/nginx/router.js"
    url: "http://127.0.0.1:$nginx_port/"
YAML

section "1. Build and store two versions: switchyard-build-jar (Maven), switchyard-push-artifact"
# build_and_push VERSION: builds a copy of examples/hello-service whose pom
# says VERSION, stores it, and sets artifact_uri and release (the release
# label build-jar gives it: the pom's version and, outside git, the time).
build_and_push() {
  local version=$1 project=$work/src/hello-service-$1 started
  mkdir -p "$project"
  cp -r "$examples_dir/hello-service/pom.xml" "$examples_dir/hello-service/src" "$project/"
  sed -i "0,/<version>[^<]*<\/version>/s//<version>$version<\/version>/" "$project/pom.xml"
  started=$(now_ms)
  if ! switchyard build-jar --config "$config" --project "$project" --json >"$work/build-$version.json" \
    2>"$work/build-$version.log"; then
    tail -20 "$work/build-$version.log" >&2
    die "switchyard-build-jar could not build hello-service $version; its output is above"
  fi
  local jar
  jar=$(json_field "$work/build-$version.json" jar)
  release=$(json_field "$work/build-$version.json" version)
  ok "built $(basename "$jar") as release $release in $(($(now_ms) - started)) ms (sha256 $(json_field "$work/build-$version.json" sha256 | cut -c1-12)...)"
  if ! switchyard push-artifact --config "$config" --json "$jar" >"$work/push-$version.json" \
    2>"$work/push-$version.log"; then
    cat "$work/push-$version.log" >&2
    die "switchyard-push-artifact could not store $jar; its output is above"
  fi
  artifact_uri=$(json_field "$work/push-$version.json" artifact_uri)
  ok "stored as $artifact_uri"
}
build_and_push 1.0.0
v1_uri=$artifact_uri v1_release=$release v1_jar=$work/src/hello-service-1.0.0/target/hello-service-1.0.0.jar
build_and_push 2.0.0
v2_uri=$artifact_uri v2_release=$release v2_jar=$work/src/hello-service-2.0.0/target/hello-service-2.0.0.jar
summary+=("built 1.0.0 and 2.0.0 with switchyard-build-jar (Maven) and stored them in a file:// store")

section "2. Gate on health: switchyard-verify-health"
port=$(free_port)
say "starting 1.0.0 on 127.0.0.1:$port with a 1.5 s startup delay"
STARTUP_DELAY_MS=1500 start_service v1 "$v1_jar" "$port" "$work/v1.log"
v1_pid=$started_pid
switchyard verify-health --expect-json status=UP --expect-version 1.0.0 --timeout 30s \
  "http://127.0.0.1:$port/actuator/health" || die "verify-health did not see 1.0.0 healthy"
noticed=$(now_ms)
ready=$(wait_ready "$work/v1.log" 1) || die "1.0.0 printed no ready line"
ok "healthy 1.0.0 seen $((noticed - ready)) ms after it started answering"
summary+=("verify-health saw 1.0.0 healthy $((noticed - ready)) ms after it started answering")
kill -TERM "$v1_pid"
wait "$v1_pid" 2>/dev/null

port=$(free_port)
say "starting 2.0.0 with FAIL_HEALTH=1 on 127.0.0.1:$port: verify-health must refuse it"
FAIL_HEALTH=1 start_service v2 "$v2_jar" "$port" "$work/v2-down.log"
v2_pid=$started_pid
switchyard verify-health --expect-json status=UP --timeout 3s "http://127.0.0.1:$port/actuator/health"
status=$?
((status == 1)) || die "verify-health exited $status for a DOWN service; expected 1"
ok "an unhealthy 2.0.0 is refused (exit 1, reason above)"
summary+=("verify-health refused an unhealthy 2.0.0 (exit 1)")
kill -TERM "$v2_pid"
wait "$v2_pid" 2>/dev/null

section "3. Zero-downtime deploys behind nginx: switchyard-switch-traffic (seamless mode)"
switchyard switch-traffic --config "$config" --print-nginx-config >"$work/snippet.conf" ||
  die "switch-traffic could not print the nginx configuration for $config"
nginx_write_conf "$work/nginx" "$nginx_port" snippet "$work/snippet.conf"
nginx_start "$work/nginx" || die "the private nginx did not start; see $work/nginx/logs/error.log"
ok "a private nginx on 127.0.0.1:$nginx_port, configured as switch-traffic --print-nginx-config says; slots $port_blue and $port_green"

# deploy URI VERSION: one switch-traffic run from the store, timed; the
# sha256 is checked against the manifest stored beside the jar, and nginx
# must answer with the jar's own version (the manifest's app_version).
deploy() {
  local uri=$1 version=$2 started
  say "switchyard-switch-traffic --artifact $uri"
  started=$(now_ms)
  if ! switchyard switch-traffic --config "$config" --artifact "$uri" 2>"$work/deploy.log"; then
    cat "$work/deploy.log" >&2
    die "deploying $version failed; switch-traffic's output is above"
  fi
  ok "$version live in $(($(now_ms) - started)) ms"
}

deploy "$v1_uri" "1.0.0 (release $v1_release)"
switchyard verify-health --expect-version 1.0.0 --timeout 10s "http://127.0.0.1:$nginx_port/actuator/health" \
  2>/dev/null || die "nginx does not answer with 1.0.0"
ok "verify-health: 1.0.0 answers through nginx"

say "starting a light load: wrk, 4 keep-alive connections, GET / and POST /echo, every response's version recorded"
LOAD_RESULT=$work/load.json wrk -t1 -c4 -d120s --timeout 5s -s "$source_dir/bench/load.lua" \
  "http://127.0.0.1:$nginx_port" >"$work/wrk.txt" 2>&1 &
wrk_pid=$!
harness_pids+=("$wrk_pid")
sleep 2

say "deploying 2.0.0 with FAIL_HEALTH=1 (SWITCHYARD_TARGET__ENVIRONMENT__FAIL_HEALTH=1): the gate must stop it"
SWITCHYARD_TARGET__ENVIRONMENT__FAIL_HEALTH=1 SWITCHYARD_HEALTH__TIMEOUT=3s \
  switchyard switch-traffic --config "$config" --artifact "$v2_uri" 2>"$work/deploy-broken.log"
status=$?
((status == 1)) || { cat "$work/deploy-broken.log" >&2; die "switch-traffic exited $status for an unhealthy version; expected 1"; }
say "$(grep -m1 '^error:' "$work/deploy-broken.log")"
switchyard verify-health --expect-version 1.0.0 --timeout 5s "http://127.0.0.1:$nginx_port/actuator/health" \
  2>/dev/null || die "1.0.0 no longer answers through nginx after the refused deploy"
ok "refused with exit 1; 1.0.0 kept serving"
summary+=("switch-traffic refused an unhealthy 2.0.0 (exit 1) and 1.0.0 kept serving")

deploy "$v2_uri" "2.0.0 (release $v2_release)"
sleep 2
say "switchyard-rollback (1.0.0 was kept warm, so nothing has to boot)"
started=$(now_ms)
switchyard rollback --config "$config" 2>"$work/rollback.log" ||
  { cat "$work/rollback.log" >&2; die "rollback failed; its output is above"; }
ok "rolled back to 1.0.0 in $(($(now_ms) - started)) ms"
sleep 2

kill -INT "$wrk_pid"
wait "$wrk_pid"
[[ -s $work/load.json ]] || die "wrk wrote no result; its output: $(cat "$work/wrk.txt")"
"$build_dir/switchyard" status --config "$config" | sed 's/^/  /' || true

read -r requests failed versions last < <(/usr/bin/python3 - "$work/load.json" <<'PY'
import json, sys
load = json.load(open(sys.argv[1]))
e = load["errors"]
failed = load["non_2xx"] + e["connect"] + e["read"] + e["write"] + e["timeout"]
seen = sorted(load["versions"].items(), key=lambda item: item[1]["first_ms"])
last = max(load["versions"].items(), key=lambda item: item[1]["last_ms"])[0] if seen else "none"
print(load["requests"], failed, ",".join(f"{v}:{s['count']}" for v, s in seen), last)
PY
)
say "under load: $requests requests, $failed failed"
say "responses per version: ${versions//,/, } (the last ones from $last)"
((failed == 0)) || die "$failed requests failed during the deploys and the rollback; see $work/wrk.txt"
ok "no request failed while 1.0.0 -> (2.0.0 refused) -> 2.0.0 -> 1.0.0"
summary+=("deployed 2.0.0 and rolled back to 1.0.0 under load: $requests requests, 0 failed (${versions//,/, })")

section "Summary"
for line in "${summary[@]}"; do say "- $line"; done
say "everything the demo started has been stopped; it leaves nothing behind"
