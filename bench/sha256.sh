#!/usr/bin/env bash
# SHA-256 of a file (1 GiB by default): switchyard (`switchyard-push-artifact
# --dry-run --json`, which hashes the file and changes nothing) against
# coreutils' sha256sum, alternating, with the file in the page cache. Reports
# every run, the median wall time of each and its throughput in GB/s (10^9
# bytes a second), checks that both print the same digest, and records what
# the figure depends on: the CPU model, its SHA extensions (the sha_ni flag),
# the OpenSSL version and its own `openssl speed -evp sha256` on 1 MiB blocks
# in the same run (the CPU's ceiling), with nproc and the load average.
#
#   bench/sha256.sh [--build DIR] [--size-mib N] [--runs N]
#
# Bar (issues 3, 14): switchyard >= 1.5 GB/s (median); sha256sum is the peer.
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
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
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
load=$(cut -d' ' -f1-3 /proc/loadavg)
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
bytes=$((size_mib * 1024 * 1024))
sha_ni=$(grep -m1 '^flags' /proc/cpuinfo | grep -qw sha_ni && echo yes || echo no)
# The CPU's own ceiling in this run: OpenSSL's EVP SHA-256 on 1 MiB blocks.
ceiling=$(openssl speed -evp sha256 -bytes 1048576 -seconds 2 2>/dev/null |
  awk '/^sha256/ { v = $NF; sub(/k$/, "", v); printf "%.2f", v * 1000 / 1e9 }')
gbps() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.2f", b / s / 1e9 }'; }
echo
echo "sha256 of ${size_mib} MiB (page cache), $runs runs each, medians"
echo "machine: $(nproc) cores (nproc), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), SHA extensions (sha_ni): $sha_ni, OpenSSL $(openssl version | awk '{ print $2 }') (openssl speed -evp sha256, 1 MiB blocks: ${ceiling:-n/a} GB/s), load average at start $load, at end $(cut -d' ' -f1-3 /proc/loadavg)"
# GB/s per CPU second too: on a busy machine the wall time is mostly waiting for a CPU.
printf '| tool | wall s | CPU s (user+sys) | GB/s (wall) | GB/s (CPU) |\n|---|---|---|---|---|\n'
printf '| switchyard-push-artifact --dry-run | %s | %s | %s | %s |\n' "$sy" "$sy_cpu" "$(gbps "$sy")" "$(gbps "$sy_cpu")"
printf '| sha256sum (coreutils) | %s | %s | %s | %s |\n' "$ref" "$ref_cpu" "$(gbps "$ref")" "$(gbps "$ref_cpu")"
awk -v g="$(gbps "$sy")" -v c="$(gbps "$sy_cpu")" 'BEGIN { printf "\nbar: switchyard >= 1.5 GB/s: %s (%.2f GB/s wall; %.2f GB/s per CPU second)\n", (g >= 1.5 ? "met" : "missed"), g, c }'
echo "raw (wall user sys) switchyard: $(tr '\n' ';' <"$work/switchyard.txt") sha256sum: $(tr '\n' ';' <"$work/sha256sum.txt")"
