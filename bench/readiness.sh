#!/usr/bin/env bash
# bench/readiness.sh [options]: how soon a health check notices that a service
# is ready (issue 2).
#
# Each run starts the sample service (examples/hello-service) with
# STARTUP_DELAY_MS on a free loopback port and, at the same instant, the
# health check. The delay measured is from the service's own "hello-service
# ready at <epoch-ms>" line to the instant the check returned. Two checks run
# in the same benchmark:
#   switchyard  switchyard-verify-health URL (defaults: first probe at once,
#               then every 100 ms)
#   users       the users' loop (DESIGN.md, "The baseline to beat"): sleep 10,
#               then curl every 10 s, up to 10 times
#   floor       switchyard-verify-health --interval 5ms: what is left when the
#               probe interval is (almost) taken away, i.e. the service's own
#               first answer and the process exit; the default's delay minus
#               this is what the 100 ms interval costs
# A users' run takes at least 10 s, so it runs fewer times (--peer-runs).
#
# Options:
#   --build DIR          build directory with switchyard-verify-health and
#                        sample/hello-service.jar (default ./build)
#   --jar FILE           the sample service jar (default DIR/sample/hello-service.jar)
#   --runs N             switchyard runs (default 20)
#   --peer-runs N        users' loop runs (default 3; 0 skips the peer)
#   --floor-runs N       runs with a 5 ms probe interval (default 10; 0 skips them)
#   --delay MS           the service's STARTUP_DELAY_MS (default 1500)
#   --out FILE           also write the results as JSON to FILE
set -uo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$bench_dir/.." && pwd)
build_dir=$source_dir/build
jar=""
runs=20
peer_runs=3
floor_runs=10
delay_ms=1500
out_file=""

while (($# > 0)); do
  case $1 in
    --build) build_dir=$2; shift 2 ;;
    --jar) jar=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --peer-runs) peer_runs=$2; shift 2 ;;
    --floor-runs) floor_runs=$2; shift 2 ;;
    --delay) delay_ms=$2; shift 2 ;;
    --out) out_file=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//;/^set -uo/d'; exit 0 ;;
    *) echo "$1: unknown option; see bench/readiness.sh --help" >&2; exit 2 ;;
  esac
done

verify_health=$build_dir/switchyard-verify-health
jar=${jar:-$build_dir/sample/hello-service.jar}
for needed in "$verify_health" "$jar"; do
  if [[ ! -e $needed ]]; then
    echo "$needed: not found; build first (cmake --build build), or pass --build/--jar" >&2
    exit 3
  fi
done
for tool in java curl; do
  if ! command -v "$tool" >/dev/null; then
    echo "$tool: not found; run scripts/setup" >&2
    exit 3
  fi
done

work=$(mktemp -d)
service_pid=""
cleanup() {
  if [[ -n $service_pid ]]; then kill "$service_pid" 2>/dev/null; wait "$service_pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

now_ms() { date +%s%3N; }

# Starts the service in the background on $port; its stdout goes to $work/service.log.
start_service() {
  STARTUP_DELAY_MS=$delay_ms java -XX:TieredStopAtLevel=1 -Xshare:auto -XX:+UseSerialGC \
    -jar "$jar" --server.port="$port" >"$work/service.log" 2>&1 &
  service_pid=$!
}

stop_service() {
  kill "$service_pid" 2>/dev/null
  wait "$service_pid" 2>/dev/null
  service_pid=""
}

# The epoch-ms of the service's ready line (waits up to 10 s for it).
ready_at() {
  local line
  for _ in $(seq 100); do
    line=$(grep -m1 'hello-service ready at ' "$work/service.log")
    if [[ -n $line ]]; then
      awk '{print $4}' <<<"$line"
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# The users' loop, as DESIGN.md describes it.
users_loop() {
  local url=$1
  sleep 10
  for _ in $(seq 10); do
    if curl -fsS -o /dev/null --max-time 5 "$url"; then return 0; fi
    sleep 10
  done
  return 1
}

# One measurement: "<check> <delay-ms>" appended to $work/delays.
measure() {
  local check=$1 port url done_at ready
  port=$(free_port)
  url="http://127.0.0.1:$port/actuator/health"
  start_service
  if [[ $check == switchyard || $check == floor ]]; then
    local interval=100ms
    [[ $check == floor ]] && interval=5ms
    "$verify_health" --timeout 30s --interval "$interval" "$url" 2>"$work/verify.log" || {
      echo "switchyard-verify-health failed:" >&2
      cat "$work/verify.log" >&2
      return 1
    }
  else
    users_loop "$url" || { echo "the users' loop never saw the service healthy" >&2; return 1; }
  fi
  done_at=$(now_ms)
  ready=$(ready_at) || { echo "the service never printed its ready line" >&2; return 1; }
  stop_service
  echo "$check $((done_at - ready))" >>"$work/delays"
  echo "  $check run: $((done_at - ready)) ms after ready" >&2
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "readiness: $runs switchyard runs, $floor_runs floor runs, $peer_runs users' loop runs, STARTUP_DELAY_MS=$delay_ms" >&2
# Interleaved, so a change in the machine's load hits both alike.
for ((i = 1; i <= runs || i <= floor_runs; ++i)); do
  if ((i <= runs)); then measure switchyard || exit 1; fi
  if ((i <= floor_runs)); then measure floor || exit 1; fi
done
for ((i = 1; i <= peer_runs; ++i)); do
  measure users || exit 1
done

/usr/bin/python3 - "$work/delays" "$out_file" "$runs" "$peer_runs" "$delay_ms" "$load_start" <<'PY'
import json, os, platform, statistics, sys

path, out_file, runs, peer_runs, delay_ms, load_start = sys.argv[1:]
delays = {}
for line in open(path):
    check, ms = line.split()
    delays.setdefault(check, []).append(int(ms))

def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()

result = {"machine": {"nproc": os.cpu_count(), "cpu": cpu_model()},
          "startup_delay_ms": int(delay_ms), "checks": {}}
print("| check | runs | median ms | min ms | max ms |")
print("|---|---|---|---|---|")
for check in ("switchyard", "floor", "users"):
    values = delays.get(check)
    if not values:
        continue
    median = statistics.median(values)
    result["checks"][check] = {"runs": len(values), "median_ms": median,
                               "min_ms": min(values), "max_ms": max(values), "delays_ms": values}
    print(f"| {check} | {len(values)} | {median:g} | {min(values)} | {max(values)} |")
checks = result["checks"]
if "switchyard" in checks and "users" in checks and checks["switchyard"]["median_ms"] > 0:
    ratio = checks["users"]["median_ms"] / checks["switchyard"]["median_ms"]
    result["users_over_switchyard"] = ratio
    print(f"\nusers' loop / switchyard (medians): {ratio:.0f}x")
bar = checks.get("switchyard", {}).get("median_ms")
if bar is not None:
    print(f"bar: switchyard median <= 100 ms: {'met' if bar <= 100 else 'missed'} ({bar:g} ms)")
load = open("/proc/loadavg").read().split()[:3]
result["machine"]["loadavg"] = load
result["machine"]["loadavg_start"] = load_start.split()
print(f"machine: {result['machine']['nproc']} CPUs (nproc), {result['machine']['cpu']}, "
      f"load average at start {load_start}, at end {' '.join(load)}")
if out_file:
    with open(out_file, "w") as f:
        json.dump(result, f, indent=2)
PY
