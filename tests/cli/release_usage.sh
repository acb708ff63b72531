#!/usr/bin/env bash
# scripts/release's refusals, which need no build: an unknown option and a
# tag that is not the source's version exit 2, and a machine without a
# deb-src entry (apt knows no source package of curl) exits 3 saying how to
# add one, before anything is built.
set -euo pipefail

source_dir="${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}"
source "$source_dir/tests/support/cli_testing.sh"
need_tools "run scripts/setup --release" cmake g++ objdump readelf strip help2man dpkg-deb dpkg-shlibdeps dpkg-source
make_work_dir
run_release() {
  set +e
  "$source_dir/scripts/release" "$@" >"$work/stdout" 2>"$work/stderr"
  status=$?
  set -e
}

run_release --bogus
((status == 2)) || fail "an unknown option: exit $status, expected 2"
grep -qxF "release: '--bogus' is not an option; use --check, --version V or --help" "$work/stderr" ||
  fail "an unknown option: $(cat "$work/stderr")"
echo "ok: an unknown option exits 2"

release_dist
run_release --version v99.0.0
((status == 2)) || fail "a tag of another version: exit $status, expected 2"
grep -qxF "release: the tag says 99.0.0 but CMakeLists.txt says $version; bump project(... VERSION) before tagging" "$work/stderr" ||
  fail "a tag of another version: $(cat "$work/stderr")"
echo "ok: a tag that is not the source's version exits 2"

# No deb-src entry: apt-cache showsrc knows nothing (a stand-in on PATH).
mkdir -p "$work/bin"
printf '#!/bin/sh\nexit 0\n' >"$work/bin/apt-cache"
chmod +x "$work/bin/apt-cache"
PATH="$work/bin:$PATH" SWITCHYARD_RELEASE_CACHE="$work/cache" SWITCHYARD_RELEASE_BUILD="$work/build" \
  SWITCHYARD_RELEASE_DIST="$work/dist" run_release
((status == 3)) || fail "no deb-src: exit $status, expected 3: $(cat "$work/stderr")"
grep -qxF "release: curl: apt knows no source package; add a deb-src entry for Debian's archive (scripts/setup --release) and run apt-get update" "$work/stderr" ||
  fail "no deb-src: $(cat "$work/stderr")"
[[ ! -e "$work/build" && ! -e "$work/dist" ]] || fail "no deb-src: something was built"
echo "ok: without a deb-src entry it exits 3 and says how to add one, before building"
