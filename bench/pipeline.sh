#!/usr/bin/env bash
# bench/pipeline.sh [--build DIR] [--runs N] [--out DIR]
#
#   --build DIR  the build tree with switchyard and its steps (default build)
#   --runs N     runs, each both ways (default 5)
#   --out DIR    where the report goes (default a new /tmp directory)
#
# The whole pipeline for the sample service, from a clean clone to the new
# version answering through the host's nginx: `switchyard run` beside the
# users' hand-written pipeline, in the same run (issue 14).
#
# The service's repository is a local bare git repo holding
# examples/hello-service, a switchyard.yml and the users' deploy.sh
# (bench/baseline-switch.sh), as a user's repo would. The host is one of
# tests/support/fleet_hosts.sh's (network and mount namespaces, a real sshd
# and nginx in reload mode); the artifact store is s3rver (tests/node),
# reachable from the host. Each run pushes a commit that bumps the pom's
# version, then times, interleaved, from `git clone` to the new version
# answering:
#   switchyard  git clone; `switchyard run`: build-jar (Maven, offline),
#               push-artifact to s3://, request-deploy --via ssh (the host
#               fetches the jar from s3rver), verify-health through nginx (:80)
#   users       git clone; mvn package; aws s3 cp; scp the jar and deploy.sh;
#               ssh host bash deploy.sh (its sleeps as users write them,
#               ports 9081/9082 behind the same nginx, :81); a curl loop
#               (every 50 ms) until the new version answers through nginx
# Every run prints total and per-phase wall ms of both, the load average at
# the start and end of each pipeline, and whether the new version answered
# through nginx afterwards (checked again by this script). Writes
# OUT/results.json and OUT/summary.md, and each pipeline's log (and
# `switchyard run --json` result) in OUT/run-N-WAY/ (OUT defaults to a new
# /tmp directory).
# Needs root (namespaces), mvn, java, node, aws, git. Exit 0 when every
# pipeline ended with the new version answering, 1 when one did not, 2 bad
# usage, 3 a peer is missing.
set -euo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
build_dir=build
runs=5
out=""
while (($#)); do
  case $1 in
    --build) build_dir=${2:?--build needs a directory}; shift 2 ;;
    --runs) runs=${2:?--runs needs a number}; shift 2 ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench/pipeline.sh: unknown option $1; see --help" >&2; exit 2 ;;
  esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "bench/pipeline.sh: --runs $runs: expected a positive number" >&2; exit 2; }
source_dir=$(cd "$(dirname "$0")/.." && pwd)
[[ -d $build_dir ]] || { echo "bench/pipeline.sh: --build $build_dir: no such directory; pass the build tree" >&2; exit 2; }
build_dir=$(cd "$build_dir" && pwd)
for tool in mvn java node git scp curl; do
  command -v "$tool" >/dev/null || { echo "bench/pipeline.sh: $tool: not installed (scripts/setup installs it)" >&2; exit 3; }
done
aws=/usr/bin/aws # Debian's awscli, as bench/upload.sh runs it
[[ -x $aws ]] || { echo "bench/pipeline.sh: $aws: missing; apt-get install awscli" >&2; exit 3; }
for program in switchyard switchyard-build-jar switchyard-push-artifact switchyard-request-deploy switchyard-verify-health; do
  [[ -x $build_dir/$program ]] || { echo "bench/pipeline.sh: $build_dir/$program: not built; run cmake --build $build_dir" >&2; exit 3; }
done
warmup_jar=$build_dir/sample/hello-service.jar
[[ -f $warmup_jar ]] || { echo "bench/pipeline.sh: $warmup_jar: not built; run cmake --build $build_dir --target sample_service_jar" >&2; exit 3; }
s3rver_script=$source_dir/tests/node/node_modules/s3rver/bin/s3rver.js
[[ -f $s3rver_script ]] || { echo "bench/pipeline.sh: $s3rver_script: missing; scripts/setup installs tests/node" >&2; exit 3; }

unset GITHUB_ACTIONS JENKINS_URL
export SWITCHYARD_SOURCE_DIR=$source_dir SWITCHYARD_BIN_DIR=$build_dir
export FLEET_NGINX_MODE=reload # deploy.sh rewrites an include; switchyard uses reload mode beside it
# shellcheck source=bench/lib/harness.sh
source "$source_dir/bench/lib/harness.sh"
# shellcheck source=tests/support/s3rver.sh
source "$source_dir/tests/support/s3rver.sh"
# shellcheck source=tests/support/fleet_hosts.sh
source "$source_dir/tests/support/fleet_hosts.sh"
# shellcheck source=bench/lib/fleet_config.sh
source "$source_dir/bench/lib/fleet_config.sh"
s3rver_pid=""
# The EXIT trap. errexit is off inside it, so a failed kill or wait cannot
# skip removing the host.
cleanup() {
  set +e
  if [[ -n $s3rver_pid ]]; then
    kill "$s3rver_pid" 2>/dev/null
    wait "$s3rver_pid" 2>/dev/null
  fi
  fleet_teardown
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fleet_setup 1
work=$fleet_dir
[[ -n $out ]] || out=$(mktemp -d /tmp/switchyard-bench-pipeline-XXXXXX)
mkdir -p "$out"
host=${fleet_address[1]}
host_ip=${fleet_ip[1]}
maven_repo=/usr/share/maven-repo
java_opts="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -Xmx128m" # both ways run the JVM alike
load() { cut -d' ' -f1-3 /proc/loadavg; }

# --- the artifact store: s3rver on this side of the host's link --------------
# The host fetches the release from it, so it listens on the link's address
# (10.X.1.1), not on loopback; both pipelines upload to it.
store_ip=${host_ip%.*}.1
store_port=$(s3rver_free_port)
mkdir -p "$work/s3rver"
node "$s3rver_script" --directory "$work/s3rver" --port "$store_port" --address "$store_ip" --silent \
  --configure-bucket artifacts >"$work/s3rver.log" 2>&1 &
s3rver_pid=$!
store_endpoint=http://$store_ip:$store_port
for ((tries = 0; ; tries++)); do
  curl -s -o /dev/null -m 1 "$store_endpoint/" && break
  ((tries < 200)) || { echo "s3rver at $store_endpoint did not start: $(cat "$work/s3rver.log")" >&2; exit 3; }
  sleep 0.1
done
use_s3rver_credentials
# The host's own credentials, as an instance role gives a real server: a
# ~/.aws/credentials on a tmpfs over /root in the host's mount namespace, so
# this machine's /root is untouched.
fleet_exec 1 sh -c 'mount -t tmpfs -o mode=0700 tmpfs /root && mkdir /root/.aws &&
  printf "[default]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n" >/root/.aws/credentials &&
  printf "[default]\nregion = us-east-1\n" >/root/.aws/config'
fleet_exec 1 mkdir -p /var/lib/switchyard/app

# --- the service's repository ------------------------------------------------
# What a user's repo holds: the service, switchyard.yml, and their deploy.sh.
repo=$work/hello-service.git
dev=$work/dev
mkdir -p "$dev"
cp -r "$source_dir/examples/hello-service/pom.xml" "$source_dir/examples/hello-service/src" "$dev/"
cp "$source_dir/bench/baseline-switch.sh" "$dev/deploy.sh"
printf 'target/\n.switchyard/\n' >"$dev/.gitignore"
cat >"$dev/switchyard.yml" <<YAML
app: hello
build:
  tool: maven
  args: [-o, -q, -Dmaven.repo.local=$maven_repo]
artifact:
  store: s3://artifacts/switchyard
  endpoint: $store_endpoint
  region: us-east-1
health:
  expect_json: [status=UP]
  timeout: 120s
  interval: 100ms
verify:
  url: http://$host_ip/actuator/health
YAML
fleet_reload_sections "${java_opts// /, }" "$host" >>"$dev/switchyard.yml"
git_as_dev() { git -C "$dev" -c user.email=dev@example.org -c user.name=dev "$@"; }
git init -q --bare -b main "$repo"
git -C "$dev" init -q -b main
git_as_dev add -A
git_as_dev commit -qm "hello-service"
git_as_dev push -q "$repo" main

# bump_version VERSION: the developer's commit that the pipelines ship.
bump_version() {
  sed -i "0,/<version>[^<]*<\/version>/s//<version>$1<\/version>/" "$dev/pom.xml"
  grep -q "<version>$1</version>" "$dev/pom.xml" || { echo "$dev/pom.xml: the version was not bumped to $1" >&2; exit 1; }
  git_as_dev commit -qam "release $1"
  git_as_dev push -q "$repo" main
}

# answers URL VERSION: true when URL answers with X-App-Version VERSION now.
answers() {
  curl -s -m 5 -o /dev/null -D - "$1" | tr -d '\r' | grep -qix "x-app-version: $2"
}

# --- the users' way -----------------------------------------------------------
ssh_opts=(-o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$fleet_known_hosts" -i "$fleet_key")
users_url=http://$host_ip:81/
switchyard_url=http://$host_ip/

# users_deploy JAR DEPLOY_SH LOG: scp the jar and deploy.sh, then ssh host
# bash deploy.sh; the environment stands for the paths their deploy.sh has
# written in it. USERS_DEPLOY_ENV adds settings (the untimed warm-up shortens
# the sleeps).
# shellcheck disable=SC2029 # the remote command is built on this side, as users write it
users_deploy() {
  local jar=$1 deploy_sh=$2 log=$3 remote=/var/lib/switchyard/app
  scp -q "${ssh_opts[@]}" "$jar" "$deploy_sh" "$host:$remote/" &&
    ssh "${ssh_opts[@]}" "$host" \
      "NGINX_BIN=/usr/sbin/nginx NGINX_PREFIX=/var/lib/switchyard/nginx NGINX_CONF=/var/lib/switchyard/nginx/nginx.conf" \
      "NGINX_INCLUDE=/var/lib/switchyard/nginx/baseline_port.inc APP_DIR=$remote PORT_BLUE=9081 PORT_GREEN=9082" \
      "JAVA_OPTS='$java_opts' ${USERS_DEPLOY_ENV:-}" \
      "bash $remote/deploy.sh $remote/${jar##*/}" >>"$log" 2>&1
}

# Each pipeline sets `record` to one JSON object: total and phase ms, load
# average at start and end, whether the new version answered afterwards.
users_pipeline() {
  local run=$1 version=$2
  local dir=$work/run-$run-users start t_clone t_build t_store t_deploy t_answer
  local load_start load_end ok=true log jars
  mkdir -p "$dir"
  log=$dir/log.txt
  load_start=$(load)
  start=$(now_ms)
  git clone -q "$repo" "$dir/checkout" 2>>"$log" || ok=false
  t_clone=$(now_ms)
  $ok && (cd "$dir/checkout" && mvn -o -q -B -Dmaven.repo.local="$maven_repo" package) >>"$log" 2>&1 || ok=false
  t_build=$(now_ms)
  jars=("$dir"/checkout/target/hello-service-*.jar)
  [[ -f ${jars[0]} ]] || ok=false
  $ok && "$aws" --endpoint-url "$store_endpoint" s3 cp "${jars[0]}" "s3://artifacts/users/hello-service/$version/${jars[0]##*/}" \
      --only-show-errors >>"$log" 2>&1 || ok=false
  t_store=$(now_ms)
  $ok && users_deploy "${jars[0]}" "$dir/checkout/deploy.sh" "$log" || ok=false
  t_deploy=$(now_ms)
  $ok && wait_version "$users_url" "$version" 60 2>>"$log" || ok=false
  t_answer=$(now_ms)
  load_end=$(load)
  answers "$users_url" "$version" || ok=false
  $ok || { echo "users' pipeline, run $run: the new version $version did not answer; the log:" >&2; tail -20 "$log" >&2; }
  record=$(printf '{"way": "users", "run": %d, "version": "%s", "total_ms": %d, "phases_ms": {"clone": %d, "build": %d, "store": %d, "deploy": %d, "verify": %d}, "load_start": "%s", "load_end": "%s", "answered": %s}' \
    "$run" "$version" $((t_answer - start)) $((t_clone - start)) $((t_build - t_clone)) $((t_store - t_build)) \
    $((t_deploy - t_store)) $((t_answer - t_deploy)) "$load_start" "$load_end" "$ok")
}

switchyard_pipeline() {
  local run=$1 version=$2
  local dir=$work/run-$run-switchyard start t_clone t_end load_start load_end ok=true
  mkdir -p "$dir"
  load_start=$(load)
  start=$(now_ms)
  git clone -q "$repo" "$dir/checkout" 2>>"$dir/log.txt" || ok=false
  t_clone=$(now_ms)
  $ok && (cd "$dir/checkout" && PATH="$build_dir:$PATH" switchyard run --json) >"$dir/result.json" 2>>"$dir/log.txt" || ok=false
  t_end=$(now_ms)
  load_end=$(load)
  answers "$switchyard_url" "$version" || ok=false
  $ok || { echo "switchyard run, run $run: the new version $version did not answer; the log:" >&2; tail -20 "$dir/log.txt" >&2; }
  record=$(/usr/bin/python3 - "$dir/result.json" "$run" "$version" $((t_end - start)) $((t_clone - start)) \
    "$load_start" "$load_end" "$ok" <<'PY'
import json, sys
path, run, version, total, clone, load_start, load_end, ok = sys.argv[1:]
try:
    steps = {s["name"]: round(s["seconds"] * 1000) for s in json.loads(open(path).read() or "{}").get("steps", [])}
except ValueError:
    steps = {}
phases = {"clone": int(clone)}
for phase, step in (("build", "build-jar"), ("store", "push-artifact"), ("deploy", "request-deploy"),
                    ("verify", "verify-health")):
    phases[phase] = steps.get(step, 0)
print(json.dumps({"way": "switchyard", "run": int(run), "version": version, "total_ms": int(total),
                  "phases_ms": phases, "load_start": load_start, "load_end": load_end, "answered": ok == "true"}))
PY
)
}

# --- warm-up: the old version answering on both sides (not timed) -----------
# The sample jar of the build tree (1.0.0): request-deploy for switchyard's
# slots, deploy.sh with short sleeps for the users', so every timed run is a
# real switch from an old version to a new one.
"$build_dir/switchyard-request-deploy" --config "$dev/switchyard.yml" --artifact "$warmup_jar" \
  --release warm-up --json >"$work/warm-up.json" 2>"$work/warm-up.log" ||
  { cat "$work/warm-up.log" >&2; echo "bench/pipeline.sh: the warm-up deploy failed" >&2; exit 1; }
USERS_DEPLOY_ENV="BASELINE_INTERVAL=0.2 BASELINE_TRIES=300" users_deploy "$warmup_jar" "$dev/deploy.sh" "$work/warm-up-users.log" ||
  { cat "$work/warm-up-users.log" >&2; echo "bench/pipeline.sh: the users' warm-up deploy failed" >&2; exit 1; }
if ! wait_version "$switchyard_url" 1.0.0 30 || ! wait_version "$users_url" 1.0.0 30; then
  echo "bench/pipeline.sh: the warm-up version 1.0.0 does not answer through nginx" >&2
  exit 1
fi

# --- the runs -------------------------------------------------------------------
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
: >"$out/runs.jsonl"
/usr/bin/python3 "$source_dir/bench/lib/pipeline_report.py" header
for ((run = 1; run <= runs; run++)); do
  version=1.$run.0
  bump_version "$version"
  for way in switchyard users; do
    "${way}_pipeline" "$run" "$version"
    echo "$record" >>"$out/runs.jsonl"
    mkdir -p "$out/run-$run-$way"
    cp "$work/run-$run-$way"/*.* "$out/run-$run-$way/"
    /usr/bin/python3 "$source_dir/bench/lib/pipeline_report.py" row "$record"
  done
done

echo "bench/pipeline.sh: the report and every pipeline's log go to $out" >&2
/usr/bin/python3 "$source_dir/bench/lib/pipeline_report.py" report "$out/runs.jsonl" "$out" \
  "bench/pipeline.sh --build $build_dir --runs $runs" "$started" \
  "nproc $(nproc), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); $(mvn -B -v 2>/dev/null | head -1 | sed 's/\x1b\[[0-9;]*m//g'); $(java -version 2>&1 | head -1); $("$aws" --version 2>&1 | cut -d' ' -f1); $(/usr/sbin/nginx -v 2>&1)"
