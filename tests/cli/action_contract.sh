#!/usr/bin/env bash
# action/action.yml keeps the composite-action contract (GitHub's "Metadata
# syntax for GitHub Actions" page, and docs/CI.md): kebab-case inputs with a
# description and a quoted default; every input reaches the scripts only
# through `env:`, never as `${{ inputs.* }}` in a run: script's text; every
# run: step has `shell: bash` and calls an executable script of the action
# through ${GITHUB_ACTION_PATH}; every INPUT_* variable a step sets is read by
# its script; every declared output maps to a step output that something
# really writes: run.sh or install.sh, or a step's --json result key (whose
# `_` becomes `-`, runner/cli/step.cpp publish_outputs).
#
# GitHub's runners cannot run here: this checks the metadata file itself.
# The checker first proves it can fail, on broken copies of the file.
set -euo pipefail

source_dir="${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}"
python=/usr/bin/python3
if ! "$python" -c 'import yaml' 2>/dev/null; then
  echo "skipped: $python has no yaml module; apt-get install python3-yaml" >&2
  exit 125
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/check.py" <<'EOF'
"""Prints one line per broken contract of the action metadata at argv[1]."""
import glob, os, re, subprocess, sys, yaml

path, source_dir = sys.argv[1], sys.argv[2]
action_dir = os.path.join(source_dir, "action")
with open(path) as f:
    text = f.read()
action = yaml.safe_load(text)
problems = []

# The keys a step's --json result can carry, as outputs: result["key"] in
# the steps and the runner library.
result_keys = set()
for source in glob.glob(f"{source_dir}/steps/*/*.cpp") + glob.glob(f"{source_dir}/runner/*/*.cpp"):
    with open(source) as f:
        result_keys |= set(re.findall(r'result\["([a-z0-9_]+)"\]', f.read()))
published = {key.replace("_", "-") for key in result_keys}

def outputs_written_by(script):
    """Output names a script writes: `write_output NAME` or `echo "NAME=`."""
    with open(os.path.join(action_dir, script)) as f:
        body = f.read()
    return set(re.findall(r'write_output ([a-z0-9-]+)', body)) | set(
        re.findall(r'echo "([a-z0-9-]+)=', body))

inputs = action.get("inputs") or {}
for name, spec in inputs.items():
    if not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", name):
        problems.append(f"input {name}: not kebab-case")
    if not (spec or {}).get("description"):
        problems.append(f"input {name}: no description")
    if "default" in (spec or {}) and not isinstance(spec["default"], str):
        problems.append(f"input {name}: default {spec['default']!r} is not a quoted string")

steps = (action.get("runs") or {}).get("steps") or []
if action.get("runs", {}).get("using") != "composite":
    problems.append("runs.using is not composite")
used_inputs = set()
step_scripts = {}
for index, step in enumerate(steps):
    label = step.get("id") or f"#{index + 1}"
    if "run" not in step:
        continue
    if step.get("shell") != "bash":
        problems.append(f"step {label}: shell is {step.get('shell')!r}, not bash")
    if "${{" in step["run"]:
        problems.append(f"step {label}: an expression inside run: ({step['run'].strip()}); pass it through env:")
    match = re.fullmatch(r'"\$\{GITHUB_ACTION_PATH:\?\}/([a-z-]+\.sh)"', step["run"].strip())
    if not match:
        problems.append(f"step {label}: run: should only call \"${{GITHUB_ACTION_PATH:?}}/<script>.sh\"")
        continue
    script = match.group(1)
    script_path = os.path.join(action_dir, script)
    if not os.access(script_path, os.X_OK):
        problems.append(f"step {label}: {script} is missing or not executable")
        continue
    mode = subprocess.run(["git", "-C", source_dir, "ls-files", "-s", f"action/{script}"],
                          capture_output=True, text=True).stdout.split()
    if mode and mode[0] != "100755":
        problems.append(f"step {label}: git records action/{script} as {mode[0]}, not 100755")
    step_scripts[step.get("id")] = script
    with open(script_path) as f:
        script_text = f.read()
    for variable, value in (step.get("env") or {}).items():
        used_inputs |= set(re.findall(r"inputs\.([a-z0-9-]+)", str(value)))
        if variable.startswith("INPUT_") and variable not in script_text:
            problems.append(f"step {label}: sets {variable} but {script} never reads it")

for name in inputs:
    if name not in used_inputs:
        problems.append(f"input {name}: no step's env: passes it on")

# Outside env:, `inputs.` may appear only in names and with:, never in run:.
for number, line in enumerate(text.splitlines(), 1):
    if re.match(r"\s*run:", line) and "${{" in line:
        problems.append(f"line {number}: expression on a run: line")

for name, spec in (action.get("outputs") or {}).items():
    match = re.fullmatch(r"\$\{\{ steps\.([a-z-]+)\.outputs\.([a-z0-9-]+) \}\}", str(spec.get("value", "")))
    if not match:
        problems.append(f"output {name}: value is not ${{{{ steps.<id>.outputs.<name> }}}}")
        continue
    step_id, output = match.groups()
    if step_id not in step_scripts:
        problems.append(f"output {name}: no run: step has id {step_id}")
        continue
    writers = outputs_written_by(step_scripts[step_id])
    if step_id == "run":
        writers |= published
    if output not in writers:
        problems.append(f"output {name}: step {step_id} never writes output {output}")

for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
EOF

check() {
  "$python" "$work/check.py" "$1" "$source_dir"
}

# The real file keeps every contract.
check "$source_dir/action/action.yml" >"$work/problems" || {
  echo "FAIL: action/action.yml breaks its contract:" >&2
  cat "$work/problems" >&2
  exit 1
}
echo "ok: action/action.yml keeps the contract"

# Each broken copy is caught, with the problem named.
expect_problem() {
  local description=$1 expected=$2 broken=$work/broken.yml
  shift 2
  "$@" <"$source_dir/action/action.yml" >"$broken"
  if check "$broken" >"$work/problems"; then
    echo "FAIL: the checker missed: $description" >&2
    exit 1
  fi
  if ! grep -qF -- "$expected" "$work/problems"; then
    echo "FAIL: for '$description' the checker said:" >&2
    cat "$work/problems" >&2
    echo "expected a line containing: $expected" >&2
    exit 1
  fi
  echo "ok: caught $description"
}
# shellcheck disable=SC2016 # the ${{ }} is GitHub's expression, for the copy
expect_problem "an input pasted into run:" "step run: an expression inside run:" \
  sed 's|run: .*/run.sh"'"'"'|run: echo ${{ inputs.args }}|'
expect_problem "a run step without shell: bash" "step install: shell is None, not bash" \
  awk '/id: install/ {skip = 1} skip && /shell: bash/ {skip = 0; next} {print}'
expect_problem "an output no step writes" "output jar: step run never writes output jar-path" \
  sed 's|steps.run.outputs.jar }}|steps.run.outputs.jar-path }}|'
expect_problem "an input no step passes on" "input config: no step's env: passes it on" \
  sed '/INPUT_CONFIG:/d'
expect_problem "an unquoted default" "input install: default True is not a quoted string" \
  sed 's|default: "auto"|default: true|'

# The commands run.sh accepts are the step executables (steps/<name>/) and
# `run`: a step added or renamed without the action fails here.
mapfile -t declared < <(sed -n 's/^readonly k_steps=(\(.*\))$/\1/p' "$source_dir/action/run.sh" | tr ' ' '\n' | sort)
mapfile -t built < <(cd "$source_dir/steps" && for step in */; do echo "${step%/}"; done | sort)
if [[ "${declared[*]}" != "${built[*]}" ]]; then
  echo "FAIL: action/run.sh's k_steps (${declared[*]}) is not the steps/ directories (${built[*]})" >&2
  exit 1
fi
echo "ok: action/run.sh accepts exactly the steps in steps/ (${built[*]}) and run"
