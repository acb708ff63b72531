#!/usr/bin/env bash
# verify-health under a simulated GitHub runner (GITHUB_ACTIONS=true): what
# the service answered (its reasons while waiting, its last body afterwards)
# is enclosed in `::stop-commands::TOKEN` ... `::TOKEN::`, so a body holding
# `::set-output`, `::add-mask::` or `::error::` lines (also after a bare
# carriage return, which the runner takes as a line break) cannot act as a
# workflow command; the ::error annotation comes after the resume. A small
# reader plays the runner's part with its documented rules ("Stopping and
# starting workflow commands").
set -euo pipefail

bin_dir=${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}
verify_health="$bin_dir/switchyard-verify-health"
python=/usr/bin/python3
source "${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}/tests/support/cli_testing.sh"
# Plays the runner: the workflow commands it would act on, one per line.
runner_reader="${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}/tests/support/github_runner_reader.py"
if [[ ! -x "$verify_health" ]]; then
  echo "verify_health_github: skipped: $verify_health is not built; cmake --build build --target switchyard-verify-health"
  exit 125
fi

make_work_dir

# A loopback service that is DOWN and says so with workflow commands in its body.
cat >"$work/server.py" <<'PY'
import http.server, os, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'DOWN\n::set-output name=x::y\n::add-mask::z\r::error::injected'
        self.send_response(503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
PY
"$python" "$work/server.py" "$work/port" &
server_pid=$!
url="http://127.0.0.1:$(port_from "$work/port")/health"


set +e
env -u SWITCHYARD_LOG -u RUNNER_DEBUG GITHUB_ACTIONS=true GITHUB_OUTPUT="$work/github_output" \
  "$verify_health" --timeout 300ms --interval 100ms "$url" >/dev/null 2>"$work/err.txt"
status=$?
set -e
[[ $status -eq 1 ]] || fail "an unhealthy service exited $status, not 1: $(cat "$work/err.txt")"

acted_on=$("$python" "$runner_reader" "$work/err.txt" | paste -sd' ' -)
[[ "$acted_on" == "group stop-commands resume endgroup stop-commands resume error title=switchyard-verify-health" ]] ||
  fail "the runner would act on: $acted_on; stderr: $(cat "$work/err.txt")"

# The details block, exactly: the body's lines indented, inside stop-commands,
# the annotation after the resume. The attempt counts depend on timing.
mapfile -t lines <"$work/err.txt"
count=${#lines[@]}
((count >= 9)) || fail "stderr is too short: $(cat "$work/err.txt")"
token=${lines[$((count - 9))]#::stop-commands::}
[[ "$token" =~ ^[0-9a-f]{32}$ ]] || fail "no stop-commands line before the details: ${lines[$((count - 9))]}"
expected=(
  "::stop-commands::$token"
  "$url: not healthy after 300ms (N attempts)"
  "  last status: 503"
  "  last body: DOWN"
  "    ::set-output name=x::y"
  $'    ::add-mask::z\r::error::injected'
  "  reason: wrong status 503 (expected 2xx) (N attempts)"
  "::$token::"
  "::error title=switchyard-verify-health::$url: not healthy after 300ms: wrong status 503 (expected 2xx); check the service's log"
)
for i in "${!expected[@]}"; do
  actual=${lines[$((count - 9 + i))]}
  actual=$(sed -E 's/\(([0-9]+) attempts\)$/(N attempts)/' <<<"$actual")
  [[ "$actual" == "${expected[$i]}" ]] || fail "expected '${expected[$i]}', got '$actual'"
done

echo "verify_health_github: the service's answers enclosed in stop-commands"
