#!/usr/bin/env bash
# Runs one switchyard step. Inputs arrive only through the environment, and
# `args` is split on newlines into an argument vector: nothing from an input
# is ever evaluated by a shell.
set -uo pipefail

command="${INPUT_COMMAND:?the action needs a command input}"
case "$command" in
  build-jar | push-artifact | request-deploy | verify-health | switch-traffic | rollback) ;;
  *)
    echo "::error title=switchyard::command: '$command' is not a switchyard step; use build-jar, push-artifact, request-deploy, verify-health, switch-traffic or rollback" >&2
    exit 2
    ;;
esac

arguments=()
if [[ -n "${INPUT_ARGS:-}" ]]; then
  while IFS= read -r line; do
    [[ -n "$line" ]] && arguments+=("$line")
  done <<<"$INPUT_ARGS"
fi
if [[ -n "${INPUT_CONFIG:-}" && -f "$INPUT_CONFIG" ]]; then
  arguments+=(--config "$INPUT_CONFIG")
fi
if [[ -n "${INPUT_ENVIRONMENT:-}" ]]; then
  arguments+=(--env "$INPUT_ENVIRONMENT")
fi

# The step writes its own outputs to $GITHUB_OUTPUT; the whole JSON result is
# added as `result`.
result_file=$(mktemp)
switchyard "$command" "${arguments[@]}" --json >"$result_file"
status=$?
delimiter="switchyard_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
{
  echo "result<<$delimiter"
  cat "$result_file"
  echo "$delimiter"
} >>"${GITHUB_OUTPUT:?}"
rm -f "$result_file"
exit "$status"
