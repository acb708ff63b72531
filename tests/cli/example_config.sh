#!/usr/bin/env bash
# examples/switchyard.yml stays valid: every key in it is a documented key
# with a valid value, in every environment (switch-traffic loads the whole
# target section to print the nginx snippet, so it checks them all), and each
# environment gets the nginx mode the comments say.
set -uo pipefail

bin_dir=${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}
source_dir=${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}
switch_traffic=$bin_dir/switchyard-switch-traffic
config=$source_dir/examples/switchyard.yml

if [[ ! -x $switch_traffic ]]; then
  echo "skipped: $switch_traffic not built" >&2
  exit 125
fi

failures=0
check_mode() { # ENV EXPECTED_MODE
  local env=$1 mode=$2 out
  if ! out=$("$switch_traffic" --config "$config" --env "$env" --print-nginx-config 2>&1); then
    echo "FAIL: --env $env: switch-traffic rejected $config: $out" >&2
    failures=$((failures + 1))
  elif [[ $out != *"# switchyard, $mode mode"* ]]; then
    echo "FAIL: --env $env: expected the $mode-mode snippet, got: $(head -3 <<<"$out")" >&2
    failures=$((failures + 1))
  fi
}
check_mode prod seamless
check_mode dev reload

# The top level alone (no environment chosen: not in a git work tree) is valid too.
cd "$(mktemp -d)" || exit 1
if ! out=$("$switch_traffic" --config "$config" --print-nginx-config 2>&1); then
  echo "FAIL: no environment: $out" >&2
  failures=$((failures + 1))
fi
rm -rf "$PWD"

((failures == 0)) && echo "examples/switchyard.yml: valid in every environment"
exit $((failures > 0))
