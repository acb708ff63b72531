#!/usr/bin/env bash
# bench/version-startup.sh [options]: the wall time of `switchyard-verify-health
# --version` (issue 2): what starting a step costs, paid by every CI step.
# Peer in the same run: `aws --version` (Debian's awscli, /usr/bin/aws), the
# tool the users' pipelines call for the same kind of step.
#
# It uses hyperfine (no shell in between, warm-up runs first) when installed,
# else a loop timing each run with date +%s%N.
#
# Options:
#   --build DIR     build directory with switchyard-verify-health (default ./build)
#   --runs N        timed runs of each command (default 200; aws gets N/10, at least 10)
#   --aws PATH      the aws-cli to compare with (default /usr/bin/aws; "none" skips it)
#   --out FILE      also write the results as JSON to FILE
set -uo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$bench_dir/.." && pwd)
build_dir=$source_dir/build
runs=200
aws=/usr/bin/aws
out_file=""

while (($# > 0)); do
  case $1 in
    --build) build_dir=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --aws) aws=$2; shift 2 ;;
    --out) out_file=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//;/^set -uo/d'; exit 0 ;;
    *) echo "$1: unknown option; see bench/version-startup.sh --help" >&2; exit 2 ;;
  esac
done

verify_health=$build_dir/switchyard-verify-health
if [[ ! -x $verify_health ]]; then
  echo "$verify_health: not found; build first (cmake --build build), or pass --build" >&2
  exit 3
fi
if [[ $aws != none && ! -x $aws ]]; then
  echo "$aws: not found; apt-get install awscli (scripts/setup does), or pass --aws none" >&2
  exit 3
fi
aws_runs=$((runs / 10 > 10 ? runs / 10 : 10))

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Times `runs` executions of a command with a loop; prints one duration (ms) per line.
time_loop() {
  local count=$1
  shift
  for _ in 1 2 3; do "$@" >/dev/null 2>&1; done  # warm-up: page cache, dynamic loader
  for ((i = 0; i < count; ++i)); do
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    awk -v start="$start" -v end="$end" 'BEGIN { printf "%.3f\n", (end - start) / 1e6 }'
  done
}

# measure NAME RUNS COMMAND...: writes $work/NAME.times (ms per run).
measure() {
  local name=$1 count=$2
  shift 2
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 5 --runs "$count" --export-json "$work/$name.json" "$*" >/dev/null 2>&1 || return 1
    /usr/bin/python3 -c 'import json,sys; [print(t*1000) for t in json.load(open(sys.argv[1]))["results"][0]["times"]]' \
      "$work/$name.json" >"$work/$name.times"
  else
    time_loop "$count" "$@" >"$work/$name.times"
  fi
}

tool=$(command -v hyperfine >/dev/null && echo "hyperfine -N --warmup 5" || echo "a date +%s%N loop")
echo "version-startup: $runs runs of switchyard-verify-health --version, $aws_runs of aws --version ($tool)" >&2
measure switchyard "$runs" "$verify_health" --version || { echo "timing switchyard-verify-health failed" >&2; exit 1; }
if [[ $aws != none ]]; then
  measure aws "$aws_runs" "$aws" --version || { echo "timing aws --version failed" >&2; exit 1; }
fi

/usr/bin/python3 - "$work" "$out_file" "$tool" <<'PY'
import json, os, statistics, sys

work, out_file, tool = sys.argv[1:]

def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"

result = {"tool": tool, "machine": {"nproc": os.cpu_count(), "cpu": cpu_model()}, "commands": {}}
print("| command | runs | median ms | min ms | max ms |")
print("|---|---|---|---|---|")
for name, label in (("switchyard", "switchyard-verify-health --version"), ("aws", "aws --version")):
    path = os.path.join(work, name + ".times")
    if not os.path.exists(path):
        continue
    times = [float(line) for line in open(path) if line.strip()]
    median = statistics.median(times)
    result["commands"][name] = {"command": label, "runs": len(times), "median_ms": median,
                                "min_ms": min(times), "max_ms": max(times)}
    print(f"| `{label}` | {len(times)} | {median:.1f} | {min(times):.1f} | {max(times):.1f} |")
commands = result["commands"]
if "aws" in commands:
    ratio = commands["aws"]["median_ms"] / commands["switchyard"]["median_ms"]
    result["aws_over_switchyard"] = ratio
    print(f"\naws --version / switchyard-verify-health --version (medians): {ratio:.0f}x")
median = commands["switchyard"]["median_ms"]
print(f"bar: median <= 20 ms: {'met' if median <= 20 else 'NOT met'} ({median:.1f} ms)")
load = open("/proc/loadavg").read().split()[:3]
result["machine"]["loadavg"] = load
print(f"machine: {result['machine']['nproc']} CPUs, {result['machine']['cpu']}, load average {' '.join(load)}")
if out_file:
    with open(out_file, "w") as f:
        json.dump(result, f, indent=2)
PY
