#!/usr/bin/env bash
# A short run of bench/sha256.sh (16 MiB, one run) so the benchmark cannot
# rot; it also fails when switchyard's digest differs from sha256sum's.
set -euo pipefail
root="${SWITCHYARD_SOURCE_DIR:?}"
[[ -x /usr/bin/time ]] || { echo "skipped: /usr/bin/time is missing (apt-get install time)" >&2; exit 125; }
cache=$(mktemp -d /tmp/switchyard-bench-smoke-XXXXXX)
trap 'rm -rf "$cache"' EXIT
out=$(SWITCHYARD_BENCH_CACHE="$cache" "$root/bench/sha256.sh" --build "${SWITCHYARD_BIN_DIR:?}" --size-mib 16 --runs 1)
echo "$out"
grep -q '^| switchyard-push-artifact --dry-run | [0-9.]* | [0-9.]* | [0-9.]* | [0-9.]* |$' <<<"$out" ||
  { echo "FAIL: no switchyard row" >&2; exit 1; }
grep -q '^| sha256sum (coreutils) | ' <<<"$out" || { echo "FAIL: no sha256sum row" >&2; exit 1; }
grep -q '^bar: switchyard >= 1.5 GB/s: \(met\|missed\) ([0-9.]* GB/s wall; [0-9.]* GB/s per CPU second)$' <<<"$out" || { echo "FAIL: no bar line" >&2; exit 1; }
grep -q 'SHA extensions (sha_ni): \(yes\|no\)' <<<"$out" || { echo "FAIL: the CPU's SHA extensions are not recorded" >&2; exit 1; }
