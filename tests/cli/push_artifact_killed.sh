#!/usr/bin/env bash
# A push killed with SIGKILL in the middle of the copy leaves nothing
# half-written in the file store: no jar and no manifest under their names
# (the temp file it leaves is cleaned up by the next push), and the next push
# stores the whole artifact.
set -euo pipefail
bin="${SWITCHYARD_BIN_DIR:?}/switchyard-push-artifact"
work=$(mktemp -d /tmp/switchyard-push-kill-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

# Big enough that the copy takes a while; sparse, so making it is instant.
truncate -s 200M big.jar
store="file://$work/store"
dir="$work/store/big/1.0/"

"$bin" --store "$store" --release 1.0 big.jar 2>push.log &
pid=$!
# Wait until the copy has begun (its temp file exists), then kill it.
for _ in $(seq 1 2000); do
  if compgen -G "$dir/.big.jar.tmp-*" >/dev/null; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then fail "the push ended before it could be killed"; fi
  sleep 0.005
done
compgen -G "$dir/.big.jar.tmp-*" >/dev/null || fail "the copy never started"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true

[[ ! -e "$dir/big.jar" ]] || fail "a killed push left big.jar under its name"
[[ ! -e "$dir/big.jar.manifest.json" ]] || fail "a killed push left a manifest"

# The next push completes and leaves only the jar and its manifest.
"$bin" --store "$store" --release 1.0 big.jar 2>/dev/null
cmp -s big.jar "$dir/big.jar" || fail "the stored jar differs"
listing=$(ls -A "$dir" | tr '\n' ' ')
[[ "$listing" == "big.jar big.jar.manifest.json " ]] || fail "leftovers after the next push: $listing"
echo "ok"
