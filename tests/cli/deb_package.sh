#!/usr/bin/env bash
# `cpack -G DEB` makes a .deb that installs on Debian 12: it holds
# usr/bin/switchyard and every step, and its Depends names, by real Debian 12
# package names, the package of every shared library its programs load.
set -euo pipefail

bin_dir=${SWITCHYARD_BIN_DIR:?set SWITCHYARD_BIN_DIR to the build directory}
source_dir=${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}

for tool in cpack dpkg-deb dpkg-query dpkg-shlibdeps readelf; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "deb_package: skipped: $tool is not installed (scripts/setup installs it)"
    exit 125
  fi
done

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

fail() {
  echo "deb_package: $*" >&2
  exit 1
}

cpack -G DEB -B "$out" --config "$bin_dir/CPackConfig.cmake" >"$out/cpack.log" 2>&1 ||
  { cat "$out/cpack.log" >&2; fail "cpack -G DEB failed"; }
shopt -s nullglob
debs=("$out"/*.deb)
((${#debs[@]} == 1)) || fail "expected one .deb in $out, found ${#debs[@]}"
deb=${debs[0]}
echo "deb_package: built $(basename "$deb")"

# Its contents: the dispatcher and every step under usr/bin.
contents=$(dpkg-deb -c "$deb")
grep -qE ' \./usr/bin/switchyard$' <<<"$contents" || fail "usr/bin/switchyard is not in the package"
for main in "$source_dir"/steps/*/main.cpp; do
  [[ -e "$main" ]] || continue
  step=$(basename "$(dirname "$main")")
  grep -qE " \./usr/bin/switchyard-$step\$" <<<"$contents" ||
    fail "usr/bin/switchyard-$step is not in the package"
done

# Its control fields.
[[ "$(dpkg-deb -f "$deb" Package)" == switchyard ]] || fail "Package is not switchyard"
[[ "$(dpkg-deb -f "$deb" Architecture)" == "$(dpkg --print-architecture)" ]] ||
  fail "Architecture is $(dpkg-deb -f "$deb" Architecture), not $(dpkg --print-architecture)"
depends=$(dpkg-deb -f "$deb" Depends)
[[ -n "$depends" ]] || fail "the package declares no Depends"
echo "deb_package: Depends: $depends"

# Every package named in Depends exists in Debian 12 (installed here, or known to apt).
declared=()
IFS=',' read -ra clauses <<<"$depends"
for clause in "${clauses[@]}"; do
  # "libc6 (>= 2.34)" or "a | b": each alternative is a package name.
  IFS='|' read -ra alternatives <<<"$clause"
  for alternative in "${alternatives[@]}"; do
    name=$(awk '{print $1}' <<<"$alternative")
    name=${name%%:*}
    [[ -n "$name" ]] || continue
    declared+=("$name")
    if ! dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q 'ok installed' &&
      ! apt-cache show "$name" >/dev/null 2>&1; then
      fail "Depends names '$name', which is no Debian 12 package (neither installed nor known to apt)"
    fi
  done
done

# Every shared library the packaged programs link directly (ELF NEEDED; the
# libraries' own dependencies are their packages' business) belongs to a
# declared package.
root="$out/root"
dpkg-deb -x "$deb" "$root"
for program in "$root"/usr/bin/*; do
  ldd_output=$(ldd "$program")
  while read -r needed; do
    [[ -n "$needed" ]] || continue
    library=$(awk -v name="$needed" '$1 == name && $2 == "=>" {print $3}' <<<"$ldd_output")
    [[ "$library" == /* ]] || fail "$(basename "$program") needs $needed, which is not found here"
    owner=$(dpkg-query -S "$(readlink -f "$library")" 2>/dev/null | head -1 | cut -d: -f1) ||
      owner=""
    if [[ -z "$owner" ]]; then
      owner=$(dpkg-query -S "$library" 2>/dev/null | head -1 | cut -d: -f1) || owner=""
    fi
    [[ -n "$owner" ]] || fail "$(basename "$program") loads $library, which no Debian package owns"
    [[ " ${declared[*]} " == *" $owner "* ]] ||
      fail "$(basename "$program") loads $library from $owner, but Depends does not name $owner"
  done < <(readelf -d "$program" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
done

echo "deb_package: $(basename "$deb") holds usr/bin/switchyard and declares the package of every library it links"
