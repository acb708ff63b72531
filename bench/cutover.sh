#!/usr/bin/env bash
# bench/cutover.sh [options]: the zero-downtime cutover benchmark (issues 4, 14).
#
# Modes, all against the same sample service (examples/hello-service) behind
# a private nginx on loopback, interleaved: every round runs each mode once,
# in order, and the run repeats the round --rounds times (N >= 3 for
# published figures), so a change in the machine's load hits all modes alike.
#   baseline-direct   the users' script (bench/baseline-switch.sh: health every 5 s,
#                     up to 6 tries) with `proxy_pass http://127.0.0.1:$service_port`
#                     (no upstream keep-alive: what that line gives a user)
#   baseline-pooled   the same script, nginx through an upstream block per port
#                     with `keepalive 32` (`proxy_pass http://slot_$service_port`)
#   baseline-sleep10  the users' other variant: sleep 10, then every 10 s (direct)
#   reload-direct     switchyard-switch-traffic, reload mode, its printed snippet as is
#   reload-pooled     the same, with the upstream blocks of baseline-pooled
#   seamless          switchyard-switch-traffic, seamless mode, its printed snippet as is
# Every mode's server block also gets `client_max_body_size 16m` (nginx's
# default is 1 MiB; the load sends 10 MiB bodies).
#
# Each mode's session, per round:
#   1. closed loop: two wrk (bench/load.lua), one sending GET /, one POST /echo,
#      --connections/2 keep-alive connections each, --cutovers cutovers under it;
#      in the switchyard modes then an unhealthy deploy (FAIL_HEALTH=1, its own
#      version string) under the same load, which must get 0 responses.
#   2. fixed rate: bench/lib/pace.js at --rate-fraction (0.3) of the closed-loop
#      capacity measured at the start of this run (same nginx shape as
#      baseline-direct, no cutover), 5% GET /slow?ms=5000 and a 10 MiB POST
#      /echo every 2 s, plus the keep-alive clients (a curl loop, Python
#      http.client on one connection, Java HttpClient), --cutovers cutovers.
# Once per run, in seamless mode, the drain check: requests longer than
# target.drain_timeout in flight across a deploy (drain_timeout 1s, stop_grace 2s):
# two GET and two POST /slow?ms=8000.
#
# Every request sent and not answered 2xx counts as failed (wrk's socket
# errors included), per method. bench/lib/cutover_report.py turns the raw
# results into summary.md and results.json (every run, medians, worst, bars).
#
# Options:
#   --build DIR          build directory with switchyard-switch-traffic and sample/hello-service.jar (default ./build)
#   --rounds N           rounds (default 3)
#   --cutovers N         cutovers per load kind per session (default 2)
#   --modes LIST         comma-separated subset of the modes above (default all)
#   --connections N      wrk connections, split between the two methods (default 50)
#   --rate-fraction F    fixed rate as a fraction of the closed-loop capacity (default 0.3)
#   --rate N             fixed rate in requests/s instead (skips the capacity measurement)
#   --client-rate N      requests/s of each keep-alive client (default 10)
#   --big-every-ms N     one 10 MiB POST every N ms in the fixed-rate load (default 2000; 0: none)
#   --no-unhealthy       skip the unhealthy deploy
#   --no-drain-check     skip the drain check
#   --pause SEC          load-only time after each cutover (default 1)
#   --out DIR            where results go (default: a new temporary directory)
#
# Bounded: each deploy gets a timeout, wrk and pace.js a duration cap, and the
# harness stops every load process it started (by pid) after each phase.
set -uo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$bench_dir/.." && pwd)
# shellcheck source=bench/lib/harness.sh
source "$bench_dir/lib/harness.sh"

all_modes=baseline-direct,baseline-pooled,baseline-sleep10,reload-direct,reload-pooled,seamless
build_dir=$source_dir/build
rounds=3
cutovers=2
modes=$all_modes
connections=50
rate_fraction=0.3
rate=""
client_rate=10
big_every_ms=2000
unhealthy=1
drain_check=1
pause=1
out_dir=""
deploy_timeout=120
command_line="bench/cutover.sh $*"

while (($# > 0)); do
  case $1 in
    --build) build_dir=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --cutovers) cutovers=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --rate-fraction) rate_fraction=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --client-rate) client_rate=$2; shift 2 ;;
    --big-every-ms) big_every_ms=$2; shift 2 ;;
    --no-unhealthy) unhealthy=0; shift ;;
    --no-drain-check) drain_check=0; shift ;;
    --pause) pause=$2; shift 2 ;;
    --out) out_dir=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//;/^set -uo/d'; exit 0 ;;
    *) echo "$1: unknown option; see bench/cutover.sh --help" >&2; exit 2 ;;
  esac
done

for value in "$rounds" "$cutovers" "$connections" "$pause" "$client_rate" ${rate:+"$rate"}; do
  if [[ ! $value =~ ^[1-9][0-9]*$ ]]; then
    echo "$value: not a positive whole number; see bench/cutover.sh --help" >&2
    exit 2
  fi
done
if [[ ! $big_every_ms =~ ^[0-9]+$ ]]; then
  echo "--big-every-ms $big_every_ms: not a whole number; see bench/cutover.sh --help" >&2
  exit 2
fi
if [[ ! $rate_fraction =~ ^0?\.[0-9]+$ ]]; then
  echo "--rate-fraction $rate_fraction: not a fraction between 0 and 1 (like 0.3)" >&2
  exit 2
fi
IFS=, read -r -a mode_list <<<"$modes"
for mode in "${mode_list[@]}"; do
  if [[ ,$all_modes, != *",$mode,"* ]]; then
    echo "$mode: unknown mode; use some of $all_modes" >&2
    exit 2
  fi
done
build_dir=$(realpath "$build_dir")
jar=$build_dir/sample/hello-service.jar
switch_traffic=$build_dir/switchyard-switch-traffic
for tool in wrk java javac node curl ss nginx /usr/bin/python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "$tool: not found; run scripts/setup (apt-get install -y wrk nginx libnginx-mod-http-js nodejs ...)" >&2
    exit 3
  fi
done
if [[ ! -f $jar ]]; then
  echo "$jar: not built; run cmake --build $build_dir --target sample_service_jar" >&2
  exit 3
fi
if [[ ! -x $switch_traffic && $modes == *[rs]e[la]* ]]; then
  echo "$switch_traffic: not built; run cmake --build $build_dir --target switchyard-switch-traffic" >&2
  exit 3
fi

work=$(mktemp -d /tmp/switchyard-cutover.XXXXXX)
# nginx workers run as an unprivileged user and must read the live-port file.
chmod 755 "$work"
out_dir=${out_dir:-$work/results}
mkdir -p "$out_dir"
out_dir=$(realpath "$out_dir")
load_pids=()   # wrk and pace.js: stopped with SIGINT, on which they write their results
client_pids=() # the keep-alive clients: stopped with SIGTERM (a background job ignores SIGINT)

stop_load() {
  local pid
  for pid in "${client_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${load_pids[@]}"; do kill -INT "$pid" 2>/dev/null; done
  for pid in "${client_pids[@]}" "${load_pids[@]}"; do wait "$pid" 2>/dev/null; done
  load_pids=()
  client_pids=()
}
cleanup() {
  stop_load
  stop_mode_services
  harness_cleanup
  if [[ -z ${KEEP_WORK:-} ]]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[cutover $(date -u +%H:%M:%S)] $*" >&2; }
machine_line() { echo "nproc $(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg)"; }

# The service gets enough threads for the slow requests in flight (5% of the
# fixed rate, 5 s each), the same in every mode.
export SERVER_THREADS=1024

# Versions: 1.0.1 goes live before the load; each session then deploys
# 1.0.2 ... in order. 1.0.99-unhealthy is the unhealthy deploy.
versions_needed=$((2 * cutovers + 3))
log "making $versions_needed versions of the sample service"
for k in $(seq 1 "$versions_needed") 99-unhealthy; do
  bash "$source_dir/tests/support/make-version-jar.sh" "$jar" "1.0.$k" "$work/jars/1.0.$k/hello-service.jar" || exit 1
done
version_jar() { echo "$work/jars/$1/hello-service.jar"; }
mkdir -p "$work/classes"
javac -d "$work/classes" "$bench_dir/lib/KeepAliveClient.java" || exit 1

# The two slot ports and nginx's port, free now; fresh per session.
pick_ports() {
  nginx_port=$(free_port)
  port_blue=$(free_port)
  port_green=$(free_port)
  while [[ $port_green == "$port_blue" || $port_green == "$nginx_port" ]]; do port_green=$(free_port); done
  while [[ $port_blue == "$nginx_port" ]]; do port_blue=$(free_port); done
}

stop_mode_services() {
  stop_listeners ${port_blue:+"$port_blue"} ${port_green:+"$port_green"}
}

# live_port: the slot port that listens now (the first, if both do).
live_port() {
  local port
  for port in "$port_blue" "$port_green"; do
    if port_in_use "$port"; then echo "$port"; return 0; fi
  done
  return 1
}
listener_pid() { ss -Hltnp "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }

# --- nginx: the same shapes for baseline and reload ---------------------------
# The reload snippet switchyard prints is the users' location (include plus
# proxy_pass to the variable); "pooled" changes only the proxy_pass target to
# an upstream block per port with keep-alive.
write_nginx() { # SHAPE SNIPPET
  local shape=$1 snippet=$2
  # Beside the snippet: the body size the load needs, and a log of the long
  # requests only (their id, status and the upstream(s) that served them),
  # so a request nginx resent to the other slot is seen.
  nginx_extra_server="    client_max_body_size 16m;
    access_log $mode_dir/nginx/logs/long.log bench_long if=\$bench_long;"
  nginx_extra_http="  map \$request_uri \$bench_long { ~^/slow 1; ~^/echo\\?big= 1; default 0; }
  log_format bench_long '\$msec|\$request_method|\$request_uri|\$status|\$upstream_addr|\$upstream_status';
"
  if [[ $shape == pooled ]]; then
    # shellcheck disable=SC2016 # nginx's variable, not the shell's
    sed -i 's|proxy_pass http://127.0.0.1:\$service_port;|proxy_pass http://slot_$service_port;|' "$snippet"
    # shellcheck disable=SC2016 # nginx's variable, not the shell's
    grep -q 'proxy_pass http://slot_\$service_port;' "$snippet" || { log "pooled: the snippet has no proxy_pass to rewrite"; return 1; }
    local port
    for port in "$port_blue" "$port_green"; do
      nginx_extra_http+="  upstream slot_$port { server 127.0.0.1:$port; keepalive 32; }
"
    done
  fi
  nginx_write_conf "$mode_dir/nginx" "$nginx_port" snippet "$snippet"
}

# write_switchyard_config MODE FILE: the target section for this session
# (docs/CONFIG.md), with the same JVM flags the baseline uses.
write_switchyard_config() {
  local nginx_mode=$1 file=$2 java_args
  java_args=$(printf '"%s", ' "${harness_java_opts[@]}")
  cat >"$file" <<YAML
app: hello
target:
  state_dir: "$mode_dir/state"
  ports: [$port_blue, $port_green]
  start_command: [java, ${java_args} -jar, "{artifact}", "--server.port={port}"]
  environment:
    SERVER_THREADS: "$SERVER_THREADS"
  drain_timeout: 30s
  nginx:
    mode: $nginx_mode
    prefix: "$mode_dir/nginx"
    conf: "$mode_dir/nginx/conf/nginx.conf"
    include: "$mode_dir/nginx/conf/service_port.inc"
    live_port_file: "$mode_dir/state/live-port"
    router_script: "$source_dir/runner/host/nginx/router.js"
    url: "http://127.0.0.1:$nginx_port/"
YAML
}

setup_session() { # MODE
  local mode=$1 kind=${1%%-*} shape=direct nginx_mode
  [[ $mode == *-pooled ]] && shape=pooled
  mkdir -p "$mode_dir/app" "$mode_dir/state" "$mode_dir/nginx/conf"
  # Nothing listens on green yet, so the first deploy goes to blue.
  echo "set \$service_port $port_green;" >"$mode_dir/nginx/conf/service_port.inc"
  nginx_mode=reload
  [[ $kind == seamless ]] && nginx_mode=seamless
  # Baseline and reload get the same location: the one switchyard prints for reload mode.
  write_switchyard_config "$nginx_mode" "$mode_dir/switchyard.yml"
  "$switch_traffic" --config "$mode_dir/switchyard.yml" --print-nginx-config >"$mode_dir/snippet.conf" || return 1
  write_nginx "$shape" "$mode_dir/snippet.conf" || return 1
  nginx_start "$mode_dir/nginx"
}

# deploy MODE JAR VERSION LOG [ENV=VALUE...]: one deploy, its output (each
# line prefixed with its epoch ms) in LOG.
deploy() {
  local mode=$1 jar=$2 version=$3 log=$4
  shift 4
  local -a command
  case $mode in
    baseline-*)
      local initial=0 interval=5 tries=6
      [[ $mode == baseline-sleep10 ]] && initial=10 interval=10 tries=10
      command=(env NGINX_PREFIX="$mode_dir/nginx" NGINX_CONF="$mode_dir/nginx/conf/nginx.conf"
        NGINX_INCLUDE="$mode_dir/nginx/conf/service_port.inc" APP_DIR="$mode_dir/app"
        PORT_BLUE="$port_blue" PORT_GREEN="$port_green" JAVA_OPTS="${harness_java_opts[*]}"
        "BASELINE_INITIAL_SLEEP=$initial" "BASELINE_INTERVAL=$interval" "BASELINE_TRIES=$tries" "$@"
        bash "$bench_dir/baseline-switch.sh" "$jar")
      ;;
    *)
      command=(env "$@" "$switch_traffic" --config "$mode_dir/switchyard.yml" --artifact "$jar"
        --release "$version" --no-verify)
      ;;
  esac
  timeout "$deploy_timeout" "${command[@]}" 2>&1 | while IFS= read -r line; do
    printf '%s %s\n' "${EPOCHREALTIME/./}" "$line"
  done >"$log"
  return "${PIPESTATUS[0]}"
}

# ready_instant VERSION / boot_ms VERSION: from the service's own lines, in
# whichever log under this session holds them.
ready_instant() {
  grep -rhs -m1 "hello-service ready at [0-9]* port [0-9]* version $1\$" "$mode_dir" |
    grep -o 'ready at [0-9]*' | awk '{print $3}' | head -1
}
boot_ms() {
  grep -rhs -m1 "hello-service $1: ready [0-9]* ms after the process started\$" "$mode_dir" |
    grep -o 'ready [0-9]* ms' | awk '{print $2}' | head -1
}
# health_seen LOG: the epoch ms at which the deploy saw the new slot healthy.
health_seen() {
  local line
  line=$(grep -m1 -E 'Health check passed|: healthy|is healthy' "$1")
  [[ -n $line ]] && echo "$((${line%% *} / 1000))"
}

# cutover PHASE K VERSION [ENV=VALUE...]: one deploy under the running load,
# recorded in cutovers.txt as
#   phase k version started finished exit old_stopped ready boot health_seen
cutover() {
  local phase=$1 k=$2 version=$3
  shift 3
  local old_port old_pid started finished status old_stopped=0 deadline
  old_port=$(live_port)
  old_pid=$(listener_pid "$old_port")
  local deploy_log=$mode_dir/deploy-$phase-$k.log
  started=$(now_ms)
  deploy "$mode" "$(version_jar "$version")" "$version" "$deploy_log" "$@"
  status=$?
  finished=$(now_ms)
  # Old slot stopped: its process has exited (the window's end).
  deadline=$((finished + 60000))
  ((status == 0)) || old_pid=""  # a failed deploy leaves the old slot serving
  while [[ -n $old_pid ]] && kill -0 "$old_pid" 2>/dev/null && (($(now_ms) < deadline)); do sleep 0.02; done
  if [[ -n $old_pid ]] && ! kill -0 "$old_pid" 2>/dev/null; then old_stopped=$(now_ms); fi
  local ready boot seen
  ready=$(ready_instant "$version")
  boot=$(boot_ms "$version")
  seen=$(health_seen "$deploy_log")
  echo "$phase $k $version $started $finished $status $old_stopped ${ready:-0} ${boot:-0} ${seen:-0}" >>"$session_out/cutovers.txt"
  log "$mode: $phase cutover $k to $version: exit $status in $((finished - started)) ms"
  if ((status != 0)) && [[ $phase != unhealthy ]]; then tail -5 "$deploy_log" >&2; fi
  sleep "$pause"
  wait_one_slot 30 || true
}

# cutover_series PHASE: $cutovers cutovers in a row, to the versions after `v`
# (the caller's counter, which this advances).
cutover_series() {
  local phase=$1 k
  for k in $(seq 1 "$cutovers"); do
    v=$((v + 1))
    cutover "$phase" "$k" "1.0.$v"
  done
}

# wait_one_slot SECONDS: until at most one slot port listens.
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

start_wrk() { # OUT_PREFIX SECONDS
  local method
  for method in get post; do
    LOAD_RESULT=$1-$method.json wrk -t1 -c$((connections / 2)) -d"$2s" --timeout 10s \
      -s "$bench_dir/load.lua" "http://127.0.0.1:$nginx_port" -- "$method" >"$1-$method.txt" 2>&1 &
    load_pids+=($!)
  done
}

start_fixed_rate() { # OUT_DIR SECONDS
  local dir=$1 url="http://127.0.0.1:$nginx_port"
  node "$bench_dir/lib/pace.js" --url "$url" --rate "$rate" --out "$dir/pace.csv" \
    --big-every-ms "$big_every_ms" --max-seconds "$2" 2>"$dir/pace.log" &
  load_pids+=($!)
  # The real keep-alive clients, each at --client-rate (GET and POST alternating).
  local n=$((client_rate * $2))
  curl -s --keepalive-time 60 --rate "$((client_rate / 2 > 0 ? client_rate / 2 : 1))/s" -o /dev/null \
    -w 'GET,0,%{http_code},%header{x-app-version},%{exitcode}\n' "$url/?n=[1-$n]" >"$dir/curl-get.csv" 2>/dev/null &
  client_pids+=($!)
  curl -s --keepalive-time 60 --rate "$((client_rate / 2 > 0 ? client_rate / 2 : 1))/s" -o /dev/null \
    -H 'Content-Type: application/json' -d '{"greeting":"hello","n":12345}' \
    -w 'POST,0,%{http_code},%header{x-app-version},%{exitcode}\n' "$url/echo?n=[1-$n]" >"$dir/curl-post.csv" 2>/dev/null &
  client_pids+=($!)
  /usr/bin/python3 "$bench_dir/lib/keepalive_python.py" "$url" "$client_rate" "$dir/python.csv" &
  client_pids+=($!)
  java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx64m -cp "$work/classes" KeepAliveClient "$url" "$client_rate" \
    "$dir/java.csv" &
  client_pids+=($!)
}

# The closed-loop capacity: both wrk for 8 s against a settled service behind
# the baseline-direct nginx, no cutover; the fixed rate is a fraction of it.
measure_capacity() {
  mode=baseline-direct
  mode_dir=$work/capacity
  session_out=$out_dir/capacity
  mkdir -p "$session_out"
  pick_ports
  setup_session baseline-direct || return 1
  deploy baseline-direct "$(version_jar 1.0.1)" 1.0.1 "$mode_dir/deploy.log" BASELINE_INTERVAL=1 || return 1
  nginx_wait_settled "$mode_dir/nginx" 20 && wait_version "http://127.0.0.1:$nginx_port/version" 1.0.1 10 || return 1
  start_wrk "$session_out/warmup" 3
  stop_load_when_done
  start_wrk "$session_out/wrk" 8
  stop_load_when_done
  stop_mode_services
  nginx_stop "$mode_dir/nginx"
  /usr/bin/python3 - "$session_out" "$rate_fraction" <<'PY'
import json, sys
out, fraction = sys.argv[1], float(sys.argv[2])
total = 0.0
for method in ("get", "post"):
    load = json.load(open(f"{out}/wrk-{method}.json"))
    total += load["requests"] / (load["duration_us"] / 1e6)
print(max(1, round(total * fraction)))
json.dump({"closed_loop_rps": round(total), "fraction": fraction, "rate": max(1, round(total * fraction))},
          open(f"{out}/capacity.json", "w"))
PY
}
stop_load_when_done() {
  local pid
  for pid in "${load_pids[@]}"; do wait "$pid" 2>/dev/null; done
  load_pids=()
}

# drain_check: requests longer than drain_timeout across a seamless deploy.
drain_check() {
  local dir=$session_out/drain
  mkdir -p "$dir"
  local i method pids=() version=1.0.$((2 * cutovers + 3))
  for i in 1 2 3 4; do
    method=GET
    ((i > 2)) && method=POST
    curl -s -o /dev/null -m 30 -X "$method" -w "$method,%{http_code},%header{x-app-version},%{exitcode},%{time_total}\n" \
      "http://127.0.0.1:$nginx_port/slow?ms=8000&id=drain-$i" >"$dir/slow-$i.txt" 2>/dev/null &
    pids+=($!)
  done
  sleep 0.5
  cutover drain 1 "$version" SWITCHYARD_TARGET__DRAIN_TIMEOUT=1s SWITCHYARD_TARGET__STOP_GRACE=2s
  for i in "${pids[@]}"; do wait "$i"; done
  cp "$mode_dir/deploy-drain-1.log" "$dir/deploy.log"
}

run_session() { # MODE ROUND
  mode=$1
  local round=$2 kind=${1%%-*}
  mode_dir=$work/r$round-$mode
  session_out=$out_dir/r$round-$mode
  mkdir -p "$session_out"
  pick_ports
  log "$mode (round $round): nginx on 127.0.0.1:$nginx_port, slots $port_blue and $port_green; $(machine_line)"
  printf 'mode %s\nround %s\nstarted_utc %s\nnproc %s\nloadavg_start %s\n' "$mode" "$round" \
    "$(date -u +%FT%TZ)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" >"$session_out/meta.txt"
  : >"$session_out/cutovers.txt"
  setup_session "$mode" || { stop_mode_services; return 1; }
  cp "$mode_dir/nginx/conf/nginx.conf" "$session_out/nginx.conf"
  if ! deploy "$mode" "$(version_jar 1.0.1)" 1.0.1 "$mode_dir/deploy-first.log" BASELINE_INTERVAL=1; then
    log "$mode: the first deploy failed"
    tail -20 "$mode_dir/deploy-first.log" >&2
    stop_mode_services
    return 1
  fi
  if ! nginx_wait_settled "$mode_dir/nginx" 20 || ! wait_version "http://127.0.0.1:$nginx_port/version" 1.0.1 10; then
    stop_mode_services
    return 1
  fi
  local cap=$(((2 * cutovers + 2) * (deploy_timeout + pause) + 60)) v=1

  # 1. Closed loop.
  start_wrk "$session_out/closed" "$cap"
  sleep 2
  cutover_series closed
  if ((unhealthy)) && [[ $kind != baseline ]]; then
    cutover unhealthy 1 1.0.99-unhealthy SWITCHYARD_TARGET__ENVIRONMENT__FAIL_HEALTH=1 SWITCHYARD_HEALTH__TIMEOUT=5s
  fi
  stop_load

  # 2. Fixed rate, long requests and the keep-alive clients.
  start_fixed_rate "$session_out" "$cap"
  sleep 3
  cutover_series fixed
  sleep 2
  stop_load

  if ((drain_check)) && [[ $mode == seamless && $round == 1 ]]; then
    drain_check
  fi
  if [[ -f $mode_dir/state/history.jsonl ]]; then cp "$mode_dir/state/history.jsonl" "$session_out/history.jsonl"; fi
  nginx_stop "$mode_dir/nginx" # flushes its logs
  if [[ -f $mode_dir/nginx/logs/long.log ]]; then cp "$mode_dir/nginx/logs/long.log" "$session_out/long.log"; fi
  printf 'loadavg_end %s\nended_utc %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" "$(date -u +%FT%TZ)" >>"$session_out/meta.txt"
  stop_mode_services
  nginx_stop "$mode_dir/nginx"
}

{
  echo "command $command_line"
  echo "started_utc $(date -u +%FT%TZ)"
  echo "nproc $(nproc)"
  echo "cpu $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
  echo "loadavg_start $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "nginx $(nginx -v 2>&1 | sed 's/.*\///')"
  echo "java $(java -version 2>&1 | head -1 | tr -d '"')"
  echo "wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
  echo "node $(node --version)"
  echo "rounds $rounds"
  echo "cutovers $cutovers"
  echo "connections $connections"
  echo "client_rate $client_rate"
  echo "big_every_ms $big_every_ms"
  echo "rate_fraction $rate_fraction"
} >"$out_dir/run.txt"

if [[ -z $rate ]]; then
  log "measuring the closed-loop capacity; $(machine_line)"
  rate=$(measure_capacity | tail -1)
  [[ $rate =~ ^[0-9]+$ ]] || { log "the capacity measurement failed"; exit 1; }
  log "fixed rate: $rate requests/s ($rate_fraction of the closed-loop capacity)"
fi
echo "rate $rate" >>"$out_dir/run.txt"

failed_sessions=0
for round in $(seq 1 "$rounds"); do
  for mode in "${mode_list[@]}"; do
    if ! run_session "$mode" "$round"; then
      log "$mode (round $round): failed; see above"
      failed_sessions=$((failed_sessions + 1))
      echo "failed 1" >>"$session_out/meta.txt"
    fi
  done
done

/usr/bin/python3 "$bench_dir/lib/cutover_report.py" --results "$out_dir" || exit 1
((failed_sessions == 0)) || { log "$failed_sessions session(s) failed"; exit 1; }
