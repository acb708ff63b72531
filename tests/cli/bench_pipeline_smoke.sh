#!/usr/bin/env bash
# A smoke run of the pipeline benchmark (bench/pipeline.sh --runs 1), so it
# cannot rot: one run of `switchyard run` and of the users' hand-written
# pipeline, each from a clean clone of the sample service's repo to the new
# version answering through the host's nginx; bounded by a 180 s timeout.
# Fails unless both pipelines ended with the new version answering (which the
# benchmark checks itself through nginx after each one) and the report has
# every phase of both.
set -uo pipefail

bin_dir=${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}
source_dir=${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}

if [[ $(id -u) != 0 ]]; then
  echo "skipped: the pipeline benchmark needs root (network and mount namespaces for its host)" >&2
  exit 125
fi
source "$source_dir/tests/support/cli_testing.sh"
PATH=$PATH:/usr/sbin need_tools "scripts/setup installs it" mvn java node git scp ssh curl nginx sshd
need_file /usr/bin/aws "scripts/setup installs awscli"
need_file "$bin_dir/sample/hello-service.jar" "the build makes it (needs mvn)"
need_file "$source_dir/tests/node/node_modules/s3rver/bin/s3rver.js" "scripts/setup installs tests/node"

out=$(mktemp -d /tmp/switchyard-bench-pipeline-smoke-XXXXXX)
trap 'rm -rf "$out"' EXIT
timeout -k 10 180 bash "$source_dir/bench/pipeline.sh" --build "$bin_dir" --runs 1 --out "$out/report" \
  >"$out/summary.txt"
status=$?
cat "$out/summary.txt"
case $status in
  0) ;;
  125) exit 125 ;; # fleet_setup printed why its host cannot be made here
  124 | 137) echo "FAIL: bench/pipeline.sh --runs 1 did not finish within 180 s" >&2; exit 1 ;;
  *) echo "FAIL: bench/pipeline.sh exited $status" >&2; exit 1 ;;
esac
for table in '| run | way | version | total ms |' '| way | runs answered | median ms |' "switchyard's median is"; do
  grep -qF "$table" "$out/summary.txt" || { echo "FAIL: the report has no '$table'" >&2; exit 1; }
done

/usr/bin/python3 - "$out/report/results.json" <<'PY'
import json
import sys

results = json.load(open(sys.argv[1]))
failures = []
for way in ("switchyard", "users"):
    runs = [r for r in results["runs"] if r["way"] == way]
    if len(runs) != 1:
        failures.append(f"{way}: {len(runs)} runs recorded; expected 1")
        continue
    run = runs[0]
    if run["version"] != "1.1.0" or not run["answered"]:
        failures.append(f"{way}: the new version {run['version']} did not answer through nginx")
    phases = run["phases_ms"]
    # Every phase did work: a missing step reads 0 ms.
    for phase in ("clone", "build", "store", "deploy", "verify"):
        if phases.get(phase, 0) <= 0:
            failures.append(f"{way}: phase {phase} took {phases.get(phase)} ms; expected it to run")
    if run["total_ms"] < sum(phases.values()):
        failures.append(f"{way}: total {run['total_ms']} ms is less than its phases {phases}")
    if not run["load_start"] or not run["load_end"]:
        failures.append(f"{way}: no load average recorded")
for failure in failures:
    print("FAIL: " + failure, file=sys.stderr)
sys.exit(1 if failures else 0)
PY
