#!/usr/bin/env bash
# A smoke run of the health benchmarks (bench/readiness.sh, bench/version-startup.sh),
# so they cannot rot: two readiness runs without the users' loop (each of those
# takes over 10 s), and a few --version runs without the aws-cli peer. The
# full figures, peers included, are in docs/BENCHMARKS.md ("Health").
set -uo pipefail

bin_dir=${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}
source_dir=${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# --version startup: always runnable.
bash "$source_dir/bench/version-startup.sh" --build "$bin_dir" --runs 10 --aws none \
  --out "$out/version.json" >"$out/version.md" || fail "bench/version-startup.sh exited $?"
grep -q '^| `switchyard-verify-health --version` | 10 |' "$out/version.md" ||
  fail "no result row for switchyard-verify-health: $(cat "$out/version.md")"
/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["commands"]["switchyard"]["median_ms"] > 0' \
  "$out/version.json" || fail "version.json has no median"

# Readiness: needs the JVM and the sample service.
if ! command -v java >/dev/null || [[ ! -f $bin_dir/sample/hello-service.jar ]]; then
  echo "skipped: the readiness half needs java and $bin_dir/sample/hello-service.jar" >&2
  exit 125
fi
timeout 120 bash "$source_dir/bench/readiness.sh" --build "$bin_dir" --runs 2 --peer-runs 0 --floor-runs 1 \
  --delay 500 --out "$out/readiness.json" >"$out/readiness.md" || fail "bench/readiness.sh exited $?"
grep -q '^| switchyard | 2 |' "$out/readiness.md" || fail "no readiness row: $(cat "$out/readiness.md")"
/usr/bin/python3 - "$out/readiness.json" <<'PY' || fail "readiness delays out of range"
import json, sys
result = json.load(open(sys.argv[1]))
delays = result["checks"]["switchyard"]["delays_ms"]
# Soon after ready, even on a loaded machine; the benchmark reports the real figure.
assert all(-50 < d < 2000 for d in delays), delays
PY
echo "ok: both health benchmarks ran" >&2
