#!/usr/bin/env bash
# Every workflow and action.yml this project ships, and the workflow
# `switchyard init` writes, pass GitHub's own parser (@actions/workflow-parser,
# bundled with esbuild since it imports its JSON schema as a module); and the
# `with:` of every step that uses this repository's action names only inputs
# action.yml declares, which neither the parser nor actionlint checks.
#
# GitHub's runners cannot run here: this checks the files against GitHub's
# published parser, not a real run. Each check first proves it can fail.
set -euo pipefail

source_dir="${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}"
bin_dir="${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}"
node_dir="$source_dir/tests/node"
for package in @actions/workflow-parser esbuild; do
  if [[ ! -d "$node_dir/node_modules/$package" ]]; then
    echo "skipped: npm package $package is not installed in tests/node; run scripts/setup" >&2
    exit 125
  fi
done
if ! command -v node >/dev/null 2>&1 || ! /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
  echo "skipped: node or python3-yaml is missing; run scripts/setup" >&2
  exit 125
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

"$node_dir/node_modules/.bin/esbuild" "$node_dir/check-workflows.mjs" --bundle --platform=node \
  --format=cjs --log-level=warning --outfile="$work/check-workflows.cjs"
check() { node "$work/check-workflows.cjs" "$@"; }

# --- it can fail --------------------------------------------------------------
cat >"$work/broken.yml" <<'YAML'
name: broken
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    timeout: 5
    steps:
      - run: echo hi
YAML
if check "$work/broken.yml" >"$work/out" 2>&1; then
  fail "the parser accepted a job with an unknown key (timeout), so it checks nothing"
fi
grep -q "Unexpected value 'timeout'" "$work/out" || fail "unexpected parser output: $(cat "$work/out")"
sed 's/^runs:/runz:/' "$source_dir/action/action.yml" >"$work/action.yml"
if check "$work/action.yml" >"$work/out" 2>&1; then
  fail "the parser accepted an action.yml without runs:"
fi
echo "ok: the parser refuses a workflow with an unknown key and an action.yml without runs:"

# --- this project's files -------------------------------------------------------
shipped=("$source_dir"/.github/workflows/*.yml "$source_dir/examples/github-workflow.yml"
  "$source_dir/action/action.yml")
check "${shipped[@]}" >"$work/out" 2>&1 || fail "GitHub's parser refuses: $(cat "$work/out")"
echo "ok: ${#shipped[@]} workflow and action files pass GitHub's parser"

# --- what switchyard init writes ------------------------------------------------
project="$work/project"
mkdir -p "$project"
cp "$source_dir/examples/hello-service/pom.xml" "$project/"
"$bin_dir/switchyard" init --dir "$project" >"$work/init.out" 2>&1 || fail "switchyard init: $(cat "$work/init.out")"
check "$project/.github/workflows/deploy.yml" >"$work/out" 2>&1 ||
  fail "the workflow switchyard init writes is refused: $(cat "$work/out")"
echo "ok: the workflow switchyard init writes passes GitHub's parser"

# --- inputs given to this repository's action exist in action.yml ---------------
cat >"$work/check_inputs.py" <<'PY'
"""Each step that uses this repository's action (./action, ./.switchyard/action,
or OWNER/switchyard/action@REF) passes only inputs action.yml declares, and
every required input."""
import pathlib
import re
import sys

import yaml

action = yaml.safe_load(pathlib.Path(sys.argv[1]).read_text())
declared = set(action.get("inputs", {}))
required = {name for name, spec in action.get("inputs", {}).items() if spec.get("required")}
ours = re.compile(r"^(\./(\.switchyard/)?action|[^/]+/switchyard/action@.+)$")
problems = 0
for name in sys.argv[2:]:
    workflow = yaml.safe_load(pathlib.Path(name).read_text())
    if not isinstance(workflow, dict) or "jobs" not in workflow:
        continue
    for job_name, job in workflow["jobs"].items():
        for index, step in enumerate(job.get("steps", [])):
            if not ours.match(str(step.get("uses", ""))):
                continue
            given = set((step.get("with") or {}).keys())
            where = f"{name}: jobs.{job_name}.steps[{index}]"
            for unknown in sorted(given - declared):
                print(f"{where}: input '{unknown}' is not in action.yml ({', '.join(sorted(declared))})")
                problems += 1
            for missing in sorted(required - given):
                print(f"{where}: required input '{missing}' is missing")
                problems += 1
sys.exit(1 if problems else 0)
PY
cat >"$work/broken-inputs.yml" <<'YAML'
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: ./action
        with:
          command: verify-health
          arguments: https://example.org/
YAML
if /usr/bin/python3 "$work/check_inputs.py" "$source_dir/action/action.yml" "$work/broken-inputs.yml" >"$work/out"; then
  fail "the input check accepted a misspelled input (arguments)"
fi
grep -q "input 'arguments' is not in action.yml" "$work/out" || fail "unexpected: $(cat "$work/out")"
/usr/bin/python3 "$work/check_inputs.py" "$source_dir/action/action.yml" "${shipped[@]}" \
  "$project/.github/workflows/deploy.yml" >"$work/out" || fail "$(cat "$work/out")"
echo "ok: every step using this repository's action passes only inputs action.yml declares"
