#!/usr/bin/env bash
# Fuzzes one libFuzzer target for a few seconds from its committed seeds and
# regressions, into a scratch corpus (the committed one stays small):
#   run_target.sh BINARY SECONDS WORK_DIR SEEDS_DIR [REGRESSIONS_DIR]
# Exit 0 when no crash, leak, timeout or sanitizer report; else libFuzzer's
# status, with the reproducer in WORK_DIR/.
set -euo pipefail
binary=$1 seconds=$2 work=$3 seeds=$4 regressions=${5:-}
mkdir -p "$work/corpus"
dirs=("$work/corpus" "$seeds")
if [[ -n $regressions && -d $regressions ]]; then dirs+=("$regressions"); fi
cd "$work"
exec "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/" "${dirs[@]}"
