#!/usr/bin/env bash
# `cmake --install` lays out bin/switchyard and bin/switchyard-<step> for every
# step in the source tree (steps/<name>/main.cpp), and the installed
# dispatcher reaches each step: `switchyard <step> --version`.
set -euo pipefail

bin_dir=${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}
source_dir=${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}

prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT

fail() {
  echo "install_layout: $*" >&2
  exit 1
}

# The steps, from the source tree: each steps/<name>/main.cpp is a step.
steps=()
for main in "$source_dir"/steps/*/main.cpp; do
  [[ -e "$main" ]] || continue
  steps+=("$(basename "$(dirname "$main")")")
done
echo "install_layout: steps in the source tree: ${steps[*]:-none}"

cmake --install "$bin_dir" --prefix "$prefix" >"$prefix.log" 2>&1 ||
  { cat "$prefix.log" >&2; rm -f "$prefix.log"; fail "cmake --install $bin_dir failed"; }
rm -f "$prefix.log"

[[ -x "$prefix/bin/switchyard" ]] || fail "bin/switchyard is missing or not executable"
expected_version=$("$bin_dir/switchyard" --version)
[[ "$("$prefix/bin/switchyard" --version)" == "$expected_version" ]] ||
  fail "bin/switchyard --version does not print '$expected_version'"

for step in "${steps[@]}"; do
  installed="$prefix/bin/switchyard-$step"
  [[ -x "$installed" ]] || fail "bin/switchyard-$step is missing or not executable"
  # Through the installed dispatcher, with a PATH that holds no switchyard,
  # so it is the copy beside the dispatcher that answers.
  output=$(env PATH=/usr/bin:/bin "$prefix/bin/switchyard" "$step" --version) ||
    fail "switchyard $step --version exited $?"
  [[ "$output" == "switchyard-$step ${expected_version#switchyard }" ]] ||
    fail "switchyard $step --version printed '$output', not 'switchyard-$step ${expected_version#switchyard }'"
done

# Nothing but switchyard and its steps goes into bin/.
for file in "$prefix"/bin/*; do
  name=$(basename "$file")
  [[ "$name" == switchyard ]] && continue
  step=${name#switchyard-}
  [[ " ${steps[*]} " == *" $step "* ]] || fail "bin/$name is installed but is not a step in steps/"
done

# An unknown command through the installed dispatcher says what to do.
set +e
message=$("$prefix/bin/switchyard" no-such-step 2>&1 >/dev/null)
status=$?
set -e
[[ $status -eq 2 ]] || fail "switchyard no-such-step exited $status, not 2"
[[ "$message" == "switchyard: 'no-such-step' is not a switchyard command; see 'switchyard --help'" ]] ||
  fail "switchyard no-such-step said: $message"

echo "install_layout: bin/switchyard and ${#steps[@]} step(s) installed and reachable"
