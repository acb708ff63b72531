#!/usr/bin/env bash
# make-version-jar.sh BASE_JAR VERSION OUT_JAR
#
# Writes OUT_JAR: a copy of BASE_JAR (the sample service) whose manifest says
# Implementation-Version: VERSION, so the service reports VERSION in
# X-App-Version and GET /version. Tests deploy v1, v2, v3 this way without
# running Maven once per version. Uses only the JDK's `jar` tool.
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: make-version-jar.sh BASE_JAR VERSION OUT_JAR" >&2
  exit 2
fi
base=$1 version=$2 out=$3

if [[ ! -f $base ]]; then
  echo "$base: no such jar; build it first (cmake --build BUILD --target sample_service_jar)" >&2
  exit 2
fi
if [[ ! $version =~ ^[A-Za-z0-9._+-]+$ ]]; then
  echo "$version: not a usable version; use letters, digits and . _ + -" >&2
  exit 2
fi
if ! command -v jar >/dev/null; then
  echo "jar: not found; install openjdk-17-jdk-headless" >&2
  exit 3
fi

base=$(realpath "$base")
out_dir=$(dirname "$out")
mkdir -p "$out_dir"
out=$(realpath "$out_dir")/$(basename "$out")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir "$work/tree"
(cd "$work/tree" && jar --extract --file "$base")

# The manifest goes back in through --manifest, so it leaves the tree first.
manifest=$work/MANIFEST.MF
grep -v '^Implementation-Version:' "$work/tree/META-INF/MANIFEST.MF" | sed '/^\r\?$/d' >"$manifest"
echo "Implementation-Version: $version" >>"$manifest"
rm "$work/tree/META-INF/MANIFEST.MF"

# Build beside the destination and rename, so a reader never sees half a jar.
tmp_out=$(mktemp "$out.XXXXXX")
jar --create --file "$tmp_out" --manifest "$manifest" -C "$work/tree" .
mv -f "$tmp_out" "$out"
