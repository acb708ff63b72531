#!/usr/bin/env bash
# examples/demo.sh BUILD_DIR: the README's main job, run by scripts/demo after
# it has built switchyard into BUILD_DIR.
#
# The whole pipeline on one machine, with real Maven, a private nginx on a
# loopback port and real processes. Nothing outside a temporary directory is
# touched but the host's history, kept for you to read; everything the demo
# starts is stopped when it exits. Every deploy is one `switchyard run`
# (build-jar -> push-artifact -> request-deploy --via local -> verify-health),
# with --env choosing which version's project it builds:
#   1. deploy 1.0.0 behind nginx (seamless mode);
#   2. under a light load, run the pipeline for an unhealthy build of 2.0.0,
#      labelled 2.0.0-broken-...: request-deploy's health gate refuses it and
#      1.0.0 keeps serving;
#   3. run it for a healthy 2.0.0, then roll back to 1.0.0 with
#      switchyard-request-deploy --rollback;
#   4. show that no request failed, which releases answered, and where the
#      host's history is.
set -uo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: examples/demo.sh BUILD_DIR" >&2
  exit 2
fi
build_dir=$(realpath "$1")
examples_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$examples_dir/.." && pwd)
# shellcheck source=bench/lib/harness.sh
source "$source_dir/bench/lib/harness.sh"

for tool in java mvn curl ss wrk nginx /usr/bin/python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "$tool: not found; run scripts/setup first" >&2
    exit 3
  fi
done
for program in switchyard switchyard-build-jar switchyard-push-artifact switchyard-request-deploy \
  switchyard-verify-health switchyard-switch-traffic; do
  if [[ ! -x $build_dir/$program ]]; then
    echo "$build_dir/$program: not built; build it first (scripts/demo does)" >&2
    exit 3
  fi
done

work=$(mktemp -d /tmp/switchyard-demo.XXXXXX)
# nginx workers run as an unprivileged user and must read the live-port file.
chmod 755 "$work"
port_blue="" port_green=""
cleanup() {
  harness_cleanup
  # The slots request-deploy started run detached (as they must, to outlive
  # a CI job); they listen on the two ports this run picked.
  stop_listeners ${port_blue:+"$port_blue"} ${port_green:+"$port_green"}
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "demo: interrupted" >&2; exit 130' INT TERM

if [[ -t 1 ]]; then bold=$'\e[1m' green=$'\e[32m' red=$'\e[31m' plain=$'\e[0m'; else bold="" green="" red="" plain=""; fi
section() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
say() { printf '  %s\n' "$*"; }
ok() { printf '%s  ok%s %s\n' "$green" "$plain" "$*"; }
die() {
  printf '%sdemo: %s%s\n' "$red" "$*" "$plain" >&2
  exit 1
}
# json_field FILE KEY: one field of a --json result.
json_field() {
  /usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$1" "$2"
}

# Two versions of the sample service, as two checkouts of a service's
# repository would be: copies of examples/hello-service whose pom says 1.0.0
# and 2.0.0.
for version in 1.0.0 2.0.0; do
  project=$work/src/hello-service-$version
  mkdir -p "$project"
  cp -r "$examples_dir/hello-service/pom.xml" "$examples_dir/hello-service/src" "$project/"
  sed -i "0,/<version>[^<]*<\/version>/s//<version>$version<\/version>/" "$project/pom.xml"
done

# One switchyard.yml, as a service's repository would have: the build, the
# artifact store, the health gate, the host (this machine, under $work) and
# the URL to verify, on loopback ports picked free now. Each environment
# picks the project to build; v2-broken is 2.0.0 started with FAIL_HEALTH=1,
# under its own release label.
nginx_port=$(free_port)
port_blue=$(free_port)
port_green=$(free_port)
while [[ $port_green == "$port_blue" ]]; do port_green=$(free_port); done
config=$work/switchyard.yml
java_args=$(printf '"%s", ' "${harness_java_opts[@]}")
cat >"$config" <<YAML
# The demo's switchyard.yml (docs/CONFIG.md): everything lives under $work.
app: hello
build:
  tool: maven
  args: [-o, -Dmaven.repo.local=/usr/share/maven-repo]   # offline, from Debian's Maven plugins
artifact:
  store: "file://$work/store"
health:
  expect_json: [status=UP]
  timeout: 30s
deploy:
  via: local
verify:
  url: "http://127.0.0.1:$nginx_port/actuator/health"
target:
  state_dir: "$work/host"
  ports: [$port_blue, $port_green]
  start_command: [java, ${java_args} -jar, "{artifact}", "--server.port={port}"]
  drain_timeout: 10s
  keep_warm: 1m
  nginx:
    mode: seamless
    prefix: "$work/nginx"
    conf: "$work/nginx/conf/nginx.conf"
    router_script: "$source_dir/runner/host/nginx/router.js"
    url: "http://127.0.0.1:$nginx_port/"
environments:
  v1:
    build:
      project_dir: "$work/src/hello-service-1.0.0"
  v2:
    build:
      project_dir: "$work/src/hello-service-2.0.0"
  v2-broken:
    build:
      project_dir: "$work/src/hello-service-2.0.0"
      release_template: "{project_version}-broken-{short_sha}"
    health:
      timeout: 3s
    target:
      environment:
        FAIL_HEALTH: "1"
YAML

section "A private nginx in seamless mode"
"$build_dir/switchyard-switch-traffic" --config "$config" --print-nginx-config >"$work/snippet.conf" ||
  die "switch-traffic could not print the nginx configuration for $config"
nginx_write_conf "$work/nginx" "$nginx_port" snippet "$work/snippet.conf"
nginx_start "$work/nginx" || die "the private nginx did not start; see $work/nginx/logs/error.log"
ok "nginx on 127.0.0.1:$nginx_port, configured as switch-traffic --print-nginx-config says; slots $port_blue and $port_green"

# pipeline ENV: one `switchyard run --env ENV`, its output in $work/run-ENV.log
# and its result in $work/run-ENV.json; prints the commands it ran and its
# closing summary, and returns its exit code.
pipeline() {
  local env=$1 status
  say "switchyard run --config switchyard.yml --env $env"
  "$build_dir/switchyard" run --config "$config" --env "$env" --json >"$work/run-$env.json" \
    2>"$work/run-$env.log"
  status=$?
  # The exact command of each step, and the summary switchyard run closes with.
  sed -n -e 's/^.*\(\$ switchyard-.*\)$/    \1/p' -e '/^switchyard run (/,$s/^/    /p' \
    "$work/run-$env.log" | sed "s#$work/#\$work/#g"
  return "$status"
}
# release_of ENV: the release label the run of ENV built.
release_of() { json_field "$work/run-$1.json" version; }

section "1. Deploy 1.0.0: build-jar -> push-artifact -> request-deploy (via local) -> verify-health"
started=$(now_ms)
pipeline v1 || { cat "$work/run-v1.log" >&2; die "the pipeline for 1.0.0 failed; its output is above"; }
v1_release=$(release_of v1)
ok "1.0.0 live as release $v1_release in $(($(now_ms) - started)) ms, build included"

say "starting a light load: wrk, 4 keep-alive connections, GET / and POST /echo, every response's version recorded"
LOAD_RESULT=$work/load.json wrk -t1 -c4 -d120s --timeout 5s -s "$source_dir/bench/load.lua" \
  "http://127.0.0.1:$nginx_port" >"$work/wrk.txt" 2>&1 &
wrk_pid=$!
harness_pids+=("$wrk_pid")
sleep 2

section "2. An unhealthy 2.0.0 (release 2.0.0-broken-..., FAIL_HEALTH=1): the health gate must refuse it"
pipeline v2-broken
status=$?
((status == 1)) || { cat "$work/run-v2-broken.log" >&2; die "switchyard run exited $status for an unhealthy build; expected 1"; }
broken_release=$(release_of v2-broken)
[[ $(json_field "$work/run-v2-broken.json" failed_step) == request-deploy ]] ||
  die "the unhealthy build was not stopped by request-deploy; see the output above"
say "$(grep -m1 'error:' "$work/run-v2-broken.log" | sed "s#$work/#\$work/#g")"
"$build_dir/switchyard-verify-health" --expect-version 1.0.0 --timeout 5s \
  "http://127.0.0.1:$nginx_port/actuator/health" 2>/dev/null ||
  die "1.0.0 no longer answers through nginx after the refused deploy"
ok "release $broken_release refused (exit 1 at request-deploy); 1.0.0 kept serving"

section "3. A healthy 2.0.0, then roll back"
v2_started=$(now_ms)
pipeline v2 || { cat "$work/run-v2.log" >&2; die "the pipeline for 2.0.0 failed; its output is above"; }
v2_release=$(release_of v2)
ok "2.0.0 live as release $v2_release in $(($(now_ms) - v2_started)) ms, build included"
sleep 2
say "switchyard-request-deploy --config switchyard.yml --rollback (1.0.0 was kept warm, so nothing has to boot)"
started=$(now_ms)
"$build_dir/switchyard-request-deploy" --config "$config" --rollback >"$work/rollback.txt" \
  2>"$work/rollback.log" || { cat "$work/rollback.txt" "$work/rollback.log" >&2; die "rollback failed; its output is above"; }
sed 's/^/    /' "$work/rollback.txt"
ok "rolled back to 1.0.0 in $(($(now_ms) - started)) ms"
sleep 2

kill -INT "$wrk_pid"
wait "$wrk_pid"
[[ -s $work/load.json ]] || die "wrk wrote no result; its output: $(cat "$work/wrk.txt")"

# The host's history outlives the demo's directory, so it can be read after.
history=$(mktemp --suffix=.jsonl /tmp/switchyard-demo-history.XXXXXX)
cp "$work/host/history.jsonl" "$history" || die "the host wrote no history at $work/host/history.jsonl"

section "Summary"
# Responses carry the app version (X-App-Version), which the broken and the
# healthy 2.0.0 share; the broken one answered nothing if the first 2.0.0
# response came after the healthy 2.0.0's run began.
/usr/bin/python3 - "$work/load.json" "$history" "$v2_started" "$v1_release" "$broken_release" \
  "$v2_release" <<'PY'
import json, sys
load_path, history_path, v2_started = sys.argv[1], sys.argv[2], int(sys.argv[3])
v1, broken, v2 = sys.argv[4:7]
load = json.load(open(load_path))
e = load["errors"]
failed = load["non_2xx"] + e["connect"] + e["read"] + e["write"] + e["timeout"]
versions = load["versions"]
count = lambda version: versions.get(version, {}).get("count", 0)
first_v2 = versions.get("2.0.0", {}).get("first_ms")
if first_v2 is not None and first_v2 < v2_started:
    broken_count = f"{count('2.0.0')} (2.0.0 answered before the healthy 2.0.0 was deployed)"
else:
    broken_count = "0"
others = [f"{v}: {s['count']}" for v, s in versions.items() if v not in ("1.0.0", "2.0.0")]
history = [json.loads(line) for line in open(history_path) if line.strip()]
rows = [
    ("requests sent", str(load["requests"])),
    ("requests failed", str(failed)),
    (f"served by {v1}", str(count("1.0.0"))),
    (f"served by {broken}", broken_count),
    (f"served by {v2}", str(count("2.0.0")) if broken_count == "0" else "see above"),
]
if others:
    rows.append(("other versions", ", ".join(others)))
rows.append(("history", f"{history_path}, {len(history)} records:"))
rows += [("", f"{h.get('action')} {h.get('version')}: {h.get('outcome')}") for h in history]
width = max(len(name) for name, _ in rows)
for name, value in rows:
    print(f"  {name:<{width}}  {value}")
sys.exit(0 if failed == 0 and broken_count == "0" else 1)
PY
status=$?
((status == 0)) || die "a request failed or the unhealthy build answered; see $work/wrk.txt and the table above"
ok "no request failed while 1.0.0 -> (2.0.0-broken refused) -> 2.0.0 -> 1.0.0, every step through switchyard run"
say "everything the demo started has been stopped; only the history above is left behind"
