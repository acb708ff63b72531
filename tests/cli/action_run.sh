#!/usr/bin/env bash
# action/run.sh run as a GitHub runner runs the action's step: inputs as
# INPUT_* variables, GITHUB_ACTIONS=true, and GITHUB_OUTPUT /
# GITHUB_STEP_SUMMARY naming files (docs.github.com, "Workflow commands for
# GitHub Actions" and "Metadata syntax for GitHub Actions"). It calls the
# real built binaries (SWITCHYARD_BIN_DIR) against a loopback HTTP server.
#
# GitHub's runners cannot run here: this plays the runner's part, and reads
# the outputs file with the runner's own rules (name=value, or the
# name<<DELIMITER heredoc form).
set -euo pipefail

source_dir="${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}"
bin_dir="${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}"
python=/usr/bin/python3
source "${SWITCHYARD_SOURCE_DIR:?}/tests/support/cli_testing.sh"
need_built switchyard switchyard-verify-health

make_work_dir

start_health_recorder

# Reads a GITHUB_OUTPUT file as the runner does and prints it as one JSON
# object; a malformed record (a heredoc without its delimiter) is an error.
cat >"$work/outputs.py" <<'EOF'
import json, re, sys
lines = open(sys.argv[1]).read().split("\n")
if lines and lines[-1] == "":
    lines.pop()
outputs, i = {}, 0
while i < len(lines):
    line = lines[i]
    heredoc = re.fullmatch(r"([A-Za-z0-9_-]+)<<(.+)", line)
    if heredoc:
        name, delimiter = heredoc.groups()
        try:
            end = lines.index(delimiter, i + 1)
        except ValueError:
            sys.exit(f"output {name}: delimiter {delimiter} never closes the value")
        outputs[name] = "\n".join(lines[i + 1:end])
        i = end + 1
    elif "=" in line:
        name, value = line.split("=", 1)
        outputs[name] = value
        i += 1
    else:
        sys.exit(f"line {i + 1}: neither name=value nor name<<delimiter: {line!r}")
print(json.dumps(outputs))
EOF
# output NAME: the value of output NAME from the last run's outputs file.
output() {
  "$python" -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], "<unset>"))' \
    "$work/outputs.json" "$1"
}

# Runs action/run.sh as the runner would, with the given INPUT_* values.
# Leaves the exit code in $status, stderr in $work/stderr, outputs in
# $work/outputs.json.
run_action() {
  local command=$1 args=$2
  : >"$work/github_output"
  : >"$work/step_summary"
  set +e
  env GITHUB_ACTIONS=true GITHUB_OUTPUT="$work/github_output" \
    GITHUB_STEP_SUMMARY="$work/step_summary" GITHUB_ACTION_PATH="$source_dir/action" \
    SWITCHYARD_BIN_DIR="${run_bin_dir-$bin_dir}" RUN_TEST_TOKEN="${token:-}" \
    INPUT_COMMAND="$command" INPUT_ARGS="$args" INPUT_CONFIG="" INPUT_ENVIRONMENT="" \
    PATH="${run_path:-$PATH}" \
    bash "$source_dir/action/run.sh" >"$work/stdout" 2>"$work/stderr"
  status=$?
  set -e
  "$python" "$work/outputs.py" "$work/github_output" >"$work/outputs.json" ||
    fail "run.sh wrote a malformed GITHUB_OUTPUT: $(cat "$work/github_output")"
}
expect_status() {
  [[ $status == "$1" ]] || fail "$2: exit code $status, expected $1; stderr: $(cat "$work/stderr")"
}
expect_output() {
  local actual
  actual=$(output "$1")
  [[ "$actual" == "$2" ]] || fail "$3: output $1 is '$actual', expected '$2'"
}

# --- a healthy URL -----------------------------------------------------------
run_action verify-health $'--timeout\n5s\n'"$base/health"
expect_status 0 "healthy URL"
expect_output ok true "healthy URL"
expect_output exit-code 0 "healthy URL"
expect_output healthy true "healthy URL"
grep -q "^result<<" "$work/github_output" || fail "result is not written in the heredoc form"
"$python" - "$(output result)" "$base/health" <<'EOF' || fail "healthy URL: the result output is not the step's JSON result"
import json, sys
result = json.loads(sys.argv[1])
assert result["ok"] is True and result["healthy"] is True, result
assert sys.argv[2] in json.dumps(result["urls"]), result
EOF
[[ ! -s "$work/stdout" ]] || fail "run.sh printed on stdout: $(cat "$work/stdout")"
echo "ok: healthy URL: exit 0, ok=true, healthy=true, result is the JSON object"

# --- an unhealthy URL: exit 1, the one-line error as output and annotation ----
run_action verify-health $'--timeout\n1s\n'"$base/down"
expect_status 1 "unhealthy URL"
expect_output ok false "unhealthy URL"
expect_output exit-code 1 "unhealthy URL"
error=$(output error)
expect_output error "$base/down: not healthy after 1s: status DOWN; check the service's log" "unhealthy URL"
grep -q "^::error title=switchyard-verify-health::$base/down" "$work/stderr" ||
  fail "unhealthy URL: no ::error annotation naming the URL in: $(cat "$work/stderr")"
echo "ok: unhealthy URL: exit 1, ok=false, error '$error'"

# --- a command that is not a step: exit 2 before anything runs ---------------
run_action deploy-everything ""
expect_status 2 "bad command"
message="command: 'deploy-everything' is not a switchyard command; use one of run build-jar push-artifact request-deploy verify-health switch-traffic rollback"
expect_output error "$message" "bad command"
expect_output exit-code 2 "bad command"
expect_output ok false "bad command"
grep -qxF "::error title=switchyard::$message" "$work/stderr" ||
  fail "bad command: no annotation with the message in: $(cat "$work/stderr")"
echo "ok: bad command: exit 2, '$message'"

# --- a flag the step does not know: the step's own usage line becomes error ---
run_action verify-health $'--no-such-flag\n'"$base/health"
expect_status 2 "unknown flag"
error=$(output error)
[[ "$error" == "switchyard-verify-health: "*"--no-such-flag"*"; see switchyard-verify-health --help" ]] ||
  fail "unknown flag: error output is '$error'"
expect_output exit-code 2 "unknown flag"
result=$(output result)
[[ "$result" == *'"ok":false'*'"exit_code":2'*"--no-such-flag"* ]] ||
  fail "unknown flag: result output is '$result', expected the step's JSON result with the error"
echo "ok: unknown flag: exit 2, error '$error'"

# --- args are literal: no command substitution, no word splitting, no ';' ----
touch "$work/keep"
header="X-Probe: it's \$(touch $work/pwned); rm -f $work/keep \`touch $work/pwned\` \$HOME"
run_action verify-health "--timeout
5s
--header
$header
$base/health"
expect_status 0 "header with shell syntax"
[[ ! -e "$work/pwned" && -e "$work/keep" ]] || fail "an args line was evaluated by a shell"
"$python" - "$work/requests.jsonl" "${header#X-Probe: }" <<'EOF' || fail "the X-Probe header did not arrive literally"
import json, sys
seen = [json.loads(line)["headers"].get("X-Probe") for line in open(sys.argv[1])]
assert sys.argv[2] in seen, (sys.argv[2], seen)
EOF
run_action verify-health "\$(touch $work/pwned)
; rm -f $work/keep"
expect_status 2 "URL with shell syntax"
[[ ! -e "$work/pwned" && -e "$work/keep" ]] || fail "a URL line was evaluated by a shell"
error=$(output error)
[[ "$error" == *"\$(touch $work/pwned)"* ]] || fail "the URL did not reach the step literally: $error"
echo "ok: args lines reach the step as literal arguments: header and URL, nothing evaluated"

# --- a secret through env:NAME: masked before use, never in the outputs ------
token="token-$RANDOM-$RANDOM-secret"
run_action verify-health "--timeout
5s
--header
Authorization: env:RUN_TEST_TOKEN
$base/health"
expect_status 0 "env: header"
grep -qxF "::add-mask::$token" "$work/stderr" || fail "the secret was not masked with ::add-mask::"
[[ $(grep -cF "$token" "$work/stderr") == 1 ]] || fail "the secret appears in the log beyond ::add-mask::"
if grep -qF "$token" "$work/github_output"; then fail "the secret is in GITHUB_OUTPUT"; fi
grep -qF "\"Authorization\": \"$token\"" "$work/requests.jsonl" || fail "the server never got the secret"
token=
echo "ok: env:NAME secret: in the log only on its ::add-mask:: line, sent to the server, absent from the outputs"

# --- an expression that came out empty: a blank line fails, naming it --------
# `args` written as "--timeout\n${{ inputs.timeout }}\n<url>" with the input
# empty: skipping the blank line would make the URL the timeout's value.
probes_before=$(wc -l <"$work/requests.jsonl")
run_action verify-health $'--timeout\n\n'"$base/health"$'\n'
expect_status 2 "blank line in args"
expect_output ok false "blank line in args"
expect_output exit-code 2 "blank line in args"
error=$(output error)
[[ "$error" == "args: line 2 is blank; "* ]] || fail "blank line in args: error output is '$error'"
grep -q "^::error title=switchyard::args: line 2 is blank" "$work/stderr" ||
  fail "blank line in args: no annotation naming line 2 in: $(cat "$work/stderr")"
[[ $(wc -l <"$work/requests.jsonl") == "$probes_before" ]] ||
  fail "blank line in args: the step ran anyway"
run_action verify-health $'\n--timeout\n5s\n'"$base/health"
expect_status 2 "leading blank line in args"
[[ "$(output error)" == "args: line 1 is blank; "* ]] ||
  fail "leading blank line in args: error output is '$(output error)'"
echo "ok: a blank args line (an empty expression) fails with exit 2 naming its line; nothing ran"

# --- --flag=value on one line, and an empty value after '=' --------------------
run_action verify-health $'--timeout=5s\n'"$base/health"
expect_status 0 "--timeout=5s on one line"
expect_output healthy true "--timeout=5s on one line"
run_action verify-health $'--timeout=\n'"$base/health"
expect_status 2 "--timeout= with an empty expression"
expect_output error "switchyard-verify-health: --timeout: empty value; give it a value or leave the flag out" \
  "--timeout= with an empty expression"
echo "ok: --flag=value works on one line; --flag= with nothing after it fails with exit 2 naming the flag"

# --- no binary anywhere: exit 3, saying what to do ----------------------------
if [[ -x /usr/bin/switchyard || -x /bin/switchyard ]]; then
  echo "note: /usr/bin/switchyard is installed here, so 'not found on PATH' is not checked" >&2
else
  run_bin_dir="" run_path=/usr/bin:/bin run_action verify-health "$base/health"
  expect_status 3 "no binary"
  expect_output error "switchyard: not found on PATH; set the action's install input to 'source', or install the switchyard .deb in an earlier step" "no binary"
  echo "ok: no binary: exit 3 with what to do"
fi
