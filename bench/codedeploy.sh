#!/usr/bin/env bash
# CodeDeploy request benchmark: the time from request-deploy's start to
# CreateDeployment accepted (revision bundle built, uploaded to S3, the
# deployment created), for the sample jar and a 100 MiB jar, beside what the
# users' workflows do: `zip -r` + `aws s3 cp` + `aws deploy create-deployment`
# (Debian's /usr/bin/aws, with --endpoint-url on each call since that version
# ignores AWS_ENDPOINT_URL_<SERVICE>). Both run against the same peers on
# loopback: s3rver, and the CodeDeploy stand-in (tests/support/
# codedeploy_standin.py, which checks every signature and body). Alternating,
# several runs each; reports every run, the median and the worst.
#
#   bench/codedeploy.sh [--build DIR] [--runs N] [--big-mib N]
#
# Bar (issue 10): switchyard's wall time <= 1/2 of the aws-cli path's.
#
# switchyard's side runs switchyard-request-deploy --via codedeploy --no-wait
# when that step exists, else the library call it wraps
# (deploy_with_codedeploy) through the integration test binary's
# CodeDeployBench entry.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="${SWITCHYARD_BIN_DIR:-$root/build}"
runs=5
big_mib=100
while (($#)); do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --big-mib) big_mib=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "bench/codedeploy.sh: unknown option $1; see --help" >&2; exit 2 ;;
  esac
done

step="$build/switchyard-request-deploy"
tests="$build/tests/switchyard_integration_tests"
if [[ -x "$step" ]] && "$step" --help 2>/dev/null | grep -q codedeploy; then
  driver=step
elif [[ -x "$tests" ]]; then
  driver=library
else
  echo "bench/codedeploy.sh: $tests: not built; run cmake --build $build --target switchyard_integration_tests" >&2
  exit 3
fi
for tool in /usr/bin/aws /usr/bin/zip /usr/bin/python3; do
  [[ -x $tool ]] || { echo "bench/codedeploy.sh: $tool: missing; run scripts/setup (awscli, zip)" >&2; exit 3; }
done
sample_jar="$build/sample/hello-service.jar"
[[ -f $sample_jar ]] || { echo "bench/codedeploy.sh: $sample_jar: not built; build sample_service_jar" >&2; exit 3; }

source "$root/tests/support/s3rver.sh"
work=$(mktemp -d /tmp/switchyard-bench-codedeploy-XXXXXX)
sleeper=
cleanup() {
  [[ -n $sleeper ]] && kill "$sleeper" 2>/dev/null || true
  stop_s3rver
  rm -rf "$work"
}
trap cleanup EXIT
start_s3rver bench || exit $?
use_s3rver_credentials
export AWS_DEFAULT_REGION=$AWS_REGION

# The stand-in serves until its stdin closes: a fifo held open by a sleep.
mkfifo "$work/standin.stdin"
sleep 86400 >"$work/standin.stdin" &
sleeper=$!
/usr/bin/python3 "$root/tests/support/codedeploy_standin.py" --scenario success \
  --access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY" \
  --log "$work/standin.jsonl" --port-file "$work/standin.port" \
  <"$work/standin.stdin" >/dev/null &
for _ in $(seq 100); do [[ -s $work/standin.port ]] && break; sleep 0.1; done
[[ -s $work/standin.port ]] || { echo "bench/codedeploy.sh: the CodeDeploy stand-in did not start" >&2; exit 3; }
codedeploy="http://127.0.0.1:$(cat "$work/standin.port")"

cat >"$work/switchyard.yml" <<EOF
app: hello
artifact:
  endpoint: $S3RVER_ENDPOINT
deploy:
  codedeploy:
    application: hello
    deployment_group: hello-prod
    bundle_store: s3://bench/switchyard
    endpoint: $codedeploy
EOF

# The jars, each with the manifest build-jar would write beside it.
make_jar() {  # name source
  local jar="$work/$1"
  cp "$2" "$jar"
  local sha size
  sha=$(sha256sum "$jar" | cut -d' ' -f1)
  size=$(stat -c %s "$jar")
  printf '{"app":"hello","version":"bench","app_version":"1.0.0","git_sha":"","branch":"main","built_at":"2026-12-07T00:00:00Z","file":"%s","size":%s,"sha256":"%s","build_tool":"maven","java_version":"17"}\n' \
    "$1" "$size" "$sha" >"$jar.manifest.json"
}
cache="${SWITCHYARD_BENCH_CACHE:-/tmp/switchyard-bench-cache}"
mkdir -p "$cache"
big_source="$cache/codedeploy-${big_mib}MiB.bin"
if [[ ! -f $big_source || $(stat -c %s "$big_source") -ne $((big_mib * 1024 * 1024)) ]]; then
  head -c $((big_mib * 1024 * 1024)) /dev/urandom >"$big_source.tmp"
  mv "$big_source.tmp" "$big_source"
fi
make_jar hello-service.jar "$sample_jar"
make_jar big-service.jar "$big_source"

ms_now() { date +%s%3N; }

# switchyard: start -> CreateDeployment accepted.
run_switchyard() {  # jar release
  if [[ $driver == step ]]; then
    "$step" --via codedeploy --no-wait --config "$work/switchyard.yml" --artifact "$1" --release "$2" \
      >"$work/switchyard.log" 2>&1
  else
    SWITCHYARD_BENCH_CODEDEPLOY_CONFIG="$work/switchyard.yml" SWITCHYARD_BENCH_CODEDEPLOY_JAR="$1" \
      SWITCHYARD_BENCH_CODEDEPLOY_RELEASE="$2" \
      "$tests" --gtest_also_run_disabled_tests --gtest_filter='CodeDeployBench.*' \
      >"$work/switchyard.log" 2>&1
  fi || { echo "bench/codedeploy.sh: switchyard failed:" >&2; cat "$work/switchyard.log" >&2; exit 1; }
}

# The users' workflow: a revision directory zipped, copied to S3, deployed.
run_aws() {  # jar release
  local stage="$work/aws-$2"
  mkdir -p "$stage/hooks" "$stage/switchyard"
  cp "$1" "$1.manifest.json" "$stage/switchyard/"
  printf 'version: 0.0\nos: linux\nfiles:\n  - source: switchyard\n    destination: /srv/hello\nhooks:\n  ApplicationStart:\n    - location: hooks/start.sh\n      timeout: 300\n' >"$stage/appspec.yml"
  printf '#!/bin/sh\nexec switchyard-switch-traffic --artifact /srv/hello/%s\n' "$(basename "$1")" >"$stage/hooks/start.sh"
  chmod 755 "$stage/hooks/start.sh"
  cp "$work/switchyard.yml" "$stage/switchyard/"
  local key="aws/$2/bundle.zip"
  (
    cd "$stage"
    /usr/bin/zip -q -r "$work/aws-$2.zip" .
    /usr/bin/aws --endpoint-url "$S3RVER_ENDPOINT" s3 cp "$work/aws-$2.zip" "s3://bench/$key" --only-show-errors
    /usr/bin/aws --endpoint-url "$codedeploy" deploy create-deployment --application-name hello \
      --deployment-group-name hello-prod --s3-location "bucket=bench,key=$key,bundleType=zip" \
      --description "release $2" --output text
  ) >"$work/aws.log" 2>&1 || { echo "bench/codedeploy.sh: the aws-cli path failed:" >&2; cat "$work/aws.log" >&2; exit 1; }
  rm -rf "$stage" "$work/aws-$2.zip"
}

median() { sort -g | awk '{ v[NR] = $1 } END { m = int((NR + 1) / 2); if (NR % 2) print v[m]; else printf "%.0f\n", (v[m] + v[m + 1]) / 2 }'; }
worst() { sort -g | tail -1; }

echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); switchyard via $driver; awscli $(/usr/bin/aws --version 2>&1 | awk '{ print $1 }' | cut -d/ -f2)"
for jar in hello-service.jar big-service.jar; do
  : >"$work/sy.txt"
  : >"$work/aws.txt"
  for run in $(seq 1 "$runs"); do
    release="$(basename "$jar" .jar)-$run-$$"
    load=$(cut -d' ' -f1 /proc/loadavg)
    start=$(ms_now); run_switchyard "$work/$jar" "$release"; sy=$(($(ms_now) - start))
    start=$(ms_now); run_aws "$work/$jar" "$release"; aws=$(($(ms_now) - start))
    echo "$sy" >>"$work/sy.txt"
    echo "$aws" >>"$work/aws.txt"
    echo "$jar run $run: switchyard ${sy} ms, aws-cli ${aws} ms (load average $load)"
    rm -rf "${S3RVER_DIR:?}/data/bench/"*
  done
  sy_median=$(median <"$work/sy.txt"); aws_median=$(median <"$work/aws.txt")
  echo "$jar ($(stat -c %s "$work/$jar") bytes): switchyard median ${sy_median} ms, worst $(worst <"$work/sy.txt") ms;" \
    "aws-cli median ${aws_median} ms, worst $(worst <"$work/aws.txt") ms;" \
    "$(awk -v s="$sy_median" -v a="$aws_median" 'BEGIN { printf "ratio %.2f (bar <= 0.50: %s)", s / a, (s <= a / 2 ? "met" : "missed") }')"
done
# Every request the stand-in saw was signed and shaped as AWS expects.
if grep -q '"signature_ok": false\|"validation_errors": "' "$work/standin.jsonl"; then
  echo "bench/codedeploy.sh: the stand-in refused a request:" >&2
  grep '"signature_ok": false\|"validation_errors": "' "$work/standin.jsonl" >&2
  exit 1
fi
