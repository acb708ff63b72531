#!/usr/bin/env bash
# bench/cutover.sh [options]: the zero-downtime cutover benchmark (issue 4).
#
# Under constant load through a private nginx (wrk with bench/load.lua: 50
# keep-alive connections alternating GET / and POST /echo, every response's
# status and X-App-Version recorded), it performs N cutovers (default 20) with
# each of:
#   baseline  bench/baseline-switch.sh, the users' script (DESIGN.md)
#   reload    switchyard-switch-traffic, nginx reload mode
#   seamless  switchyard-switch-traffic, njs router, no reload
# and reports per mode: requests, requests/s, non-2xx, socket errors, p99
# latency, cutover time (command start to the first response from the new
# version through nginx) and deploy overhead (deploy time minus the service's
# own boot time in that deploy, which it prints when it is ready).
#
# Options:
#   --build DIR          build directory with switchyard-* and sample/hello-service.jar (default ./build)
#   --cutovers N         cutovers per mode (default 20)
#   --modes LIST         comma-separated subset of baseline,reload,seamless (default all three)
#   --connections N      wrk connections (default 50)
#   --threads N          wrk threads (default 2)
#   --pause SEC          load-only time between cutovers (default 1)
#   --baseline-interval SEC   the baseline's health probe interval (default 5, as the users have it)
#   --out DIR            where results go (default: a new temporary directory); results.json and summary.md
#
# Every run is bounded: each deploy command gets a timeout, and wrk a duration
# cap; the harness stops wrk (SIGINT, by pid) after the last cutover.
set -uo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$bench_dir/.." && pwd)
# shellcheck source=bench/lib/harness.sh
source "$bench_dir/lib/harness.sh"

build_dir=$source_dir/build
cutovers=20
modes=baseline,reload,seamless
connections=50
threads=2
pause=1
baseline_interval=5
out_dir=""
deploy_timeout=120

while (($# > 0)); do
  case $1 in
    --build) build_dir=$2; shift 2 ;;
    --cutovers) cutovers=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --pause) pause=$2; shift 2 ;;
    --baseline-interval) baseline_interval=$2; shift 2 ;;
    --out) out_dir=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//;/^set -uo/d'; exit 0 ;;
    *) echo "$1: unknown option; see bench/cutover.sh --help" >&2; exit 2 ;;
  esac
done

for value in "$cutovers" "$connections" "$threads" "$pause" "$baseline_interval"; do
  if [[ ! $value =~ ^[1-9][0-9]*$ ]]; then
    echo "$value: not a positive whole number; see bench/cutover.sh --help" >&2
    exit 2
  fi
done
build_dir=$(realpath "$build_dir")
jar=$build_dir/sample/hello-service.jar
switch_traffic=$build_dir/switchyard-switch-traffic
for tool in wrk java curl ss nginx /usr/bin/python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "$tool: not found; run scripts/setup (apt-get install -y wrk nginx libnginx-mod-http-js ...)" >&2
    exit 3
  fi
done
if [[ ! -f $jar ]]; then
  echo "$jar: not built; run cmake --build $build_dir --target sample_service_jar" >&2
  exit 3
fi

work=$(mktemp -d /tmp/switchyard-cutover.XXXXXX)
# nginx workers run as an unprivileged user and must read the live-port file.
chmod 755 "$work"
out_dir=${out_dir:-$work/results}
mkdir -p "$out_dir"
out_dir=$(realpath "$out_dir")
wrk_pid=""

cleanup() {
  if [[ -n $wrk_pid ]]; then kill -INT "$wrk_pid" 2>/dev/null; fi
  stop_mode_services
  harness_cleanup
  if [[ -z ${KEEP_WORK:-} ]]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[cutover] $*" >&2; }

# Versions: v1 is deployed before the load starts; cutover k deploys v(k+1).
log "making $((cutovers + 1)) versions of the sample service"
for k in $(seq 1 $((cutovers + 1))); do
  bash "$source_dir/tests/support/make-version-jar.sh" "$jar" "1.0.$k" "$work/jars/1.0.$k/hello-service.jar" || exit 1
done
version_jar() { echo "$work/jars/1.0.$1/hello-service.jar"; }

# The two slot ports and nginx's port, free now; fresh per mode.
pick_ports() {
  nginx_port=$(free_port)
  port_blue=$(free_port)
  port_green=$(free_port)
  while [[ $port_green == "$port_blue" || $port_green == "$nginx_port" ]]; do port_green=$(free_port); done
  while [[ $port_blue == "$nginx_port" ]]; do port_blue=$(free_port); done
}

# stop_mode_services: stops whatever listens on this mode's two slot ports.
stop_mode_services() {
  stop_listeners ${port_blue:+"$port_blue"} ${port_green:+"$port_green"}
}

# --- baseline: the users' script ---------------------------------------------
baseline_setup() {
  mode_dir=$work/baseline
  mkdir -p "$mode_dir/app"
  nginx_write_conf "$mode_dir/nginx" "$nginx_port" include
  # The include points at green, so the first deploy goes to blue.
  echo "set \$service_port $port_green;" >"$mode_dir/nginx/conf/service_port.inc"
  nginx_start "$mode_dir/nginx" || return 1
}
baseline_deploy() { # JAR [VERSION, unused: the users' script knows no versions]
  NGINX_PREFIX=$mode_dir/nginx NGINX_CONF=$mode_dir/nginx/conf/nginx.conf \
    NGINX_INCLUDE=$mode_dir/nginx/conf/service_port.inc APP_DIR=$mode_dir/app \
    PORT_BLUE=$port_blue PORT_GREEN=$port_green JAVA_OPTS="${harness_java_opts[*]}" \
    BASELINE_INTERVAL=$baseline_interval \
    timeout "$deploy_timeout" bash "$bench_dir/baseline-switch.sh" "$1"
}

# --- reload and seamless: switchyard-switch-traffic ---------------------------
# switch-traffic reads its settings from a switchyard.yml; the harness writes
# one per mode aimed at the private nginx and this run's ports, and builds
# nginx's configuration from the snippet switch-traffic prints for that mode.
switchyard_setup() { # MODE
  local mode=$1
  mode_dir=$work/$mode
  if [[ ! -x $switch_traffic ]]; then
    echo "$switch_traffic: not built yet; skipping $mode mode" >&2
    return 3
  fi
  mkdir -p "$mode_dir/state" "$mode_dir/nginx/conf"
  write_switchyard_config "$mode" "$mode_dir/switchyard.yml"
  # Reload mode's include must exist for nginx to start; nothing listens on
  # green yet, so the first deploy goes to blue.
  echo "set \$service_port $port_green;" >"$mode_dir/nginx/conf/service_port.inc"
  "$switch_traffic" --config "$mode_dir/switchyard.yml" --print-nginx-config >"$mode_dir/snippet.conf" || return 1
  nginx_write_conf "$mode_dir/nginx" "$nginx_port" snippet "$mode_dir/snippet.conf"
  nginx_start "$mode_dir/nginx" || return 1
}

# write_switchyard_config MODE FILE: the target section for this run
# (docs/CONFIG.md), with the same JVM flags the baseline uses.
write_switchyard_config() {
  local mode=$1 file=$2 java_args
  java_args=$(printf '"%s", ' "${harness_java_opts[@]}")
  cat >"$file" <<YAML
app: hello
target:
  state_dir: "$mode_dir/state"
  ports: [$port_blue, $port_green]
  start_command: [java, ${java_args} -jar, "{artifact}", "--server.port={port}"]
  drain_timeout: 30s
  nginx:
    mode: $mode
    prefix: "$mode_dir/nginx"
    conf: "$mode_dir/nginx/conf/nginx.conf"
    include: "$mode_dir/nginx/conf/service_port.inc"
    live_port_file: "$mode_dir/state/live-port"
    router_script: "$source_dir/runner/host/nginx/router.js"
    url: "http://127.0.0.1:$nginx_port/"
YAML
}

switchyard_deploy() { # JAR VERSION
  timeout "$deploy_timeout" "$switch_traffic" --config "$mode_dir/switchyard.yml" --artifact "$1" \
    --release "$2" --no-verify
}

# wait_one_slot SECONDS: waits until at most one of the two slot ports is
# listening, i.e. the previous version has stopped.
wait_one_slot() {
  local deadline=$(($(now_ms) + $1 * 1000))
  while port_in_use "$port_blue" && port_in_use "$port_green"; do
    if (($(now_ms) > deadline)); then
      echo "both slots ($port_blue, $port_green) still listening after $1 s" >&2
      return 1
    fi
    sleep 0.05
  done
}

# ready_instant VERSION: the ready-line instant of VERSION, from whichever
# log under this mode's directory holds it (the baseline's app log, or the
# slot log switch-traffic keeps under its release).
ready_instant() {
  grep -rhs -m1 "^hello-service ready at [0-9]* port [0-9]* version $1\$" "$mode_dir" | awk '{print $4}' | head -1
}

# boot_ms VERSION: the service's own boot time in that deploy, process start
# to ready, as it printed it.
boot_ms() {
  grep -rhs -m1 "^hello-service $1: ready [0-9]* ms after the process started\$" "$mode_dir" | awk '{print $4}' | head -1
}

run_mode() { # MODE
  local mode=$1 setup deploy
  pick_ports
  case $mode in
    baseline) setup=baseline_setup deploy=baseline_deploy ;;
    reload | seamless) setup="switchyard_setup $mode" deploy=switchyard_deploy ;;
    *) echo "$mode: unknown mode; use baseline, reload or seamless" >&2; return 2 ;;
  esac
  log "$mode: nginx on 127.0.0.1:$nginx_port, slots $port_blue and $port_green"
  $setup
  local rc=$?
  if ((rc != 0)); then
    stop_mode_services
    return $rc
  fi
  local records=$out_dir/$mode.cutovers
  : >"$records"

  # v1 goes live before the load starts.
  log "$mode: deploying 1.0.1 before the load"
  if ! $deploy "$(version_jar 1)" 1.0.1 >"$mode_dir/deploy-1.log" 2>&1; then
    log "$mode: the first deploy failed; see below"
    tail -20 "$mode_dir/deploy-1.log" >&2
    stop_mode_services
    return 1
  fi
  # The load must start on settled nginx workers that all route to v1.
  if ! nginx_wait_settled "$mode_dir/nginx" 20 || ! wait_version "http://127.0.0.1:$nginx_port/version" 1.0.1 10; then
    stop_mode_services
    return 1
  fi

  # Constant load, capped well beyond what the cutovers need.
  local cap=$(((cutovers + 1) * (deploy_timeout + pause) + 60))
  LOAD_RESULT=$out_dir/$mode.load.json wrk -t"$threads" -c"$connections" -d"${cap}s" --timeout 10s \
    -s "$bench_dir/load.lua" "http://127.0.0.1:$nginx_port" >"$out_dir/$mode.wrk.txt" 2>&1 &
  wrk_pid=$!
  sleep 2

  local k version started finished status ready boot
  for k in $(seq 1 "$cutovers"); do
    version=1.0.$((k + 1))
    started=$(now_ms)
    $deploy "$(version_jar $((k + 1)))" "$version" >"$mode_dir/deploy-$((k + 1)).log" 2>&1
    status=$?
    finished=$(now_ms)
    ready=$(ready_instant "$version")
    boot=$(boot_ms "$version")
    echo "$k $version $started $finished $status ${ready:-0} ${boot:-0}" >>"$records"
    log "$mode: cutover $k to $version: exit $status in $((finished - started)) ms"
    if ((status != 0)); then
      tail -5 "$mode_dir/deploy-$((k + 1)).log" >&2
    fi
    sleep "$pause"
    # The next deploy reuses the slot this one left; wait until the old
    # version has let go of its port.
    wait_one_slot 30 || true
  done

  kill -INT "$wrk_pid"
  wait "$wrk_pid"
  wrk_pid=""
  # switch-traffic's own record of each deploy's phases, for the report.
  if [[ -f $mode_dir/state/history.jsonl ]]; then
    cp "$mode_dir/state/history.jsonl" "$out_dir/$mode.history.jsonl"
  fi
  stop_mode_services
  nginx_stop "$mode_dir/nginx"
}

IFS=, read -r -a mode_list <<<"$modes"
ran=()
for mode in "${mode_list[@]}"; do
  run_mode "$mode"
  rc=$?
  if ((rc == 0)); then
    ran+=("$mode")
  elif ((rc == 3)); then
    log "$mode: skipped"
  else
    log "$mode: failed (exit $rc)"
  fi
done

/usr/bin/python3 "$bench_dir/lib/cutover_report.py" --results "$out_dir" --modes "$(
  IFS=,
  echo "${ran[*]}"
)" --cutovers "$cutovers" --connections "$connections"
