#!/usr/bin/env bash
# bench/startup.sh [options]: the start-up cost of every released executable
# (issue 12): `<program> --version` for the static release build (the
# tarball scripts/release made, unpacked here) beside the dynamically linked
# developer build and `aws --version`, all in the same run; and the
# dispatcher's overhead, `switchyard verify-health --version` over
# `switchyard-verify-health --version` (static).
#
# Bars: every static executable's median <= 5 ms; dispatcher overhead
# (difference of medians) <= 1 ms. A missed bar prints "missed".
# hyperfine -N (no shell in between, warm-up runs first) times each command;
# the load average is printed beside every round, since the machine is shared.
#
# Options:
#   --tarball FILE  the release tarball (default dist/switchyard-<version>-linux-x86_64.tar.gz)
#   --build DIR     the dynamically linked build (default ./build; "none" skips it)
#   --runs N        timed runs of each command per round (default 100; aws gets 10)
#   --rounds N      rounds of the whole set (default 3)
#   --aws PATH      the aws-cli to compare with (default /usr/bin/aws; "none" skips it)
#   --out FILE      also write every run's times as JSON to FILE
set -uo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$bench_dir/.." && pwd)
version=$(sed -n 's/^project(switchyard VERSION \([0-9.]*\).*/\1/p' "$source_dir/CMakeLists.txt")
tarball=$source_dir/dist/switchyard-$version-linux-x86_64.tar.gz
build_dir=$source_dir/build
runs=100
rounds=3
aws=/usr/bin/aws
out_file=""

while (($# > 0)); do
  case $1 in
    --tarball) tarball=$2; shift 2 ;;
    --build) build_dir=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --aws) aws=$2; shift 2 ;;
    --out) out_file=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//;/^set -uo/d'; exit 0 ;;
    *) echo "startup: '$1' is not an option; see bench/startup.sh --help" >&2; exit 2 ;;
  esac
done

command -v hyperfine >/dev/null || { echo "startup: hyperfine is not installed; scripts/setup installs it" >&2; exit 3; }
[[ -f $tarball ]] || { echo "startup: $tarball: not built; run scripts/release, or pass --tarball" >&2; exit 3; }
if [[ $aws != none && ! -x $aws ]]; then
  echo "startup: $aws: not found; apt-get install awscli (scripts/setup does), or pass --aws none" >&2
  exit 3
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$tarball" -C "$work"
static_dir=$(echo "$work"/switchyard-*/bin)

programs=(switchyard)
for main in "$source_dir"/steps/*/main.cpp; do
  programs+=("switchyard-$(basename "$(dirname "$main")")")
done
if [[ $build_dir != none ]]; then
  for program in "${programs[@]}"; do
    [[ -x $build_dir/$program ]] || { echo "startup: $build_dir/$program: not built; build it, or pass --build none" >&2; exit 3; }
  done
fi

# measure NAME RUNS COMMAND...: appends the times (ms) to $work/NAME.times.
measure() {
  local name=$1 count=$2
  shift 2
  hyperfine -N --warmup 5 --runs "$count" --export-json "$work/$name.json" "$*" >/dev/null 2>&1 || {
    echo "startup: timing '$*' failed" >&2
    exit 1
  }
  /usr/bin/python3 -c 'import json,sys; [print(t*1000) for t in json.load(open(sys.argv[1]))["results"][0]["times"]]' \
    "$work/$name.json" >>"$work/$name.times"
}

echo "startup: $rounds rounds of $runs runs of each --version (hyperfine -N --warmup 5)" >&2
: >"$work/loads"
for ((round = 1; round <= rounds; ++round)); do
  cut -d' ' -f1-3 /proc/loadavg >>"$work/loads"
  for program in "${programs[@]}"; do
    measure "static.$program" "$runs" "$static_dir/$program" --version
    [[ $build_dir != none ]] && measure "dynamic.$program" "$runs" "$build_dir/$program" --version
  done
  measure dispatcher "$runs" "$static_dir/switchyard" verify-health --version
  [[ $aws != none ]] && measure aws 10 "$aws" --version
  echo "startup: round $round done (load average $(tail -1 "$work/loads"))" >&2
done

/usr/bin/python3 - "$work" "$out_file" "$rounds" "$runs" "${programs[@]}" <<'PY'
import json, os, statistics, sys

work, out_file, rounds, runs, *programs = sys.argv[1:]
rounds, runs = int(rounds), int(runs)

def per_round(values, count):
    return " / ".join(f"{statistics.median(values[i * count:(i + 1) * count]):.2f}" for i in range(rounds))

def times(name):
    path = os.path.join(work, name + ".times")
    if not os.path.exists(path):
        return None
    return [float(line) for line in open(path) if line.strip()]

def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"

result = {"rounds": rounds, "runs": runs, "loadavg_per_round": [l.split() for l in open(os.path.join(work, "loads"))],
          "machine": {"nproc": os.cpu_count(), "cpu": cpu_model()}, "commands": {}}
print("| program `--version` | static median ms | static min ms | static worst ms | dynamic median ms | dynamic min ms | dynamic worst ms | bar (static median <= 5 ms) |")
print("|---|---|---|---|---|---|---|---|")
missed = False
for program in programs:
    s, d = times("static." + program), times("dynamic." + program)
    median = statistics.median(s)
    met = median <= 5.0
    missed |= not met
    result["commands"]["static." + program] = s
    row = f"| `{program}` | {median:.2f} | {min(s):.2f} | {max(s):.2f} | "
    if d:
        result["commands"]["dynamic." + program] = d
        row += f"{statistics.median(d):.2f} | {min(d):.2f} | {max(d):.2f} | "
    else:
        row += "- | - | - | "
    print(row + ("met" if met else "**missed**") + " |")

direct = statistics.median(times("static.switchyard-verify-health"))
through = times("dispatcher")
result["commands"]["dispatcher"] = through
overhead = statistics.median(through) - direct
print()
print(f"dispatcher: `switchyard verify-health --version` median {statistics.median(through):.2f} ms "
      f"(worst {max(through):.2f}) vs `switchyard-verify-health --version` {direct:.2f} ms: "
      f"overhead {overhead:.2f} ms, bar <= 1 ms {'met' if overhead <= 1.0 else '**missed**'}")
aws = times("aws")
if aws:
    result["commands"]["aws"] = aws
    print(f"aws --version: median {statistics.median(aws):.1f} ms, worst {max(aws):.1f} ms ({len(aws)} runs)")
print()
rows = [(f"{p}", times("static." + p)) for p in programs] + [("switchyard verify-health", through)]
print("median of each round (ms), static: " + "; ".join(f"{label} {per_round(values, runs)}" for label, values in rows))
print(f"machine: {result['machine']['nproc']} CPUs, {result['machine']['cpu']}; load average per round: "
      + "; ".join(" ".join(l) for l in result["loadavg_per_round"]))
if out_file:
    with open(out_file, "w") as f:
        json.dump(result, f, indent=1)
PY
