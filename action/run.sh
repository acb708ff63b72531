#!/usr/bin/env bash
# Runs one switchyard step for the composite action. Inputs arrive only
# through the environment (INPUT_*), and `args` is split on newlines into an
# argument vector: nothing from an input is ever evaluated by a shell.
#
# The step itself writes its outputs (ok, exit-code, error, version, ...) to
# $GITHUB_OUTPUT and its summary to $GITHUB_STEP_SUMMARY. This script adds the
# whole --json result as `result`, `exit-code` on success, and the outputs a
# step could not write because it never got to run (a bad flag, a missing
# binary), so a later `if:` can always read `ok` and `exit-code`.
set -uo pipefail

# The step executables (steps/<name>/ in the source; tests/cli/action_contract.sh
# keeps the two lists equal), and `run`, the whole pipeline.
readonly k_steps=(build-jar push-artifact request-deploy verify-health switch-traffic rollback)
readonly k_commands=(run "${k_steps[@]}")

# Appends `name` = `value` to $GITHUB_OUTPUT in the multi-line form, with a
# random delimiter that cannot occur in the value.
write_output() {
  local name=$1 value=$2 delimiter
  delimiter="switchyard_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  printf '%s<<%s\n%s\n%s\n' "$name" "$delimiter" "$value" "$delimiter" >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set; run this from a GitHub Actions step}"
}

# GitHub's escaping of workflow command data, so an input cannot start a
# command of its own on a new line.
escape_data() {
  local text=${1//%/%25}
  text=${text//$'\r'/%0D}
  printf '%s' "${text//$'\n'/%0A}"
}

# Ends the action before the step ran: an annotation, the outputs, and `code`.
fail_early() {
  local code=$1 message=$2
  echo "::error title=switchyard::$(escape_data "$message")" >&2
  write_output ok false
  write_output exit-code "$code"
  write_output error "$message"
  exit "$code"
}

# Removes leading and trailing blanks and a Windows line ending.
trim() {
  local text=${1%$'\r'}
  text=${text#"${text%%[![:space:]]*}"}
  text=${text%"${text##*[![:space:]]}"}
  printf '%s' "$text"
}

command_name=$(trim "${INPUT_COMMAND:-}")
if [[ -z "$command_name" ]]; then
  fail_early 2 "command: the input is empty; set command to one of ${k_commands[*]}"
fi
known=false
for step in "${k_commands[@]}"; do
  [[ "$command_name" == "$step" ]] && known=true
done
if [[ $known != true ]]; then
  fail_early 2 "command: '$command_name' is not a switchyard command; use one of ${k_commands[*]}"
fi

# One argument per line, taken literally. A blank line is refused, not
# skipped: it is usually an expression that came out empty
# (${{ needs.build.outputs.version }}), and skipping it would shift every later
# argument into the place of the one before (--timeout taking the URL).
arguments=()
if [[ -n "${INPUT_ARGS:-}" ]]; then
  line_number=0
  while IFS= read -r line || [[ -n "$line" ]]; do
    line_number=$((line_number + 1))
    line=$(trim "$line")
    if [[ -z "$line" ]]; then
      fail_early 2 "args: line $line_number is blank; give one argument per line with no blank lines (an expression there may have come out empty; write --flag=\${{ ... }} on one line)"
    fi
    arguments+=("$line")
  done <<<"${INPUT_ARGS%$'\n'}"
fi
config=$(trim "${INPUT_CONFIG:-}")
[[ -n "$config" ]] && arguments+=(--config "$config")
environment=$(trim "${INPUT_ENVIRONMENT:-}")
[[ -n "$environment" ]] && arguments+=(--env "$environment")

# The install step's directory first, so a build from source wins over an
# older switchyard elsewhere on PATH.
if [[ -n "${SWITCHYARD_BIN_DIR:-}" ]]; then
  PATH="$SWITCHYARD_BIN_DIR:$PATH"
fi
if ! command -v switchyard >/dev/null 2>&1; then
  fail_early 3 "switchyard: not found on PATH; set the action's install input to 'source', or install the switchyard .deb in an earlier step"
fi

work_dir=$(mktemp -d)
trap 'rm -rf "$work_dir"' EXIT
result_file="$work_dir/result.json"
stderr_file="$work_dir/stderr"

# stdout is the --json result; stderr (logs and workflow commands) goes to the
# job log as it comes, through tee, and a copy without the workflow commands
# (::add-mask:: carries a secret in clear) is kept for the last line.
exec 3>&2
switchyard "$command_name" "${arguments[@]}" --json 2>&1 >"$result_file" |
  tee /dev/fd/3 | grep -v '^::' >"$stderr_file"
status=${PIPESTATUS[0]}
exec 3>&-

# The result is the last line of stdout: a step's child process may have
# printed something before it.
result=$(grep -v '^[[:space:]]*$' "$result_file" | tail -n 1)
if [[ "$result" == "{"* ]]; then
  write_output result "$result"
  ((status == 0)) && write_output exit-code 0
else
  # The step ended before it could publish anything (CLI usage errors,
  # crashes): its last stderr line says why.
  message=$(grep -v '^[[:space:]]*$' "$stderr_file" | tail -n 1)
  [[ -n "$message" ]] || message="switchyard $command_name: exited with $status and printed no result; see the log above"
  write_output result ""
  write_output ok "$( ((status == 0)) && echo true || echo false)"
  write_output exit-code "$status"
  if ((status != 0)); then
    write_output error "$message"
    echo "::error title=switchyard ${command_name}::$(escape_data "$message")" >&2
  fi
fi
exit "$status"
