# shellcheck shell=bash
# What the tests/cli/build_jar_*.sh scripts share, sourced after
# `set -euo pipefail` (with tests/support/cli_testing.sh: fail, need_tools,
# make_work_dir):
#
# field FILE KEY              a top-level field of a JSON file
# without_ci CMD...           runs CMD without the CI variables that would
#                             name the branch and build number
# custom_jar_project DIR [PY] a committed project whose build.command is a
#                             Python script writing target/custom-3.0.0.jar
#                             (Implementation-Version 3.0.0), after the
#                             Python lines PY (`os` and `sys` are imported)

source "${SWITCHYARD_SOURCE_DIR:?}/tests/support/cli_testing.sh"

field() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

without_ci() {
  env -u GITHUB_ACTIONS -u GITHUB_HEAD_REF -u GITHUB_REF_NAME -u BRANCH_NAME -u GIT_BRANCH \
    -u GITHUB_RUN_NUMBER -u BUILD_NUMBER -u JENKINS_URL "$@"
}

custom_jar_project() {
  local project=$1 before=${2:-}
  mkdir -p "$project"
  cat >"$project/make_jar.py" <<PY
import os, sys, zipfile
$before
os.makedirs("target", exist_ok=True)
with zipfile.ZipFile("target/custom-3.0.0.jar", "w", zipfile.ZIP_DEFLATED) as jar:
    jar.writestr("META-INF/MANIFEST.MF",
                 "Manifest-Version: 1.0\r\nImplementation-Version: 3.0.0\r\nMain-Class: Main\r\n\r\n")
    jar.writestr("Main.class", b"\xca\xfe\xba\xbe")
PY
  cat >"$project/switchyard.yml" <<YAML
app: custom-service
build:
  command: [/usr/bin/python3, make_jar.py]
YAML
  printf 'target/\n' >"$project/.gitignore"
  git -C "$project" init -q -b main
  git -C "$project" add -A
  git -C "$project" -c user.name=test -c user.email=test@invalid commit -qm custom
}
