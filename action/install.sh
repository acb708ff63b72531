#!/usr/bin/env bash
# Puts the switchyard binaries on PATH for the action's run step and the rest
# of the job, one of three ways (the `install` input):
#
#   release  download the release tarball of action/VERSION (or the `version`
#            input), refuse it unless its sha256 is one action/digests carries,
#            unpack it into the runner's tool cache; a cached copy is reused
#            without a download
#   source   build this action's own source (the `uses:` line pinned it); the
#            action restores and saves the build with actions/cache under the
#            key `plan` prints
#   none     switchyard is already on PATH
#   auto     release when action/digests carries the version's digest, else
#            source; `uses: ./action` (the action inside the workspace) always
#            builds its source, which is what is being tested there
#
# The action runs it twice, around its actions/cache step, by
# SWITCHYARD_INSTALL_PHASE:
#   plan     decide the mode; write mode, version, prefix and cache-key to
#            $GITHUB_OUTPUT (for actions/cache)
#   install  install by $INPUT_INSTALL (a mode `plan` decided); write bin-dir
#            to $GITHUB_OUTPUT and to $GITHUB_PATH
#   (unset)  both
#
# Environment: INPUT_INSTALL, INPUT_VERSION, SWITCHYARD_CACHE_HIT (the cache
# step's output), SWITCHYARD_DOWNLOAD_URL (a mirror of the release downloads;
# the digests are checked all the same). Exit codes: 0 installed, 1 the
# download did not match its digest (nothing installed), 2 a bad input or a
# version this action carries no digest for, 3 the download or the build's
# packages are unavailable.
set -euo pipefail

action_dir="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set; run this from the switchyard action}"
source_dir=$(cd "$action_dir/.." && pwd)
# Linux x86_64 is the one platform releases are built for.
platform=linux-x86_64

error() {
  local code=$1
  shift
  # A workflow command: '%' and newlines would end or change it.
  local message=${*//%/%25}
  echo "::error title=switchyard::${message//$'\n'/%0A}" >&2
  exit "$code"
}
write_output() { echo "$1=$2" >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set; run this from a GitHub Actions step}"; }
publish_bin_dir() {
  write_output bin-dir "$1"
  echo "$1" >>"${GITHUB_PATH:?GITHUB_PATH is not set; run this from a GitHub Actions step}"
}

# The version to install: the `version` input, else the one this action was
# released as (composite actions cannot read their own ref).
wanted_version() {
  local version=${INPUT_VERSION:-}
  if [[ -z "$version" ]]; then
    version=$(tr -d '[:space:]' <"$action_dir/VERSION")
  fi
  version=${version#v}
  [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([.+~-][0-9A-Za-z.+~-]+)?$ ]] ||
    error 2 "version: '$version' is not a release version like 1.2.3; fix the action's version input"
  echo "$version"
}

# The sha256 action/digests carries for file $1, or nothing.
carried_digest() {
  [[ -f "$action_dir/digests" ]] || return 0
  awk -v file="$1" '$1 !~ /^#/ && ($2 == file || $2 == "*" file) {print $1; exit}' "$action_dir/digests"
}

tarball_name() { echo "switchyard-$1-$platform.tar.gz"; }

# True when the action is the workspace's own copy (`uses: ./action`).
action_in_workspace() {
  [[ -n "${GITHUB_WORKSPACE:-}" ]] || return 1
  local workspace
  workspace=$(cd "$GITHUB_WORKSPACE" 2>/dev/null && pwd -P) || return 1
  [[ "$(cd "$action_dir" && pwd -P)/" == "$workspace/"* ]]
}

source_prefix() { echo "${RUNNER_TEMP:?RUNNER_TEMP is not set; run this from a GitHub Actions step}/switchyard"; }

# The build's cache key: the source tree, the compiler and the system's
# libraries (the OS release), so a changed file or a new runner image builds
# afresh.
source_cache_key() {
  local tree compiler os path inputs=()
  for path in CMakeLists.txt cmake runner steps; do
    [[ -e "$source_dir/$path" ]] && inputs+=("$path")
  done
  tree=$(cd "$source_dir" && find "${inputs[@]}" -type f -print0 | LC_ALL=C sort -z |
    xargs -0 sha256sum | sha256sum | cut -c1-16)
  compiler=$( (c++ --version 2>/dev/null || echo none) | head -1 | sha256sum | cut -c1-8)
  # shellcheck source=/dev/null
  os=$(. /etc/os-release && echo "${ID}-${VERSION_ID:-unknown}")
  echo "switchyard-source-$os-$(uname -m)-$compiler-$tree"
}

plan() {
  local mode=${INPUT_INSTALL:-auto} version
  case "$mode" in
    auto)
      version=$(wanted_version)
      if action_in_workspace; then
        echo "switchyard: the action is this workspace's own copy; building it from source" >&2
        mode=source
      elif [[ -n "$(carried_digest "$(tarball_name "$version")")" ]]; then
        mode=release
      else
        echo "switchyard: this action carries no release digest for $version; building it from source" >&2
        mode=source
      fi
      ;;
    release) version=$(wanted_version) ;;
    source | none) version="" ;;
    *) error 2 "install: '$mode' is not auto, release, source or none; fix the action's install input" ;;
  esac
  write_output mode "$mode"
  write_output version "$version"
  if [[ "$mode" == source ]]; then
    write_output prefix "$(source_prefix)"
    write_output cache-key "$(source_cache_key)"
  else
    write_output prefix ""
    write_output cache-key ""
  fi
}

install_release() {
  local version name digest tool_dir download actual
  version=$(wanted_version)
  name=$(tarball_name "$version")
  digest=$(carried_digest "$name")
  # Refused before any download: an unlisted file cannot be checked.
  [[ -n "$digest" ]] ||
    error 2 "$name: this action carries no sha256 for it (action/digests), so it will not install it; use a version this action was released with ($(tr -d '[:space:]' <"$action_dir/VERSION")) or install: source"

  tool_dir="${RUNNER_TOOL_CACHE:?RUNNER_TOOL_CACHE is not set; run this from a GitHub Actions step}/switchyard/$version/x64"
  # The tool cache's layout (@actions/tool-cache): <tool>/<version>/<arch>
  # with a .complete marker beside it; ours also holds the digest it was
  # unpacked from, so a different tarball of the same name is not taken.
  if [[ -f "$tool_dir.complete" && "$(cat "$tool_dir.complete")" == "$digest" && -x "$tool_dir/bin/switchyard" ]]; then
    echo "switchyard: using $version from the tool cache ($tool_dir)" >&2
    publish_bin_dir "$tool_dir/bin"
    return
  fi

  local base=${SWITCHYARD_DOWNLOAD_URL:-https://github.com/${GITHUB_ACTION_REPOSITORY:-switchyard/switchyard}/releases/download/v$version}
  local work
  work=$(mktemp -d "${RUNNER_TEMP:-/tmp}/switchyard-download.XXXXXX")
  download="$work/$name"
  echo "switchyard: downloading $base/$name" >&2
  curl --fail --silent --show-error --location --retry 3 --retry-delay 2 --proto '=https,http' \
    --output "$download" "$base/$name" ||
    { rm -rf "$work"; error 3 "$base/$name: the download failed (above); check the version and the network, or use install: source"; }
  actual=$(sha256sum "$download" | cut -d' ' -f1)
  if [[ "$actual" != "$digest" ]]; then
    rm -rf "$work"
    error 1 "$name: sha256 $actual is not the $digest this action carries; refusing it (the download was altered or the release replaced), nothing installed"
  fi

  rm -rf "$tool_dir" "$tool_dir.complete"
  mkdir -p "$tool_dir"
  tar -xzf "$download" -C "$tool_dir" --strip-components=1 --no-same-owner
  rm -rf "$work"
  echo "$digest" >"$tool_dir.complete"
  echo "switchyard: installed $version (sha256 $digest) into $tool_dir" >&2
  publish_bin_dir "$tool_dir/bin"
}

install_source() {
  local prefix build_dir missing
  prefix=$(source_prefix)
  # Restored by actions/cache, or built earlier in this job.
  if [[ -x "$prefix/bin/switchyard" ]]; then
    if [[ "${SWITCHYARD_CACHE_HIT:-}" == true ]]; then
      echo "switchyard: using $prefix/bin/switchyard, restored from the actions cache" >&2
    else
      echo "switchyard: using $prefix/bin/switchyard, built earlier in this job" >&2
    fi
    publish_bin_dir "$prefix/bin"
    return
  fi

  build_dir="$RUNNER_TEMP/switchyard-build"
  echo "::group::Build switchyard from $source_dir" >&2
  # Root only when a package is missing: a runner image (or a container) that
  # already has them builds as any user.
  missing=$(bash "$source_dir/scripts/setup" --build-only --dry-run)
  if [[ -n "$missing" ]]; then
    if [[ $(id -u) == 0 ]]; then
      bash "$source_dir/scripts/setup" --build-only
    elif sudo --non-interactive true 2>/dev/null; then
      sudo --non-interactive bash "$source_dir/scripts/setup" --build-only
    else
      error 3 "building switchyard needs $(echo "$missing" | tr '\n' ' ')and this job can neither install them (no root, no sudo); install them in the image or use install: release"
    fi
  fi
  # Warnings are the project's CI's business; a newer compiler on the
  # runner must not fail a user's deploy.
  cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    -DSWITCHYARD_WERROR=OFF >&2
  # Only what gets installed: the dispatcher and one executable per
  # steps/<name>/main.cpp (not the sample service, which needs Maven).
  local targets=(switchyard) step_main
  for step_main in "$source_dir"/steps/*/main.cpp; do
    targets+=("switchyard-$(basename "$(dirname "$step_main")")")
  done
  cmake --build "$build_dir" -j "$(nproc)" --target "${targets[@]}" >&2
  cmake --install "$build_dir" --prefix "$prefix" >&2
  echo "::endgroup::" >&2
  publish_bin_dir "$prefix/bin"
}

install() {
  case "${INPUT_INSTALL:-}" in
    none) write_output bin-dir "" ;;
    release) install_release ;;
    source) install_source ;;
    *) error 2 "install: '${INPUT_INSTALL:-}' is not release, source or none; run the plan phase first" ;;
  esac
}

case "${SWITCHYARD_INSTALL_PHASE:-}" in
  plan) plan ;;
  install) install ;;
  "")
    # Both, outside the action's two steps (tests, other CI systems).
    planned=$(mktemp)
    GITHUB_OUTPUT=$planned plan
    cat "$planned" >>"${GITHUB_OUTPUT:?}"
    INPUT_INSTALL=$(sed -n 's/^mode=//p' "$planned")
    rm -f "$planned"
    INPUT_INSTALL=$INPUT_INSTALL install
    ;;
  *) error 2 "install.sh: SWITCHYARD_INSTALL_PHASE '$SWITCHYARD_INSTALL_PHASE' is not plan or install" ;;
esac
