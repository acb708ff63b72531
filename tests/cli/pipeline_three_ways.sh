#!/usr/bin/env bash
# The product's promise: one pipeline, identical on a laptop, GitHub and
# Jenkins. The example pipeline (build the sample service with real Maven,
# push to a file store, request-deploy over ssh to a loopback sshd host with
# nginx in seamless mode, verify) runs three ways, each on a fresh host
# (tests/support/fleet_hosts.sh: network and mount namespaces):
#   1. `switchyard run` from a shell;
#   2. examples/github-workflow.yml's job, run by tests/node/run-workflow.mjs
#      the way GitHub's runner runs it (expressions through GitHub's own
#      evaluator, GITHUB_OUTPUT/ENV/STEP_SUMMARY files, bash -eo pipefail,
#      the composite action) with the ssh key as a secret;
#   3. examples/Jenkinsfile through the Jenkins library under real Groovy
#      (tests/jenkins/run_jenkinsfile.groovy), the key as an ssh credential.
# Their --json results, exit codes and the hosts' history records must agree
# field for field, times, durations, run ids, hosts and who asked aside.
# GitHub's runner and Jenkins cannot run here: these are the harnesses the
# other CI tests use, running the real action, library and binaries.
set -euo pipefail
unset GITHUB_ACTIONS JENKINS_URL
source_dir="${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}"
bin_dir="${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}"
source "$source_dir/tests/support/fleet_hosts.sh"
trap fleet_teardown EXIT
for tool in mvn java groovy node; do
  command -v "$tool" >/dev/null || fleet_skip "$tool: not installed; run scripts/setup"
done
[[ -d "$source_dir/tests/node/node_modules/@actions/expressions" ]] ||
  fleet_skip "@actions/expressions is not installed in tests/node; run scripts/setup"
fleet_setup 3

# The service's repository: the sample service at one commit, the example
# workflow and Jenkinsfile, and this checkout's action (as `uses: ./action`).
project=$fleet_dir/project
mkdir -p "$project/.github/workflows"
cp -r "$source_dir/examples/hello-service/pom.xml" "$source_dir/examples/hello-service/src" "$project/"
cp "$source_dir/examples/github-workflow.yml" "$project/.github/workflows/deploy.yml"
cp "$source_dir/examples/Jenkinsfile" "$project/Jenkinsfile"
ln -s "$source_dir/action" "$project/action"
(
  cd "$project"
  export GIT_AUTHOR_DATE=2026-12-01T00:00:00Z GIT_COMMITTER_DATE=2026-12-01T00:00:00Z
  git init -q -b main
  git -c user.email=ci@example.org -c user.name=ci add -A
  git -c user.email=ci@example.org -c user.name=ci commit -qm "hello-service"
)
sha=$(git -C "$project" rev-parse HEAD)

# switchyard.yml for way `i`: host i, its own artifact store; everything else
# the same. The key reaches request-deploy as env:DEPLOY_SSH_KEY on GitHub
# and a shell, and as a key file (SWITCHYARD_DEPLOY__SSH__IDENTITY_FILE) in
# Jenkins, exactly as the examples pass it.
write_config() {
  local i=$1
  cat >"$project/switchyard.yml" <<YAML
app: hello
build:
  tool: maven
  args: [-o, -q, -Dmaven.repo.local=/usr/share/maven-repo]
artifact:
  store: "file://$fleet_dir/store-$i"
health:
  expect_json: [status=UP]
  timeout: 60s
verify:
  url: "http://${fleet_ip[i]}/actuator/health"
target:
  start_command: [java, -XX:TieredStopAtLevel=1, -XX:+UseSerialGC, -jar, "{artifact}", "--server.port={port}"]
  drain_timeout: 3s
  stop_grace: 2s
$(fleet_nginx_yaml)
deploy:
  via: ssh
  hosts: [${fleet_address[i]}]
  remote_bin: $bin_dir/switchyard
  ssh:
    identity_file: env:DEPLOY_SSH_KEY
    known_hosts: $fleet_known_hosts
YAML
  rm -rf "$project/.switchyard" "$project/target"
}
key=$(cat "$fleet_key")
path_with_switchyard="$bin_dir:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# --- 1. a shell -------------------------------------------------------------------
write_config 1
set +e
(cd "$project" && DEPLOY_SSH_KEY="$key" PATH="$path_with_switchyard" switchyard run --json) \
  >"$fleet_dir/shell.json" 2>"$fleet_dir/shell.log"
shell_status=$?
set -e
[[ $shell_status == 0 ]] || fail "switchyard run exited $shell_status: $(tail -20 "$fleet_dir/shell.log")"
echo "ok: switchyard run from a shell deployed to ${fleet_address[1]}"

# --- 2. the GitHub workflow, as the runner runs it ----------------------------
write_config 2
"$source_dir/tests/node/node_modules/.bin/esbuild" "$source_dir/tests/node/run-workflow.mjs" --bundle \
  --platform=node --format=cjs --log-level=warning --outfile="$fleet_dir/run-workflow.cjs"
job=$(/usr/bin/python3 -c 'import sys, yaml; print(next(iter(yaml.safe_load(open(sys.argv[1]))["jobs"])))' \
  "$project/.github/workflows/deploy.yml")
/usr/bin/python3 - "$fleet_dir/request.json" "$project" "$job" "$path_with_switchyard" "$sha" "$fleet_dir" <<'PY'
import json, sys
out, project, job, path, sha, work = sys.argv[1:]
json.dump({
    "workflow": f"{project}/.github/workflows/deploy.yml", "job": job, "workspace": project,
    "github": {"ref_name": "main", "ref": "refs/heads/main", "sha": sha, "repository": "example/hello-service",
               "run_id": "4242", "server_url": "https://github.com", "event_name": "push"},
    "secrets": {"DEPLOY_SSH_KEY": open(f"{work}/client_key").read()},
    "env": {"PATH": path, "HOME": "/root", "LANG": "C.UTF-8"},
    "runner_temp": f"{work}/runner-temp",
    # The binaries under test are on PATH; downloading and building them is
    # what tests/cli/action_install*.sh test.
    "input_overrides": {"install": "none"},
}, open(out, "w"))
PY
set +e
node "$fleet_dir/run-workflow.cjs" "$fleet_dir/request.json" >"$fleet_dir/github.job.json" 2>"$fleet_dir/github.log"
github_status=$?
set -e
[[ $github_status == 0 ]] || fail "the workflow's job failed: $(tail -20 "$fleet_dir/github.log")"
/usr/bin/python3 - "$fleet_dir/github.job.json" "$fleet_dir/github.json" <<'PY'
import json, sys
job = json.load(open(sys.argv[1]))
runs = [step for step in job["steps"] if step.get("outputs", {}).get("result")]
assert len(runs) == 1, f"expected one switchyard step with a result, got {[s['name'] for s in job['steps']]}"
json.dump(json.loads(runs[0]["outputs"]["result"]), open(sys.argv[2], "w"))
PY
echo "ok: examples/github-workflow.yml's job deployed to ${fleet_address[2]}"

# --- 3. the Jenkinsfile, through the library ----------------------------------
write_config 3
java_home=${JAVA_HOME:-}
if [[ -z $java_home && ! -x /usr/lib/jvm/default-java/bin/java ]]; then
  java_home=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
fi
set +e
(cd "$project" && JAVA_HOME=$java_home SWITCHYARD_SOURCE_DIR="$source_dir" SWITCHYARD_BIN_DIR="$bin_dir" \
  TEST_WORKSPACE="$project" TEST_SSH_KEY_FILE="$fleet_key" TEST_RESULT="$fleet_dir/jenkins.json" \
  groovy -cp "$source_dir/jenkins/src:$source_dir/tests/jenkins" "$source_dir/tests/jenkins/run_jenkinsfile.groovy") \
  >"$fleet_dir/jenkins.log" 2>&1
jenkins_status=$?
set -e
[[ $jenkins_status == 0 ]] || fail "the Jenkinsfile failed: $(grep -v "^[[:space:]]*at " "$fleet_dir/jenkins.log" | tail -20)"
echo "ok: examples/Jenkinsfile deployed to ${fleet_address[3]}"

# --- they agree ----------------------------------------------------------------
for i in 1 2 3; do
  fleet_exec "$i" cat /var/lib/switchyard/hello/history.jsonl >"$fleet_dir/history-$i.jsonl"
done
/usr/bin/python3 - "$fleet_dir" "${fleet_address[1]}" "${fleet_address[2]}" "${fleet_address[3]}" <<'PY'
import json, re, sys
work, *hosts = sys.argv[1:]
ways = ["shell", "github", "jenkins"]
# What may differ between ways: when, how long, which run and who asked, and
# which host and store each way was given.
aside = re.compile(r"(^|_)(at|time|since|seconds|ms|duration|durations|run_url|run_id|requested_by|user|who|pid|uptime_seconds|started|finished|command|log)$")

def normal(value, way):
    i = ways.index(way)
    if isinstance(value, dict):
        return {k: normal(v, way) for k, v in sorted(value.items()) if not aside.search(k)}
    if isinstance(value, list):
        return [normal(v, way) for v in value]
    if isinstance(value, str):
        ip = hosts[i].split("@")[1]
        return value.replace(hosts[i], "HOST").replace(ip, "HOST").replace(f"store-{i + 1}", "store-N")
    return value

results = {way: normal(json.load(open(f"{work}/{way}.json")), way) for way in ways}
# The Jenkins library always adds exit_code to the Map it returns (docs/CI.md);
# the exit codes themselves are compared below.
codes = {way: results[way].pop("exit_code", 0) for way in ways}
if set(codes.values()) != {0}:
    sys.exit(f"the exit codes differ or are not 0: {codes}")

def differences(a, b, path="result"):
    """The paths where `a` and `b` differ, for a message a person can read."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            out += differences(a.get(key, "<missing>"), b.get(key, "<missing>"), f"{path}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {json.dumps(a)} against {json.dumps(b)}"]
histories = {way: [normal(json.loads(line), way) for line in open(f"{work}/history-{ways.index(way) + 1}.jsonl")]
             for way in ways}
problems = []
for way in ways[1:]:
    for name, mine, theirs in (("--json result", results[way], results["shell"]),
                               ("history", histories[way], histories["shell"])):
        if mine != theirs:
            problems.append(f"{way} and shell differ in the {name}: " + "; ".join(differences(mine, theirs)))
if problems:
    sys.exit("\n".join(problems))
assert results["shell"]["ok"] is True and results["shell"]["deployed"] is True, results["shell"]
print(f"ok: the three ways agree: release {results['shell']['version']}, "
      f"{len(histories['shell'])} history record(s) per host, field for field")
PY
