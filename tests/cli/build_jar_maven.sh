#!/usr/bin/env bash
# build-jar with a real Maven build of examples/hello-service, offline from
# Debian's Maven packages (build.args: -o -Dmaven.repo.local=/usr/share/maven-repo),
# in a git repository of its own: the manifest's fields, the jar's sha256,
# the version per commit, -dirty for uncommitted changes, --dry-run, and a
# compile error reported with the compiler's lines.
set -euo pipefail

bin_dir=${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}
source_dir=${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}
build_jar="$bin_dir/switchyard-build-jar"
python=/usr/bin/python3
maven_repo=/usr/share/maven-repo

source "${SWITCHYARD_SOURCE_DIR:?}/tests/support/build_jar_testing.sh"
need_tools "scripts/setup installs it" git mvn java
if [[ ! -d "$maven_repo/org/apache/maven/plugins/maven-jar-plugin" ]]; then
  echo "build_jar_maven: skipped: Debian's Maven plugins are not in $maven_repo (scripts/setup installs them)"
  exit 125
fi

make_work_dir
commit() { git -C "$project" -c user.name=test -c user.email=test@invalid commit -qam "$1"; }

run_build_jar() {
  without_ci env -u SWITCHYARD_BUILD__ARGS "$build_jar" --config "$work/switchyard.yml" --project "$project" "$@"
}

# The project in a repository of its own, so the sha and dirtiness are real;
# switchyard.yml sits outside it.
project="$work/hello-service"
mkdir "$project"
cp -r "$source_dir/examples/hello-service/pom.xml" "$source_dir/examples/hello-service/src" "$project/"
[[ -f "$source_dir/examples/hello-service/.gitignore" ]] && cp "$source_dir/examples/hello-service/.gitignore" "$project/"
git -C "$project" init -q -b main
git -C "$project" add -A
commit "hello-service"
cat >"$work/switchyard.yml" <<YAML
build:
  args: [-o, -Dmaven.repo.local=$maven_repo]
YAML
java_file=$(find "$project/src" -name HelloService.java | head -1)
[[ -n "$java_file" ]] || fail "no HelloService.java in examples/hello-service"

# --- --dry-run builds nothing --------------------------------------------
run_build_jar --dry-run --json >"$work/out.json" 2>"$work/err.txt" ||
  { cat "$work/err.txt" >&2; fail "--dry-run failed"; }
[[ ! -e "$project/target" ]] || fail "--dry-run ran the build (target/ exists)"
[[ "$(field "$work/out.json" command)" == "mvn -B -ntp package -DskipTests -o -Dmaven.repo.local=$maven_repo" ]] ||
  fail "--dry-run would run: $(field "$work/out.json" command)"
grep -qF "build-jar: dry run; would run mvn -B -ntp package -DskipTests -o -Dmaven.repo.local=$maven_repo in $project" "$work/err.txt" ||
  fail "--dry-run does not say what it would run: $(cat "$work/err.txt")"

# --- a build: every manifest field ---------------------------------------
before=$(date -u +%s)
run_build_jar --json >"$work/out.json" 2>"$work/err.txt" || { cat "$work/err.txt" >&2; fail "the build failed"; }
jar=$(field "$work/out.json" jar)
manifest="$jar.manifest.json"
sha=$(git -C "$project" rev-parse HEAD)
[[ "$jar" == "$project/target/hello-service-1.0.0.jar" ]] || fail "jar is $jar"
[[ "$(field "$work/out.json" manifest)" == "$manifest" && -f "$manifest" ]] || fail "no manifest beside the jar"
"$python" - "$manifest" "$jar" "$sha" "$before" <<'PY' || fail "the manifest is wrong (see above)"
import datetime, hashlib, json, os, re, sys
path, jar, sha, before = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
m = json.load(open(path))
expected_keys = ["app", "version", "app_version", "git_sha", "branch", "built_at", "file", "size",
                 "sha256", "build_tool", "java_version"]
problems = []
if list(m) != expected_keys:
    problems.append(f"keys {list(m)}")
checks = {
    "app": "hello-service",
    "version": "1.0.0-" + sha[:7],
    "app_version": "1.0.0",
    "git_sha": sha,
    "branch": "main",
    "file": "hello-service-1.0.0.jar",
    "size": os.path.getsize(jar),
    "sha256": hashlib.sha256(open(jar, "rb").read()).hexdigest(),
    "build_tool": "maven",
    "java_version": "17",  # maven-jar-plugin's Build-Jdk-Spec
}
for key, value in checks.items():
    if m.get(key) != value:
        problems.append(f"{key}: {m.get(key)!r}, expected {value!r}")
built = m.get("built_at", "")
if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", built):
    problems.append(f"built_at {built!r} is not RFC 3339 UTC")
else:
    t = datetime.datetime.strptime(built, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    if not before - 1 <= t.timestamp() <= datetime.datetime.now(datetime.timezone.utc).timestamp() + 1:
        problems.append(f"built_at {built} is not the build's time")
for p in problems:
    print("manifest " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
for key in sha256 app size version; do
  [[ "$(field "$work/out.json" "$key")" == "$(field "$manifest" "$key")" ]] ||
    fail "the --json result's $key differs from the manifest's"
done
first_version=$(field "$manifest" version)

# --- a second commit gets a different version -----------------------------
echo "// second commit" >>"$java_file"
commit "second"
run_build_jar --json >"$work/out2.json" 2>"$work/err.txt" || { cat "$work/err.txt" >&2; fail "the second build failed"; }
second_version=$(field "$work/out2.json" version)
[[ "$second_version" == "1.0.0-$(git -C "$project" rev-parse --short=7 HEAD)" ]] ||
  fail "the second commit's version is $second_version"
[[ "$second_version" != "$first_version" ]] || fail "two commits share the version $first_version"

# --- uncommitted changes: -dirty --------------------------------------------
echo "// not committed" >>"$java_file"
run_build_jar --json >"$work/out3.json" 2>"$work/err.txt" || { cat "$work/err.txt" >&2; fail "the dirty build failed"; }
[[ "$(field "$work/out3.json" version)" == "$second_version-dirty" ]] ||
  fail "a dirty tree's version is $(field "$work/out3.json" version), not $second_version-dirty"

# --- a compile error: exit 1, the compiler's lines under the error -------
git -C "$project" checkout -q -- .
printf 'class Broken { int x = }\n' >"$(dirname "$java_file")/Broken.java"
set +e
run_build_jar --json >"$work/out4.json" 2>"$work/err.txt"
status=$?
set -e
[[ $status -eq 1 ]] || fail "a compile error exited $status, not 1"
headline="error: build-jar: mvn -B -ntp package -DskipTests -o -Dmaven.repo.local=$maven_repo exited with status 1 in $project; fix the build (its last lines follow)"
grep -qxF "$headline" "$work/err.txt" || fail "no error headline; stderr ends: $(tail -5 "$work/err.txt")"
line=$(grep -n -xF "$headline" "$work/err.txt" | tail -1 | cut -d: -f1)
tail -n +"$line" "$work/err.txt" | grep -qE '^  \| \[ERROR\] .*/Broken\.java:\[1,[0-9]+\] illegal start of expression$' ||
  fail "the compiler's line is not under the error: $(tail -n +"$line" "$work/err.txt")"
"$python" -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["ok"] is False and r["exit_code"] == 1 and "Broken.java" in r["error"] else 1)' "$work/out4.json" ||
  fail "the --json result does not carry the failure: $(cat "$work/out4.json")"

echo "build_jar_maven: manifest, versions, -dirty and compile errors as expected"
