#!/usr/bin/env bash
# Puts the switchyard binaries on PATH for the action's run step and the rest
# of the job. Nothing is downloaded: the binaries come from PATH (a runner
# image, or an earlier step that installed the .deb after checking its
# sha256), or are built from this action's own source, which the `uses:` line
# already pinned to a commit. The directory is written to the step output
# `bin-dir` and to $GITHUB_PATH.
set -euo pipefail

install_mode="${INPUT_INSTALL:-auto}"
source_dir=$(cd "${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set; run this from the switchyard action}/.." && pwd)
# The version this copy of the action was cut from: project(switchyard VERSION x.y.z).
action_version=$(sed -n 's/^project(switchyard VERSION \([0-9.]*\).*/\1/p' "$source_dir/CMakeLists.txt")

publish_bin_dir() {
  echo "bin-dir=$1" >>"${GITHUB_OUTPUT:?}"
  echo "$1" >>"${GITHUB_PATH:?}"
}

case "$install_mode" in
  none)
    echo "bin-dir=" >>"${GITHUB_OUTPUT:?}"
    exit 0
    ;;
  auto)
    if found=$(command -v switchyard); then
      found_version=$(switchyard --version | awk '{print $2}')
      echo "switchyard: using $found ($found_version)" >&2
      if [[ -n "$action_version" && "$found_version" != "$action_version" ]]; then
        echo "::warning title=switchyard::$found is version $found_version but this action is $action_version; install the matching .deb, or set install to 'source'" >&2
      fi
      publish_bin_dir "$(dirname "$found")"
      exit 0
    fi
    ;;
  source) ;;
  *)
    echo "::error title=switchyard::install: '${install_mode//%/%25}' is not auto, source or none; fix the action's install input" >&2
    exit 2
    ;;
esac

prefix="${RUNNER_TEMP:?RUNNER_TEMP is not set; run this from a GitHub Actions step}/switchyard"
# A second use of the action in the same job reuses the first one's build.
if [[ -x "$prefix/bin/switchyard" ]]; then
  echo "switchyard: using $prefix/bin/switchyard, built earlier in this job" >&2
  publish_bin_dir "$prefix/bin"
  exit 0
fi

build_dir="$RUNNER_TEMP/switchyard-build"
echo "::group::Build switchyard $action_version from $source_dir" >&2
if [[ $(id -u) == 0 ]]; then as_root=(); else as_root=(sudo --non-interactive); fi
"${as_root[@]}" bash "$source_dir/scripts/setup" --build-only
cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >&2
# Only what gets installed: the dispatcher and one executable per
# steps/<name>/main.cpp (not the sample service, which needs Maven).
targets=(switchyard)
for step_main in "$source_dir"/steps/*/main.cpp; do
  targets+=("switchyard-$(basename "$(dirname "$step_main")")")
done
cmake --build "$build_dir" -j "$(nproc)" --target "${targets[@]}" >&2
cmake --install "$build_dir" --prefix "$prefix" >&2
echo "::endgroup::" >&2
publish_bin_dir "$prefix/bin"
