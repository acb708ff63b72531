#!/usr/bin/env bash
# A short run of bench/upload.sh (20 MiB, so the upload is multipart; one run)
# so the benchmark cannot rot. aws-cli joins when it is installed.
set -euo pipefail
root="${SWITCHYARD_SOURCE_DIR:?}"
[[ -f "$root/tests/node/node_modules/s3rver/bin/s3rver.js" ]] ||
  { echo "skipped: s3rver is not installed (run scripts/setup)" >&2; exit 125; }
[[ -x /usr/bin/time ]] || { echo "skipped: /usr/bin/time is missing (apt-get install time)" >&2; exit 125; }
args=(--build "${SWITCHYARD_BIN_DIR:?}" --size-mib 20 --runs 1)
[[ -x /usr/bin/aws ]] || args+=(--no-aws)
cache=$(mktemp -d /tmp/switchyard-bench-smoke-XXXXXX)
trap 'rm -rf "$cache"' EXIT
out=$(SWITCHYARD_BENCH_CACHE="$cache" "$root/bench/upload.sh" "${args[@]}")
echo "$out"
grep -q '^| switchyard-push-artifact | [0-9.]* | [0-9.]* | [0-9.]* (max [0-9.]*) |$' <<<"$out" ||
  { echo "FAIL: no switchyard row" >&2; exit 1; }
if [[ -x /usr/bin/aws ]]; then
  grep -q '^| aws s3 cp (awscli ' <<<"$out" || { echo "FAIL: no aws-cli row" >&2; exit 1; }
  grep -q '^peak RSS: ' <<<"$out" || { echo "FAIL: no bar lines" >&2; exit 1; }
fi
