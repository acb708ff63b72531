#!/usr/bin/env bash
# A smoke run of the cutover benchmark (bench/cutover.sh), so it cannot rot:
# one cutover per mode under a few seconds of load. It checks that every mode
# that can run here ran, that the load saw the new version answer through
# nginx after each cutover, and that seamless mode lost no request (the
# product's promise; the full 20-cutover figures are in docs/BENCHMARKS.md).
set -uo pipefail

bin_dir=${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}
source_dir=${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}

for tool in wrk nginx java curl ss; do
  if ! command -v "$tool" >/dev/null; then
    echo "skipped: $tool not found (scripts/setup installs it)" >&2
    exit 125
  fi
done
if [[ ! -f $bin_dir/sample/hello-service.jar ]]; then
  echo "skipped: $bin_dir/sample/hello-service.jar not built (needs mvn)" >&2
  exit 125
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

modes=baseline
if [[ -x $bin_dir/switchyard-switch-traffic ]]; then
  modes=baseline,reload,seamless
fi

timeout 300 bash "$source_dir/bench/cutover.sh" --build "$bin_dir" --cutovers 1 --modes "$modes" \
  --connections 8 --threads 1 --pause 1 --baseline-interval 1 --out "$out"
status=$?
if ((status != 0)); then
  echo "FAIL: bench/cutover.sh exited $status" >&2
  exit 1
fi

/usr/bin/python3 - "$out/results.json" "$modes" <<'PY'
import json
import sys

rows = {row["mode"]: row for row in json.load(open(sys.argv[1]))}
failures = []
for mode in sys.argv[2].split(","):
    row = rows.get(mode)
    if row is None:
        failures.append(f"{mode}: no result; it did not run")
        continue
    if row["requests"] <= 0:
        failures.append(f"{mode}: no request completed under load")
    if row["failed_deploys"]:
        failures.append(f"{mode}: the deploy exited non-zero")
    if row["cutover_ms_median"] is None:
        failures.append(f"{mode}: the new version never answered through nginx")
    if mode == "seamless" and row["non_2xx"] + row["socket_errors"] > 0:
        failures.append(f"seamless: {row['non_2xx']} non-2xx and {row['socket_errors']} socket errors; expected none")
for failure in failures:
    print("FAIL: " + failure, file=sys.stderr)
sys.exit(1 if failures else 0)
PY
