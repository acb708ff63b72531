#!/usr/bin/env bash
# switchyard-request-deploy --via codedeploy reaches the CodeDeploy driver
# (runner/deploy/codedeploy, tested against a botocore-checked stand-in in
# tests/integration/test_codedeploy.cpp): no deploy.hosts needed, --rollback
# and --status refused, a missing application named, and the first API call
# (GetDeploymentGroup) made to the configured endpoint, here a closed port,
# exit 3 naming it. AWS CodeDeploy cannot run here.
set -euo pipefail
bin="${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}/switchyard-request-deploy"
[[ -x $bin ]] || { echo "skipped: $bin is not built" >&2; exit 125; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
unset GITHUB_ACTIONS JENKINS_URL AWS_PROFILE
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
export AWS_ENDPOINT_URL_CODEDEPLOY=http://127.0.0.1:1

# expect CODE TEXT ARGS...: the step exits CODE and its error line holds TEXT.
expect() {
  local code=$1 text=$2 status=0
  shift 2
  "$bin" "$@" --json >out.json 2>err.txt || status=$?
  [[ $status == "$code" ]] || fail "$*: exit $status, expected $code: $(cat err.txt)"
  grep -qF -- "$text" err.txt || fail "$*: no '$text' in: $(cat err.txt)"
  echo "ok: $* -> exit $code: $(grep -F -- "$text" err.txt | head -1)"
}

printf 'app: hello\ndeploy:\n  via: codedeploy\n' >switchyard.yml
echo "jar" >hello.jar
sha=$(sha256sum hello.jar | cut -c1-64)
cat >hello.jar.manifest.json <<JSON
{"app": "hello", "version": "1.0.0", "app_version": "1.0.0", "git_sha": "0123456789abcdef0123456789abcdef01234567", "branch": "main", "built_at": "2026-12-07T05:00:00Z", "file": "hello.jar", "size": 4, "sha256": "$sha", "build_tool": "test", "java_version": "17"}
JSON

expect 2 "--via codedeploy: --rollback and --status belong to CodeDeploy itself" --rollback
expect 2 "deploy.codedeploy.application: not set" --artifact hello.jar
cat >>switchyard.yml <<'YAML'
  codedeploy:
    application: hello
    deployment_group: hello-prod
    bundle_store: s3://example-bucket/bundles
    region: eu-west-2
YAML
expect 3 "http://127.0.0.1:1: connection refused (codedeploy GetDeploymentGroup)" --artifact hello.jar
grep -q '"exit_code":3' out.json || fail "the --json result does not carry exit code 3: $(cat out.json)"
