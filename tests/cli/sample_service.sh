#!/usr/bin/env bash
# The sample service (examples/hello-service) behaves as its README says:
# health UP and DOWN, the version header and /version, echo, the startup delay,
# a crash at boot, the ready line, SERVER_PORT, loopback-only binding, and a
# SIGTERM that lets an in-flight request finish. Also checks
# tests/support/make-version-jar.sh, which the deploy tests use for v1, v2, v3.
set -uo pipefail

bin_dir=${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}
source_dir=${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}
jar=$bin_dir/sample/hello-service.jar

for tool in java curl ss; do
  if ! command -v "$tool" >/dev/null; then
    echo "skipped: $tool not found" >&2
    exit 125
  fi
done
if [[ ! -f $jar ]]; then
  echo "skipped: $jar not built (cmake --build BUILD --target sample_service_jar; needs mvn)" >&2
  exit 125
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
check_eq() { # check_eq WHAT EXPECTED ACTUAL
  if [[ $2 != "$3" ]]; then fail "$1: expected '$2', got '$3'"; fi
}
now_ms() { date +%s%3N; }

java_flags=(-XX:TieredStopAtLevel=1 -Xshare:auto -XX:+UseSerialGC -Xmx64m)

# start NAME JAR [ARGS...]: starts the service in the background with the
# environment of the caller; its stdout goes to $work/NAME.out.
start() {
  local name=$1 which_jar=$2
  shift 2
  java "${java_flags[@]}" -jar "$which_jar" "$@" >"$work/$name.out" 2>"$work/$name.err" &
  last_pid=$!
  pids+=("$last_pid")
}

# wait_ready NAME: waits up to 15 s for the ready line, then sets $port.
wait_ready() {
  local name=$1
  for _ in $(seq 300); do
    if grep -q '^hello-service ready at ' "$work/$name.out" 2>/dev/null; then
      port=$(awk '/^hello-service ready at /{print $6}' "$work/$name.out")
      return 0
    fi
    sleep 0.05
  done
  fail "$name: no ready line after 15 s; stderr: $(cat "$work/$name.err")"
  return 1
}

# request ARGS...: curl printing "STATUS VERSION-HEADER BODY" on one line.
request() {
  local headers=$work/headers body
  body=$(curl -s -m 5 -D "$headers" "$@")
  local status version
  status=$(awk 'NR==1{print $2}' "$headers")
  version=$(tr -d '\r' <"$headers" | awk -F': ' 'tolower($1)=="x-app-version"{print $2}')
  echo "$status $version $body"
}

# The ready line: its format, and an instant between launch and the first answer.
launched=$(now_ms)
start main "$jar" --server.port=0
main_pid=$last_pid
if wait_ready main; then
  line=$(cat "$work/main.out")
  if [[ ! $line =~ ^hello-service\ ready\ at\ ([0-9]{13})\ port\ ([0-9]+)\ version\ 1\.0\.0$ ]]; then
    fail "ready line: unexpected format: '$line'"
  else
    ready_ms=${BASH_REMATCH[1]}
    answered=$(now_ms)
    if ((ready_ms < launched || ready_ms > answered)); then
      fail "ready line: instant $ready_ms is outside launch $launched .. first check $answered"
    fi
  fi
  check_eq "ready line count" 1 "$(wc -l <"$work/main.out")"
  boot_line=$(grep 'after the process started' "$work/main.err")
  if [[ ! $boot_line =~ ^hello-service\ 1\.0\.0:\ ready\ ([0-9]+)\ ms\ after\ the\ process\ started$ ]]; then
    fail "boot time line on stderr: unexpected: '$boot_line'"
  elif ((BASH_REMATCH[1] > answered - launched + 50)); then
    fail "boot time line: ${BASH_REMATCH[1]} ms, longer than launch to first answer ($((answered - launched)) ms)"
  fi

  # Health, version and the X-App-Version header on every response.
  check_eq "GET /actuator/health" '200 1.0.0 {"status":"UP"}' "$(request "http://127.0.0.1:$port/actuator/health")"
  check_eq "GET /version" '200 1.0.0 {"version":"1.0.0"}' "$(request "http://127.0.0.1:$port/version")"
  check_eq "GET /" "200 1.0.0 {\"service\":\"hello-service\",\"version\":\"1.0.0\",\"port\":$port,\"message\":\"hello\"}" \
    "$(request "http://127.0.0.1:$port/")"
  check_eq "POST /echo" '200 1.0.0 {"a":[1,2,3],"b":"x y"}' \
    "$(request -X POST -H 'Content-Type: application/json' --data-binary '{"a":[1,2,3],"b":"x y"}' "http://127.0.0.1:$port/echo")"
  check_eq "GET /missing" '404 1.0.0 {"error":"no such path: /missing"}' "$(request "http://127.0.0.1:$port/missing")"
  check_eq "POST /" '405 1.0.0 {"error":"use GET"}' "$(request -X POST -d x "http://127.0.0.1:$port/")"
  check_eq "POST /slow" '200 1.0.0 {"slept_ms":10}' "$(request -X POST -d x "http://127.0.0.1:$port/slow?ms=10")"
  check_eq "PUT /slow" '405 1.0.0 {"error":"use GET"}' "$(request -X PUT -d x "http://127.0.0.1:$port/slow")"

  # Loopback only by default (Java may show it IPv4-mapped on a dual-stack socket).
  listening=$(ss -Hltn "sport = :$port" | awk '{print $4}')
  if [[ $listening != "127.0.0.1:$port" && $listening != "[::ffff:127.0.0.1]:$port" ]]; then
    fail "listening address: expected 127.0.0.1:$port, got '$listening'"
  fi

  # SIGTERM: the in-flight slow request still gets its answer, new connections
  # are refused, and the process exits 0.
  curl -s -m 10 -o "$work/slow.body" -w '%{http_code}' "http://127.0.0.1:$port/slow?ms=1500" >"$work/slow.status" &
  slow_pid=$!
  sleep 0.4
  term_at=$(now_ms)
  kill -TERM "$main_pid"
  sleep 0.2
  if curl -s -m 2 -o /dev/null "http://127.0.0.1:$port/version"; then
    fail "after SIGTERM: a new connection was still accepted"
  fi
  wait "$main_pid"
  check_eq "exit status after SIGTERM" 0 "$?"
  exited_after=$(($(now_ms) - term_at))
  wait "$slow_pid"
  check_eq "in-flight request across SIGTERM" '200 {"slept_ms":1500}' "$(cat "$work/slow.status") $(cat "$work/slow.body")"
  if ((exited_after > 5000)); then
    fail "after SIGTERM: took ${exited_after} ms to exit; expected about the 1.1 s left of the slow request"
  fi
fi

# FAIL_HEALTH=1 answers DOWN with 503.
FAIL_HEALTH=1 start down "$jar" --server.port=0
if wait_ready down; then
  check_eq "FAIL_HEALTH=1 health" '503 1.0.0 {"status":"DOWN"}' "$(request "http://127.0.0.1:$port/actuator/health")"
  check_eq "FAIL_HEALTH=1 version" '200 1.0.0 {"version":"1.0.0"}' "$(request "http://127.0.0.1:$port/version")"
  kill -TERM "$last_pid"
  wait "$last_pid"
fi

# SERVER_PORT picks the port when --server.port is absent.
free_port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SERVER_PORT=$free_port start env_port "$jar"
if wait_ready env_port; then
  check_eq "SERVER_PORT" "$free_port" "$port"
  check_eq "SERVER_PORT health" '200 1.0.0 {"status":"UP"}' "$(request "http://127.0.0.1:$free_port/actuator/health")"
  kill -TERM "$last_pid"
  wait "$last_pid"
fi

# STARTUP_DELAY_MS: nothing answers before the delay; the ready line comes after it.
launched=$(now_ms)
STARTUP_DELAY_MS=1500 start delayed "$jar" "--server.port=$free_port"
delayed_pid=$last_pid
sleep 0.8
if curl -s -m 1 -o /dev/null "http://127.0.0.1:$free_port/actuator/health"; then
  fail "STARTUP_DELAY_MS=1500: answered 0.8 s after launch"
fi
if wait_ready delayed; then
  ready_ms=$(awk '{print $4}' "$work/delayed.out")
  if ((ready_ms - launched < 1500)); then
    fail "STARTUP_DELAY_MS=1500: ready $((ready_ms - launched)) ms after launch"
  fi
  check_eq "STARTUP_DELAY_MS health" '200 1.0.0 {"status":"UP"}' "$(request "http://127.0.0.1:$free_port/actuator/health")"
  kill -TERM "$delayed_pid"
  wait "$delayed_pid"
fi

# FAIL_BOOT=1 prints why and exits 1 without ever listening.
FAIL_BOOT=1 java "${java_flags[@]}" -jar "$jar" --server.port=0 >"$work/boot.out" 2>"$work/boot.err"
check_eq "FAIL_BOOT=1 exit status" 1 "$?"
check_eq "FAIL_BOOT=1 stdout" "" "$(cat "$work/boot.out")"
check_eq "FAIL_BOOT=1 stderr" "hello-service 1.0.0: FAIL_BOOT=1 is set; exiting before listening" "$(cat "$work/boot.err")"

# A bad port is a usage error.
java "${java_flags[@]}" -jar "$jar" --server.port=http >"$work/bad.out" 2>"$work/bad.err"
check_eq "bad port exit status" 2 "$?"
check_eq "bad port message" "hello-service: --server.port=http: not a port; use 0-65535" "$(cat "$work/bad.err")"

# make-version-jar.sh: another version, reported by header, /version and the ready line.
started=$(now_ms)
if bash "$source_dir/tests/support/make-version-jar.sh" "$jar" 2.3.4-rc1 "$work/v2/hello-service.jar"; then
  echo "make-version-jar.sh took $(($(now_ms) - started)) ms" >&2
  start v2 "$work/v2/hello-service.jar" --server.port=0
  if wait_ready v2; then
    check_eq "v2 ready line version" "2.3.4-rc1" "$(awk '{print $8}' "$work/v2.out")"
    check_eq "v2 GET /version" '200 2.3.4-rc1 {"version":"2.3.4-rc1"}' "$(request "http://127.0.0.1:$port/version")"
    kill -TERM "$last_pid"
    wait "$last_pid"
  fi
else
  fail "make-version-jar.sh exited $?"
fi
bash "$source_dir/tests/support/make-version-jar.sh" "$jar" 'bad version' "$work/bad.jar" 2>"$work/mvj.err"
check_eq "make-version-jar.sh bad version exit" 2 "$?"
check_eq "make-version-jar.sh bad version message" \
  "bad version: not a usable version; use letters, digits and . _ + -" "$(cat "$work/mvj.err")"

if ((failures > 0)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "sample service: all checks passed"
