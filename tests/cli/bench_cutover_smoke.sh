#!/usr/bin/env bash
# A smoke run of the cutover benchmark (bench/cutover.sh), so it cannot rot:
# one round of three modes (baseline-direct, reload-direct, seamless), one
# closed-loop and one fixed-rate cutover each, a low fixed rate, no drain
# check; bounded by a 420 s timeout. It checks that every mode ran, that the
# new version answered through nginx after each cutover, that switchyard's
# modes kept the versions to their windows, that the report has
# every table, and that seamless mode lost no request and gave the unhealthy
# deploy no traffic (the product's promise; the full figures are in
# docs/BENCHMARKS.md).
set -uo pipefail

bin_dir=${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}
source_dir=${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}

source "$source_dir/tests/support/cli_testing.sh"
PATH=$PATH:/usr/sbin need_tools "scripts/setup installs it" wrk nginx java javac node curl ss
need_file "$bin_dir/sample/hello-service.jar" "the build makes it (needs mvn)"
need_file "$bin_dir/switchyard-switch-traffic" "build switchyard first"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
modes=baseline-direct,reload-direct,seamless

timeout 420 bash "$source_dir/bench/cutover.sh" --build "$bin_dir" --rounds 1 --cutovers 1 --modes "$modes" \
  --connections 8 --rate 40 --client-rate 4 --big-every-ms 3000 --pause 1 --no-drain-check --out "$out" >"$out/summary.txt"
status=$?
cat "$out/summary.txt"
if ((status != 0)); then
  echo "FAIL: bench/cutover.sh exited $status" >&2
  exit 1
fi
for table in '| mode | run | load avg |' '| mode | runs | closed req/s |' '| mode | curl | python | java |' 'Bars, judged on the worst run'; do
  grep -qF "$table" "$out/summary.txt" || { echo "FAIL: the report has no '$table'" >&2; exit 1; }
done

/usr/bin/python3 - "$out/results.json" "$modes" <<'PY'
import json
import sys

results = json.load(open(sys.argv[1]))
sessions = {s["mode"]: s for s in results["sessions"]}
failures = []
for mode in sys.argv[2].split(","):
    s = sessions.get(mode)
    if s is None or not s["closed"]:
        failures.append(f"{mode}: no result; it did not run")
        continue
    if s["closed"]["requests"] <= 0 or s["fixed"]["sent"] <= 0:
        failures.append(f"{mode}: no request completed under load")
    if s["failed_deploys"]:
        failures.append(f"{mode}: a deploy exited non-zero")
    if not s["cutover_ms"]:
        failures.append(f"{mode}: the new version never answered through nginx")
    if not mode.startswith("baseline") and not s["versions_ok"]:
        failures.append(f"{mode}: a version answered outside its window")
    if sum(len(c) for c in s["clients"].values()) == 0:
        failures.append(f"{mode}: the keep-alive clients recorded nothing")
seamless = sessions.get("seamless")
if seamless and seamless["closed"]:
    failed = seamless["closed"]["failed"] + seamless["fixed"]["failed"]
    if failed:
        failures.append(f"seamless: {failed} failed requests; expected none")
    unhealthy = seamless["closed"].get("unhealthy")
    if not unhealthy or unhealthy["exit"] == 0 or unhealthy["responses"] != 0:
        failures.append(f"seamless: the unhealthy deploy: {unhealthy}; expected a refusal and 0 responses")
for failure in failures:
    print("FAIL: " + failure, file=sys.stderr)
sys.exit(1 if failures else 0)
PY
