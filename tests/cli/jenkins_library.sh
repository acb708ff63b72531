#!/usr/bin/env bash
# The Jenkins shared library (jenkins/vars, jenkins/src) under real Groovy
# (Debian's groovy), with tests/jenkins/PipelineStandIn.groovy standing in for
# the pipeline steps as Jenkins documents them; its `sh` runs the scripts the
# library produces with /bin/sh and the real switchyard binaries, against a
# loopback HTTP server started here. The cases are in
# tests/jenkins/switchyard_test.groovy.
#
# Jenkins itself cannot run here: the steps are stand-ins that follow the
# Pipeline Steps Reference, and the library's own code runs unchanged.
set -euo pipefail

source_dir="${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}"
bin_dir="${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}"
python=/usr/bin/python3
source "${SWITCHYARD_SOURCE_DIR:?}/tests/support/cli_testing.sh"
if ! command -v groovy >/dev/null 2>&1; then
  echo "skipped: groovy is not installed; run scripts/setup (apt-get install groovy)" >&2
  exit 125
fi
need_built switchyard switchyard-verify-health
# Debian's groovy looks for /usr/lib/jvm/default-java, which only the
# default-jre package creates; any Java on PATH does as well.
if [[ -z "${JAVA_HOME:-}" && ! -x /usr/lib/jvm/default-java/bin/java ]]; then
  java=$(command -v java) || {
    echo "skipped: no java for groovy; apt-get install default-jre-headless" >&2
    exit 125
  }
  JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$java")")")
  export JAVA_HOME
fi

make_work_dir

start_health_recorder

mkdir -p "$work/scratch"
TEST_BASE_URL="$base" \
  TEST_REQUEST_LOG="$work/requests.jsonl" TEST_WORK="$work/scratch" \
  SWITCHYARD_SOURCE_DIR="$source_dir" SWITCHYARD_BIN_DIR="$bin_dir" \
  groovy -cp "$source_dir/jenkins/src:$source_dir/tests/jenkins" \
  "$source_dir/tests/jenkins/switchyard_test.groovy"

# The GitHub example and the Jenkinsfile run the same commands with the same
# arguments: each `uses: ./action` step's command and args lines against the
# switchyard() calls the Jenkinsfile test recorded.
"$python" - "$source_dir/examples/github-workflow.yml" "$work/scratch/jenkinsfile-calls.json" <<'EOF'
import json, sys, yaml
workflow = yaml.safe_load(open(sys.argv[1]))
github = [[step["with"]["command"], [line for line in str(step["with"].get("args", "")).splitlines()]]
          for job in workflow["jobs"].values() for step in job.get("steps", [])
          if str(step.get("uses", "")).startswith("./action")]
jenkins = json.load(open(sys.argv[2]))
if github != jenkins:
    sys.exit(f"FAIL: the examples differ:\n  examples/github-workflow.yml runs {github}\n  examples/Jenkinsfile runs {jenkins}")
print(f"ok: examples/github-workflow.yml and examples/Jenkinsfile run the same commands: {github}")
EOF
