#!/usr/bin/env bash
# bench/request-deploy.sh [--build DIR] [--runs N]
#
# request-deploy to four "hosts" on this machine (network and mount
# namespaces with a real sshd and nginx each, tests/support/fleet_hosts.sh),
# the sample service's jar: serial (batch 1), batch 2 and batch 4 over ssh,
# against a local deploy of the same release on one host (--via local, run
# inside it) and against the users' way in the same run: for each host, scp
# the jar, then `ssh host bash bench/baseline-switch.sh JAR` (its own app on
# ports 9081/9082 behind the same nginx, :81).
#
# Every deploy ships the same jar under a new release label (the service's
# own version does not change, so confirming through nginx compares it with
# what the slot answers directly). Prints each run with the load average, the
# medians and worst, the per-host overhead of ssh over a local deploy, and
# the median per-phase times (connect, transfer, fetch, boot, healthy,
# switched, drained), as the Markdown docs/BENCHMARKS.md holds. Needs root.
set -euo pipefail

build_dir=build
runs=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build_dir=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: bench/request-deploy.sh [--build DIR] [--runs N]" >&2; exit 2 ;;
  esac
done
source_dir=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$(cd "$build_dir" && pwd)
export SWITCHYARD_SOURCE_DIR=$source_dir SWITCHYARD_BIN_DIR=$build_dir
jar=$build_dir/sample/hello-service.jar
if [[ ! -f $jar ]]; then
  echo "$jar: not built; run cmake --build $build_dir --target sample_service_jar" >&2
  exit 2
fi
unset GITHUB_ACTIONS JENKINS_URL
export FLEET_NGINX_MODE=reload  # the baseline script rewrites an include
source "$source_dir/tests/support/fleet_hosts.sh"
trap fleet_teardown EXIT
fleet_setup 4
cd "$fleet_dir"
mkdir -p ci
cp "$jar" ci/hello-service.jar
sha=$(sha256sum ci/hello-service.jar | cut -d' ' -f1)
java_opts="-XX:TieredStopAtLevel=1, -XX:+UseSerialGC, -Xshare:auto, -Xmx128m"

cat >ci/switchyard.yml <<YAML
app: hello
health: {timeout: 120s, interval: 100ms}
target:
  start_command: [java, $java_opts, -jar, "{artifact}", "--server.port={port}"]
  drain_timeout: 5s
  stop_grace: 5s
  lock_timeout: 10s
  keep_releases: 3
$(fleet_nginx_yaml)
    url: http://127.0.0.1/
    confirm_timeout: 30s
deploy:
  via: ssh
  hosts: [${fleet_address[1]}, ${fleet_address[2]}, ${fleet_address[3]}, ${fleet_address[4]}]
  remote_bin: $build_dir/switchyard
  ssh: {identity_file: $fleet_key, known_hosts: $fleet_known_hosts}
YAML
bin=$build_dir/switchyard-request-deploy
label=0
now_ms() { date +%s%3N; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# Each deploy sets `ms` and `file` (its JSON result, kept for the phases);
# run in this shell, not a subshell, so every deploy gets its own label.
ssh_deploy() {
  local batch=$1 start end
  label=$((label + 1))
  start=$(now_ms)
  "$bin" --config ci/switchyard.yml --artifact ci/hello-service.jar --sha256 "$sha" \
    --release "bench-$label" --batch "$batch" --json >"ci/result-$label.json" 2>"ci/log-$label.txt" ||
    { cat "ci/log-$label.txt" >&2; exit 1; }
  end=$(now_ms)
  ms=$((end - start)) file="ci/result-$label.json"
}

# request-deploy --via local on host 1 (the binary runs inside it).
local_deploy() {
  local start end
  label=$((label + 1))
  start=$(now_ms)
  fleet_exec 1 "$bin" --via local --config "$fleet_dir/ci/switchyard.yml" \
    --artifact "$fleet_dir/ci/hello-service.jar" \
    --sha256 "$sha" --release "bench-$label" --json >"ci/result-$label.json" 2>"ci/log-$label.txt" ||
    { cat "ci/log-$label.txt" >&2; exit 1; }
  end=$(now_ms)
  ms=$((end - start)) file="ci/result-$label.json"
}

# The users' way, host after host: scp the jar, ssh host bash deploy.sh.
ssh_opts=(-o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$fleet_known_hosts" -i "$fleet_key")
baseline_deploy() {
  local start end i
  label=$((label + 1))
  start=$(now_ms)
  for i in 1 2 3 4; do
    scp -q "${ssh_opts[@]}" ci/hello-service.jar "${fleet_address[i]}:/var/lib/switchyard/app-bench-$label.jar" ||
      { echo "scp to ${fleet_address[i]} failed" >&2; exit 1; }
    ssh "${ssh_opts[@]}" "${fleet_address[i]}" \
      "NGINX_BIN=/usr/sbin/nginx NGINX_PREFIX=/var/lib/switchyard/nginx NGINX_CONF=/var/lib/switchyard/nginx/nginx.conf" \
      "NGINX_INCLUDE=/var/lib/switchyard/nginx/baseline_port.inc APP_DIR=/var/lib/switchyard/app" \
      "PORT_BLUE=9081 PORT_GREEN=9082" \
      "JAVA_OPTS='-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -Xmx128m'" \
      "bash $source_dir/bench/baseline-switch.sh /var/lib/switchyard/app-bench-$label.jar" \
      >"ci/baseline-$label-$i.txt" 2>&1 || { cat "ci/baseline-$label-$i.txt" >&2; exit 1; }
  done
  end=$(now_ms)
  ms=$((end - start)) file=""
}

# Both ports of every host start from the same state: a warm-up deploy.
ssh_deploy 4
for i in 1 2 3 4; do fleet_exec "$i" mkdir -p /var/lib/switchyard/app; done

declare -A times phases_files
modes=(serial batch2 batch4 local baseline)
echo "| run | mode | ms | load average (1, 5, 15 min) |"
echo "|---|---|---|---|"
for ((run = 1; run <= runs; run++)); do
  for mode in "${modes[@]}"; do
    before=$(load)
    case $mode in
      serial) ssh_deploy 1 ;;
      batch2) ssh_deploy 2 ;;
      batch4) ssh_deploy 4 ;;
      local) local_deploy ;;
      baseline) baseline_deploy ;;
    esac
    [[ $ms =~ ^[0-9]+$ ]] || { echo "$mode: run $run failed" >&2; exit 1; }
    times[$mode]+="$ms "
    [[ -n $file ]] && phases_files[$mode]+="$file "
    echo "| $run | $mode | $ms | $before |"
  done
done

python3 - "${times[serial]}" "${times[batch2]}" "${times[batch4]}" "${times[local]}" "${times[baseline]}" \
  "${phases_files[serial]}" "${phases_files[batch4]}" "${phases_files[local]}" <<'PY'
import json, statistics, sys
names = ["serial", "batch2", "batch4", "local", "baseline"]
times = {n: [int(x) for x in sys.argv[1 + i].split()] for i, n in enumerate(names)}
print()
print("| mode | hosts | median ms | worst ms | runs |")
print("|---|---|---|---|---|")
hosts = {"serial": 4, "batch2": 4, "batch4": 4, "local": 1, "baseline": 4}
for n in names:
    t = times[n]
    print(f"| {n} | {hosts[n]} | {statistics.median(t):.0f} | {max(t)} | {', '.join(map(str, t))} |")
per_host = statistics.median(times["serial"]) / 4 - statistics.median(times["local"])
print()
print(f"per-host overhead of ssh over a local deploy (serial median / 4 - local median): {per_host / 1000:.2f} s")
print(f"batch 4 vs serial: {statistics.median(times['batch4']) / statistics.median(times['serial']):.2f}x the time")
print()
print("| mode | " + " | ".join(["connect", "transfer", "fetch", "boot", "healthy", "switched", "drained"]) + " |")
print("|---|" + "---|" * 7)
for label, files in (("serial", sys.argv[6]), ("batch4", sys.argv[7]), ("local", sys.argv[8])):
    phases = {}
    for f in files.split():
        for h in json.load(open(f))["hosts"]:
            for k, v in h["phases"].items():
                phases.setdefault(k.removesuffix("_ms"), []).append(v)
    row = [f"{statistics.median(phases[k]):.0f}" if k in phases else "-" for k in
           ["connect", "transfer", "fetch", "boot", "healthy", "switched", "drained"]]
    print(f"| {label} | " + " | ".join(row) + " |")
PY
