#!/usr/bin/env bash
# SHA-256 of a file (1 GiB by default): switchyard (`switchyard-push-artifact
# --dry-run --json`, which hashes the file and changes nothing) against
# coreutils' sha256sum, alternating, with the file in the page cache. Reports
# the median wall time of each and checks that both print the same digest.
#
#   bench/sha256.sh [--build DIR] [--size-mib N] [--runs N]
#
# Bar (issue 3): switchyard at least as fast as sha256sum.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="${SWITCHYARD_BIN_DIR:-$root/build}"
size_mib=1024
runs=5
while (($#)); do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --size-mib) size_mib=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "bench/sha256.sh: unknown option $1; see --help" >&2; exit 2 ;;
  esac
done
push="$build/switchyard-push-artifact"
[[ -x "$push" ]] || { echo "bench/sha256.sh: $push: not built; run cmake --build first" >&2; exit 3; }

cache="${SWITCHYARD_BENCH_CACHE:-/tmp/switchyard-bench-cache}"
mkdir -p "$cache"
file="$cache/upload-${size_mib}MiB.bin"
if [[ ! -f "$file" || $(stat -c %s "$file") -ne $((size_mib * 1024 * 1024)) ]]; then
  echo "making $file" >&2
  head -c $((size_mib * 1024 * 1024)) /dev/urandom >"$file.tmp"
  mv "$file.tmp" "$file"
fi
work=$(mktemp -d /tmp/switchyard-bench-sha256-XXXXXX)
trap 'rm -rf "$work"' EXIT
cat "$file" >/dev/null

[[ -x /usr/bin/time ]] || { echo "bench/sha256.sh: /usr/bin/time: missing; apt-get install time" >&2; exit 3; }
load=$(cut -d' ' -f1 /proc/loadavg)
for run in $(seq 1 "$runs"); do
  /usr/bin/time -f "%e %U %S" -a -o "$work/switchyard.txt" \
    "$push" --dry-run --json --store "file://$work/store" --app bench --release bench "$file" \
    2>/dev/null >"$work/switchyard.json"
  /usr/bin/time -f "%e %U %S" -a -o "$work/sha256sum.txt" sha256sum "$file" >"$work/sha256sum.out"
done
ours=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sha256"])' "$work/switchyard.json")
theirs=$(cut -d' ' -f1 "$work/sha256sum.out")
[[ "$ours" == "$theirs" ]] || { echo "bench/sha256.sh: digests differ: $ours vs $theirs" >&2; exit 1; }

median() {  # column $1 of file $2; column 4 is user+sys
  awk -v c="$1" '{ print (c == 4 ? $2 + $3 : $c) }' "$2" | sort -g |
    awk '{ v[NR] = $1 } END { m = int((NR + 1) / 2); if (NR % 2) printf "%.2f\n", v[m]; else printf "%.2f\n", (v[m] + v[m + 1]) / 2 }'
}
sy=$(median 1 "$work/switchyard.txt"); sy_cpu=$(median 4 "$work/switchyard.txt")
ref=$(median 1 "$work/sha256sum.txt"); ref_cpu=$(median 4 "$work/sha256sum.txt")
echo
echo "sha256 of ${size_mib} MiB (page cache), $runs runs each, medians"
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), OpenSSL $(openssl version | awk '{ print $2 }'), load average at start $load"
printf '| tool | wall s | CPU s (user+sys) | MiB/s (wall) |\n|---|---|---|---|\n'
awk -v s="$sy" -v c="$sy_cpu" -v n="$size_mib" 'BEGIN { printf "| switchyard-push-artifact --dry-run | %.2f | %.2f | %.0f |\n", s, c, n / s }'
awk -v s="$ref" -v c="$ref_cpu" -v n="$size_mib" 'BEGIN { printf "| sha256sum (coreutils) | %.2f | %.2f | %.0f |\n", s, c, n / s }'
awk -v a="$sy" -v b="$ref" 'BEGIN { printf "\nratio switchyard/sha256sum (wall): %.2f (bar <= 1.00: %s)\n", a / b, (a <= b ? "met" : "NOT met") }'
echo "raw (wall user sys) switchyard: $(tr '\n' ';' <"$work/switchyard.txt") sha256sum: $(tr '\n' ';' <"$work/sha256sum.txt")" >&2
