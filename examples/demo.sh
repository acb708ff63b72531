#!/usr/bin/env bash
# examples/demo.sh BUILD_DIR: the README's main job, run by scripts/demo after
# it has built switchyard into BUILD_DIR.
#
# A local end-to-end deploy of the sample service, with real Maven, a private
# nginx on a loopback port and real processes; nothing outside a temporary
# directory is touched, and everything it starts is stopped on exit:
#   1. build v1 and v2 of the sample service with Maven (offline);
#   2. gate on health: a healthy service passes switchyard-verify-health, a
#      DOWN one is refused with the reason;
#   3. deploy v1 behind a private nginx (seamless mode) with
#      switchyard-switch-traffic, put a light load on it, deploy v2 under the
#      load, roll back to v1, and show that no request failed and which
#      versions answered.
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

verify_health=$build_dir/switchyard-verify-health
switch_traffic=$build_dir/switchyard-switch-traffic

for tool in java mvn curl ss; do
  if ! command -v "$tool" >/dev/null; then
    echo "$tool: not found; run scripts/setup first" >&2
    exit 3
  fi
done
if [[ ! -x $verify_health ]]; then
  echo "$verify_health: not built; build switchyard first (cmake --build $build_dir)" >&2
  exit 3
fi

work=$(mktemp -d /tmp/switchyard-demo.XXXXXX)
cleanup() {
  harness_cleanup
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "demo: interrupted" >&2; exit 130' INT TERM

if [[ -t 1 ]]; then bold=$'\e[1m' green=$'\e[32m' red=$'\e[31m' plain=$'\e[0m'; else bold="" green="" red="" plain=""; fi
section() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
ok() { printf '%s  ok%s %s\n' "$green" "$plain" "$*"; }
die() {
  printf '%sdemo: %s%s\n' "$red" "$*" "$plain" >&2
  exit 1
}
summary=()

# build_version VERSION: builds the sample service with Maven, its pom set to
# VERSION, from a copy of examples/hello-service; prints the jar's path.
build_version() {
  local version=$1 project=$work/src/hello-service-$1
  mkdir -p "$project"
  cp -r "$examples_dir/hello-service/pom.xml" "$examples_dir/hello-service/src" "$project/"
  sed -i "0,/<version>[^<]*<\/version>/s//<version>$version<\/version>/" "$project/pom.xml"
  if ! mvn -o -q -B -Dmaven.repo.local=/usr/share/maven-repo -f "$project/pom.xml" package >"$work/mvn-$version.log" 2>&1; then
    tail -20 "$work/mvn-$version.log" >&2
    die "Maven could not build hello-service $version; its log is above"
  fi
  echo "$project/target/hello-service-$version.jar"
}

section "1. Build the sample service with Maven (offline, Debian's plugins)"
started=$(now_ms)
v1_jar=$(build_version 1.0.0) || exit 1
v2_jar=$(build_version 2.0.0) || exit 1
ok "hello-service 1.0.0 and 2.0.0 built in $(($(now_ms) - started)) ms"
summary+=("built hello-service 1.0.0 and 2.0.0 with Maven")

section "2. Gate on health with switchyard-verify-health"
port=$(free_port)
echo "  starting 1.0.0 on 127.0.0.1:$port with a 1.5 s startup delay"
STARTUP_DELAY_MS=1500 start_service v1 "$v1_jar" "$port" "$work/v1.log"
v1_pid=$started_pid
"$verify_health" --expect-json status=UP --expect-version 1.0.0 --timeout 30s \
  "http://127.0.0.1:$port/actuator/health" || die "verify-health did not see 1.0.0 healthy"
noticed=$(now_ms)
ready=$(wait_ready "$work/v1.log" 1) || die "1.0.0 printed no ready line"
ok "healthy 1.0.0 seen $((noticed - ready)) ms after it started answering"
summary+=("verify-health saw 1.0.0 healthy $((noticed - ready)) ms after it started answering")
kill -TERM "$v1_pid"
wait "$v1_pid" 2>/dev/null
ok "1.0.0 stopped on SIGTERM"

port=$(free_port)
echo "  starting 2.0.0 with FAIL_HEALTH=1 on 127.0.0.1:$port: the gate must refuse it"
FAIL_HEALTH=1 start_service v2 "$v2_jar" "$port" "$work/v2-down.log"
v2_pid=$started_pid
"$verify_health" --expect-json status=UP --timeout 3s "http://127.0.0.1:$port/actuator/health"
status=$?
if ((status != 1)); then
  die "verify-health exited $status for a DOWN service; expected 1"
fi
ok "an unhealthy 2.0.0 is refused (exit 1, reason above)"
summary+=("verify-health refused an unhealthy 2.0.0 (exit 1)")
kill -TERM "$v2_pid"
wait "$v2_pid" 2>/dev/null

section "3. Zero-downtime deploy behind nginx (seamless mode)"
if [[ ! -x $switch_traffic ]]; then
  die "$switch_traffic: not built; build switchyard first (cmake --build $build_dir)"
fi
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  die "wrk or nginx: not found; run scripts/setup first"
fi
nginx_port=$(free_port)
port_blue=$(free_port)
port_green=$(free_port)
while [[ $port_green == "$port_blue" ]]; do port_green=$(free_port); done
config=$work/switchyard.yml
java_args=$(printf '"%s", ' "${harness_java_opts[@]}")
cat >"$config" <<YAML
# The demo's switchyard.yml: a host whose state, nginx and slots all live
# under $work.
app: hello
target:
  state_dir: "$work/host"
  ports: [$port_blue, $port_green]
  start_command: [java, ${java_args} -jar, "{artifact}", "--server.port={port}"]
  drain_timeout: 10s
  nginx:
    mode: seamless
    prefix: "$work/nginx"
    conf: "$work/nginx/conf/nginx.conf"
    router_script: "$source_dir/runner/nginx/router.js"
    url: "http://127.0.0.1:$nginx_port/"
YAML
"$switch_traffic" --config "$config" --print-nginx-config >"$work/snippet.conf" ||
  die "switch-traffic could not print the nginx configuration for $config"
nginx_write_conf "$work/nginx" "$nginx_port" snippet "$work/snippet.conf"
nginx_start "$work/nginx" || die "the private nginx did not start; see $work/nginx/logs/error.log"
ok "private nginx on 127.0.0.1:$nginx_port (the configuration switch-traffic --print-nginx-config gives), slots $port_blue and $port_green"

# deploy JAR VERSION: one switch-traffic run, timed.
deploy() {
  local jar=$1 version=$2 started
  echo "  switchyard-switch-traffic --artifact .../hello-service-$version.jar"
  started=$(now_ms)
  if ! "$switch_traffic" --config "$config" --artifact "$jar" --no-verify 2>"$work/deploy-$version.log"; then
    cat "$work/deploy-$version.log" >&2
    die "deploying $version failed; switch-traffic's output is above"
  fi
  ok "$version live in $(($(now_ms) - started)) ms"
}

deploy "$v1_jar" 1.0.0
"$verify_health" --expect-version 1.0.0 --timeout 10s "http://127.0.0.1:$nginx_port/actuator/health" ||
  die "nginx does not answer with 1.0.0"
ok "verify-health: 1.0.0 answers through nginx"

echo "  starting a light load: wrk, 4 keep-alive connections, GET / and POST /echo"
LOAD_RESULT=$work/load.json wrk -t1 -c4 -d120s --timeout 5s -s "$source_dir/bench/load.lua" \
  "http://127.0.0.1:$nginx_port" >"$work/wrk.txt" 2>&1 &
wrk_pid=$!
harness_pids+=("$wrk_pid")
sleep 2

deploy "$v2_jar" 2.0.0
sleep 2
echo "  switchyard-rollback"
started=$(now_ms)
"$build_dir/switchyard-rollback" --config "$config" 2>"$work/rollback.log" ||
  { cat "$work/rollback.log" >&2; die "rollback failed; its output is above"; }
ok "rolled back to 1.0.0 in $(($(now_ms) - started)) ms"
sleep 2

kill -INT "$wrk_pid"
wait "$wrk_pid"
[[ -s $work/load.json ]] || die "wrk wrote no result; its output: $(cat "$work/wrk.txt")"
"$build_dir/switchyard" status --config "$config" || true

read -r requests failed versions < <(/usr/bin/python3 - "$work/load.json" <<'PY'
import json, sys
load = json.load(open(sys.argv[1]))
e = load["errors"]
failed = load["non_2xx"] + e["connect"] + e["read"] + e["write"] + e["timeout"]
seen = sorted(load["versions"].items(), key=lambda item: item[1]["first_ms"])
print(load["requests"], failed, ",".join(f"{v}:{s['count']}" for v, s in seen))
PY
)
echo "  under load: $requests requests, $failed failed; versions that answered, in order: ${versions//,/, }"
if ((failed != 0)); then
  die "$failed requests failed during the deploy and rollback; see $work/wrk.txt"
fi
ok "no request failed while 1.0.0 -> 2.0.0 -> 1.0.0 went live"
summary+=("deployed 1.0.0, then 2.0.0 and rolled back to 1.0.0 under load: $requests requests, 0 failed (${versions//,/, })")

section "Summary"
for line in "${summary[@]}"; do echo "  - $line"; done
echo "  everything the demo started has been stopped; it leaves nothing behind"
