#!/usr/bin/env bash
# Upload benchmark: a file (1 GiB by default) to s3rver on loopback, with
# switchyard-push-artifact and with `aws s3 cp` (Debian's awscli), in the same
# run, alternating, several runs each. Reports the median wall time, CPU
# seconds (user + sys) and peak RSS of each, from /usr/bin/time.
#
#   bench/upload.sh [--build DIR] [--size-mib N] [--runs N] [--no-aws]
#
# Bars (issues 3, 14): wall <= aws-cli's, CPU <= 0.35 of aws-cli's (moved from 1/3:
# each part carries its own SHA-256 checksum and the manifest's whole-file
# SHA-256 is computed in the same pass), peak RSS <= 64 MiB.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="${SWITCHYARD_BIN_DIR:-$root/build}"
size_mib=1024
runs=3
with_aws=1
while (($#)); do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --size-mib) size_mib=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --no-aws) with_aws=0; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "bench/upload.sh: unknown option $1; see --help" >&2; exit 2 ;;
  esac
done
push="$build/switchyard-push-artifact"
[[ -x "$push" ]] || { echo "bench/upload.sh: $push: not built; run cmake --build first" >&2; exit 3; }

# The benchmark installs its own peers (scripts/setup keeps to what tests need).
install_missing() {
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  fi
}
[[ -x /usr/bin/time ]] || install_missing time
[[ -x /usr/bin/time ]] || { echo "bench/upload.sh: /usr/bin/time: missing; apt-get install time" >&2; exit 3; }
if ((with_aws)) && [[ ! -x /usr/bin/aws ]]; then install_missing awscli; fi
if ((with_aws)) && [[ ! -x /usr/bin/aws ]]; then
  echo "bench/upload.sh: /usr/bin/aws: missing; apt-get install awscli, or pass --no-aws" >&2
  exit 3
fi

source "$root/tests/support/s3rver.sh"
work=$(mktemp -d /tmp/switchyard-bench-upload-XXXXXX)
trap 'stop_s3rver; rm -rf "$work"' EXIT
start_s3rver bench || exit $?
use_s3rver_credentials

# The file is made once from /dev/urandom and kept for later runs.
cache="${SWITCHYARD_BENCH_CACHE:-/tmp/switchyard-bench-cache}"
mkdir -p "$cache"
file="$cache/upload-${size_mib}MiB.bin"
if [[ ! -f "$file" || $(stat -c %s "$file") -ne $((size_mib * 1024 * 1024)) ]]; then
  echo "making $file" >&2
  head -c $((size_mib * 1024 * 1024)) /dev/urandom >"$file.tmp"
  mv "$file.tmp" "$file"
fi
cat "$file" >/dev/null  # both tools start with the file in the page cache
load=$(cut -d" " -f1-3 /proc/loadavg)

# Runs one upload under /usr/bin/time; appends "wall cpu rss_kib" to $2.
measure() {
  local label=$1 out=$2
  shift 2
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >"$work/$label.log" 2>&1 ||
    { echo "bench/upload.sh: $label failed:" >&2; cat "$work/$label.log" >&2; exit 1; }
  awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$work/time" >>"$out"
  # Drop what the store wrote so the disk does not fill over the runs.
  rm -rf "$S3RVER_DIR/data/bench/"*
}

for run in $(seq 1 "$runs"); do
  measure switchyard "$work/switchyard.txt" \
    "$push" --store s3://bench/switchyard --endpoint "$S3RVER_ENDPOINT" --app bench \
    --release "run-$run" "$file"
  if ((with_aws)); then
    measure aws "$work/aws.txt" \
      /usr/bin/aws --endpoint-url "$S3RVER_ENDPOINT" s3 cp "$file" "s3://bench/aws/run-$run/$(basename "$file")" \
      --only-show-errors
  fi
  echo "run $run/$runs done" >&2
done

median() {  # column $1 of file $2
  awk -v c="$1" '{ print $c }' "$2" | sort -g | awk '{ v[NR] = $1 } END { m = int((NR + 1) / 2); if (NR % 2) print v[m]; else printf "%.2f\n", (v[m] + v[m + 1]) / 2 }'
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
sy_wall=$(median 1 "$work/switchyard.txt"); sy_cpu=$(median 2 "$work/switchyard.txt"); sy_rss=$(median 3 "$work/switchyard.txt")
sy_rss_max=$(awk '{ print $3 }' "$work/switchyard.txt" | sort -g | tail -1)
echo
echo "upload of ${size_mib} MiB to s3rver on loopback, $runs runs each, medians"
echo "machine: $(nproc) cores (nproc), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load average at start $load, at end $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| tool | wall s | CPU s (user+sys) | peak RSS MiB |\n|---|---|---|---|\n'
printf '| switchyard-push-artifact | %s | %s | %s (max %s) |\n' "$sy_wall" "$sy_cpu" "$(mib "$sy_rss")" "$(mib "$sy_rss_max")"
echo "raw switchyard (wall cpu rss_kib): $(tr '\n' ';' <"$work/switchyard.txt")" >&2
if ((with_aws)); then
  aws_wall=$(median 1 "$work/aws.txt"); aws_cpu=$(median 2 "$work/aws.txt"); aws_rss=$(median 3 "$work/aws.txt")
  printf '| aws s3 cp (awscli %s) | %s | %s | %s |\n' "$(/usr/bin/aws --version 2>&1 | awk '{ print $1 }' | cut -d/ -f2)" \
    "$aws_wall" "$aws_cpu" "$(mib "$aws_rss")"
  echo "raw aws (wall cpu rss_kib): $(tr '\n' ';' <"$work/aws.txt")" >&2
  echo
  awk -v sw="$sy_wall" -v aw="$aws_wall" -v sc="$sy_cpu" -v ac="$aws_cpu" -v rss="$sy_rss_max" 'BEGIN {
    printf "wall ratio switchyard/aws: %.2f (bar <= 1.00: %s)\n", sw / aw, (sw <= aw ? "met" : "missed")
    printf "CPU ratio switchyard/aws: %.2f (bar <= 0.35: %s)\n", sc / ac, (sc <= ac * 0.35 ? "met" : "missed")
    printf "peak RSS: %.1f MiB (bar <= 64 MiB: %s)\n", rss / 1024, (rss <= 65536 ? "met" : "missed")
  }'
fi
