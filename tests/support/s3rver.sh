# Sourced by tests and benchmarks: starts s3rver (tests/node) behind the fault
# proxy on free loopback ports, in a temp directory removed on exit.
#   start_s3rver BUCKET  -> sets S3RVER_ENDPOINT (direct), S3_PROXY_ENDPOINT,
#                           S3_PROXY_LOG, S3RVER_DIR
#   use_s3rver_credentials  -> the keys s3rver accepts, nothing from ~/.aws
#   s3rver_test_start TEMPLATE -> a tests/cli script's start: $work made
#                           from TEMPLATE and entered, s3rver with the bucket
#                           "artifacts" (stopped on exit), its credentials
# Returns 125 (skip) with the reason on stderr when a peer is missing.

s3rver_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
s3rver_pids=()

s3rver_free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

s3rver_wait_port() {
  local port=$1 deadline=$((SECONDS + 20))
  while ((SECONDS < deadline)); do
    if /usr/bin/python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $port)))"; then
      return 0
    fi
    sleep 0.05
  done
  return 1
}

stop_s3rver() {
  local pid
  for pid in "${s3rver_pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for pid in "${s3rver_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  s3rver_pids=()
  [[ -n "${S3RVER_DIR:-}" ]] && rm -rf "$S3RVER_DIR"
}

start_s3rver() {
  local bucket=${1:-artifacts}
  local script="$s3rver_root/tests/node/node_modules/s3rver/bin/s3rver.js"
  if [[ ! -f "$script" ]]; then
    echo "skipped: s3rver is not installed (run scripts/setup, which installs tests/node)" >&2
    return 125
  fi
  if ! command -v node >/dev/null 2>&1; then
    echo "skipped: node is not installed" >&2
    return 125
  fi
  S3RVER_DIR=$(mktemp -d /tmp/switchyard-s3rver-XXXXXX)
  mkdir -p "$S3RVER_DIR/data"
  local port
  port=$(s3rver_free_port)
  node "$script" --directory "$S3RVER_DIR/data" --port "$port" --address 127.0.0.1 --silent \
    --configure-bucket "$bucket" >"$S3RVER_DIR/s3rver.log" 2>&1 &
  s3rver_pids+=($!)
  /usr/bin/python3 "$s3rver_root/tests/support/s3_fault_proxy.py" \
    --upstream "http://127.0.0.1:$port" --log "$S3RVER_DIR/requests.jsonl" \
    --port-file "$S3RVER_DIR/proxy.port" >"$S3RVER_DIR/proxy.log" 2>&1 &
  s3rver_pids+=($!)
  s3rver_wait_port "$port" || { echo "s3rver did not start: $(cat "$S3RVER_DIR/s3rver.log")" >&2; return 1; }
  local deadline=$((SECONDS + 20))
  while [[ ! -s "$S3RVER_DIR/proxy.port" ]] && ((SECONDS < deadline)); do sleep 0.05; done
  S3RVER_ENDPOINT="http://127.0.0.1:$port"
  S3_PROXY_ENDPOINT="http://127.0.0.1:$(cat "$S3RVER_DIR/proxy.port")"
  S3_PROXY_LOG="$S3RVER_DIR/requests.jsonl"
  s3rver_wait_port "${S3_PROXY_ENDPOINT##*:}" || { echo "the fault proxy did not start" >&2; return 1; }
}

# Queues a fault in the proxy (see tests/support/s3_fault_proxy.py).
s3_proxy_fault() {
  curl -sf -X POST --data "$1" "$S3_PROXY_ENDPOINT/__proxy/fault" >/dev/null
}

use_s3rver_credentials() {
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_EC2_METADATA_DISABLED=true
  export AWS_REGION=us-east-1
  export AWS_SHARED_CREDENTIALS_FILE=/nonexistent/credentials AWS_CONFIG_FILE=/nonexistent/config
  unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE
}

s3rver_test_start() {
  source "$s3rver_root/tests/support/cli_testing.sh"
  on_exit() { stop_s3rver; }
  make_work_dir "$1"
  cd "$work" || exit 1
  start_s3rver artifacts || exit $?
  use_s3rver_credentials
}
