#!/usr/bin/env bash
# Puts the switchyard binaries on PATH for the rest of the job. Nothing is
# downloaded: the binaries come from PATH (a runner image or an earlier step
# that installed the .deb), or are built from this action's own source, which
# the `uses:` line already pinned to a commit.
set -euo pipefail

install_mode="${INPUT_INSTALL:-auto}"
source_dir=$(cd "${GITHUB_ACTION_PATH:?}/.." && pwd)

case "$install_mode" in
  none) exit 0 ;;
  auto)
    if command -v switchyard >/dev/null 2>&1; then
      echo "switchyard: using $(command -v switchyard) ($(switchyard --version))" >&2
      exit 0
    fi
    ;;
  source) ;;
  *)
    echo "::error title=switchyard::install: '$install_mode' is not auto, source or none; fix the action's install input" >&2
    exit 2
    ;;
esac

build_dir="${RUNNER_TEMP:-/tmp}/switchyard-build"
prefix="${RUNNER_TEMP:-/tmp}/switchyard"
echo "::group::Build switchyard from $source_dir" >&2
if [[ $(id -u) == 0 ]]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
"${sudo_cmd[@]}" bash "$source_dir/scripts/setup" --build-only
cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
echo "::endgroup::" >&2
echo "$prefix/bin" >>"${GITHUB_PATH:?}"
