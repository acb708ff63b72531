#!/usr/bin/env bash
# The example deploy workflow (examples/github-workflow.yml) only uses flags
# the steps really have: for every `uses: ./action` step, each `--flag` line
# of its args must appear in `switchyard <command> --help`, and each output a
# later step reads (steps.<id>.outputs.<name>, needs.<job>.outputs.<name>)
# must be one the action or the job declares. A renamed flag or output breaks
# this test before it breaks a user's deploy.
#
# GitHub's runners cannot run here: this reads the workflow file and asks
# the real built binaries for their --help.
set -euo pipefail

source_dir="${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}"
bin_dir="${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}"
python=/usr/bin/python3
if ! "$python" -c 'import yaml' 2>/dev/null; then
  echo "skipped: $python has no yaml module; apt-get install python3-yaml" >&2
  exit 125
fi
if [[ ! -x "$bin_dir/switchyard" ]]; then
  echo "skipped: $bin_dir/switchyard is not built" >&2
  exit 125
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/check.py" <<'EOF'
import os, re, subprocess, sys, yaml

workflow_path, action_path, bin_dir = sys.argv[1:4]
workflow = yaml.safe_load(open(workflow_path))
action = yaml.safe_load(open(action_path))
action_outputs = set(action["outputs"])
problems, checked_flags, checked_steps, skipped = [], 0, 0, set()
help_cache = {}

def help_text(command):
    """The command's --help: `switchyard run` for the pipeline, else the step's executable."""
    if command not in help_cache:
        argv = ([os.path.join(bin_dir, "switchyard"), "run"] if command == "run"
                else [os.path.join(bin_dir, f"switchyard-{command}")])
        if not os.access(argv[0], os.X_OK):
            help_cache[command] = None
        else:
            help_cache[command] = subprocess.run(argv + ["--help"], capture_output=True,
                                                 text=True, timeout=30).stdout
    return help_cache[command]

for job_name, job in workflow["jobs"].items():
    step_ids = {}
    for step in job.get("steps", []):
        if step.get("uses") == "./action":
            command = step["with"]["command"]
            if step.get("id"):
                step_ids[step["id"]] = "action"
            text = help_text(command)
            if text is None:
                skipped.add(command)
                continue
            checked_steps += 1
            for number, line in enumerate(str(step["with"].get("args", "")).splitlines(), 1):
                if not line.strip():
                    problems.append(f"job {job_name}: switchyard {command}: args line {number} is blank, which the action refuses")
                # --flag=value on one line names the flag before the '='.
                flag = line.strip().split("=", 1)[0]
                if flag.startswith("--"):
                    checked_flags += 1
                    if not re.search(rf"(^|\s){re.escape(flag)}\b", text):
                        problems.append(f"job {job_name}: switchyard {command} has no flag {flag}")
        elif step.get("id"):
            step_ids[step["id"]] = "other"
    # Outputs read from this job's own steps and from the jobs it needs.
    text = yaml.safe_dump(job)
    for step_id, output in re.findall(r"steps\.([a-z0-9_-]+)\.outputs\.([a-z0-9_-]+)", text):
        if step_ids.get(step_id) == "action" and output not in action_outputs:
            problems.append(f"job {job_name}: the action declares no output {output} (steps.{step_id})")
        elif step_id not in step_ids:
            problems.append(f"job {job_name}: no step with id {step_id}")
    for needed, output in re.findall(r"needs\.([a-z0-9_-]+)\.outputs\.([a-z0-9_-]+)", text):
        declared = workflow["jobs"].get(needed, {}).get("outputs", {})
        if output not in declared:
            problems.append(f"job {job_name}: job {needed} declares no output {output}")

for problem in problems:
    print(f"FAIL: {problem}", file=sys.stderr)
if problems:
    sys.exit(1)
if checked_steps == 0:
    sys.exit("FAIL: no step was checked; are the step binaries built?")
note = f" (not built, not checked: {', '.join(sorted(skipped))})" if skipped else ""
print(f"ok: {workflow_path}: {checked_steps} action step(s), {checked_flags} flag(s) that exist in the steps' --help{note}; every output read is declared")
EOF

check() {
  "$python" "$work/check.py" "$1" "$source_dir/action/action.yml" "$bin_dir"
}
check "$source_dir/examples/github-workflow.yml"

# The checker itself can fail: a flag the step lacks, an output nobody declares.
cat >"$work/broken.yml" <<'EOF'
on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - id: push
        uses: ./action
        with:
          command: push-artifact
          args: |
            --bucket
            s3://example/hello
            target/hello.jar
      - run: echo "${{ steps.push.outputs.app-release }}"
EOF
if check "$work/broken.yml" 2>"$work/stderr"; then
  echo "FAIL: the checker accepted a workflow with --bucket and app-release" >&2
  exit 1
fi
for expected in "switchyard push-artifact has no flag --bucket" "declares no output app-release"; do
  grep -qF "$expected" "$work/stderr" || {
    echo "FAIL: the checker did not say '$expected': $(cat "$work/stderr")" >&2
    exit 1
  }
done
echo "ok: a workflow with an unknown flag and an undeclared output is refused"
