#!/usr/bin/env bash
# push-artifact into the file store: outputs, idempotence, refusal of changed
# bytes (exit 2, exact message), --force, the manifest beside the jar, and the
# usage errors a user hits first.
set -euo pipefail
# Plain output whatever CI runs this: the messages are compared exactly.
unset GITHUB_ACTIONS JENKINS_URL
bin="${SWITCHYARD_BIN_DIR:?}/switchyard-push-artifact"
work=$(mktemp -d /tmp/switchyard-push-file-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [[ "$1" == "$2" ]] || fail "$3: expected [$2], got [$1]"; }
json() { /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

store="file://$work/store"
printf 'jar bytes v1' >hello.jar
sha1=$(sha256sum hello.jar | cut -d' ' -f1)

# First push: the jar and its manifest land under <app>/<version>/.
out=$("$bin" --store "$store" --release 1.0.0-abc --json hello.jar 2>err.txt)
expect_eq "$(json "['artifact_uri']" <<<"$out")" "$store/hello/1.0.0-abc/hello.jar" "artifact_uri"
expect_eq "$(json "['manifest_uri']" <<<"$out")" "$store/hello/1.0.0-abc/hello.jar.manifest.json" "manifest_uri"
expect_eq "$(json "['sha256']" <<<"$out")" "$sha1" "sha256"
expect_eq "$(json "['size']" <<<"$out")" "12" "size"
expect_eq "$(json "['already_present']" <<<"$out")" "False" "already_present"
cmp hello.jar store/hello/1.0.0-abc/hello.jar || fail "stored bytes differ"
expect_eq "$(json "['sha256']" <store/hello/1.0.0-abc/hello.jar.manifest.json)" "$sha1" "stored manifest"
grep -q "stored 12 bytes in" err.txt || fail "no summary line: $(cat err.txt)"

# The same bytes again: a no-op.
out=$("$bin" --store "$store" --release 1.0.0-abc --json hello.jar 2>err.txt)
expect_eq "$(json "['already_present']" <<<"$out")" "True" "second push already_present"
grep -q "already stored with the same sha256; nothing to do" err.txt || fail "no no-op line"

# Different bytes under the same version: refused, exit 2, stored bytes kept.
printf 'jar bytes v2!' >hello.jar
set +e
"$bin" --store "$store" --release 1.0.0-abc hello.jar 2>err.txt
code=$?
set -e
expect_eq "$code" "2" "exit code for changed bytes"
expect_eq "$(tail -n1 err.txt)" "error: $store/hello/1.0.0-abc/hello.jar: a different artifact is already stored under version 1.0.0-abc; build a new version or pass --force" "changed bytes message"
expect_eq "$(cat store/hello/1.0.0-abc/hello.jar)" "jar bytes v1" "stored bytes after refusal"

# --force replaces them.
"$bin" --store "$store" --release 1.0.0-abc --force hello.jar 2>/dev/null
expect_eq "$(cat store/hello/1.0.0-abc/hello.jar)" "jar bytes v2!" "stored bytes after --force"

# With a manifest beside the jar, app and version come from it.
printf 'service jar' >service.jar
sha=$(sha256sum service.jar | cut -d' ' -f1)
cat >service.jar.manifest.json <<JSON
{"app":"hello-service","version":"2.1.0-3f2a9c1","app_version":"2.1.0","git_sha":"3f2a9c1","branch":"main",
 "built_at":"2026-11-23T10:00:00Z","file":"service.jar","size":11,"sha256":"$sha","build_tool":"maven","java_version":"17"}
JSON
out=$("$bin" --store "$store" --json service.jar 2>/dev/null)
expect_eq "$(json "['artifact_uri']" <<<"$out")" "$store/hello-service/2.1.0-3f2a9c1/service.jar" "artifact from manifest"
expect_eq "$(json "['git_sha']" <store/hello-service/2.1.0-3f2a9c1/service.jar.manifest.json)" "3f2a9c1" "manifest kept whole"

# A jar that changed after its manifest was written: refused before storing.
printf 'service jaR' >service.jar
set +e
"$bin" --store "$store" --dry-run service.jar 2>err.txt
code=$?
set -e
expect_eq "$code" "2" "exit code for a jar that no longer matches its manifest"
expect_eq "$(tail -n1 err.txt)" "error: service.jar: sha256 $(sha256sum service.jar | cut -d' ' -f1) does not match its manifest's $sha; the file changed after the build, rebuild it" "mismatch message"

# A flag that contradicts the manifest.
printf 'service jar' >service.jar
set +e
"$bin" --store "$store" --release 9.9.9 service.jar 2>err.txt
code=$?
set -e
expect_eq "$code" "2" "exit code for --release against the manifest"
expect_eq "$(tail -n1 err.txt)" "error: service.jar.manifest.json: names release 2.1.0-3f2a9c1 but --release says 9.9.9; drop --release or rebuild" "contradiction message"

# No manifest and no --release.
printf 'x' >plain.jar
set +e
"$bin" --store "$store" plain.jar 2>err.txt
code=$?
set -e
expect_eq "$code" "2" "exit code without a version"
expect_eq "$(tail -n1 err.txt)" "error: plain.jar: no manifest beside it (plain.jar.manifest.json) and no --release; pass --release LABEL or build with switchyard-build-jar" "no version message"

# A missing file, a bad version label, --presign on the file store, an unknown store.
set +e
"$bin" --store "$store" --release 1 missing.jar 2>err.txt; code=$?
set -e
expect_eq "$code" "2" "exit code for a missing file"
expect_eq "$(tail -n1 err.txt)" "error: missing.jar: no such file; give the path of the built artifact" "missing file message"
set +e
"$bin" --store "$store" --release ../evil plain.jar 2>err.txt; code=$?
set -e
expect_eq "$code" "2" "exit code for a bad version"
expect_eq "$(tail -n1 err.txt)" "error: --release ../evil: a release label may hold only letters, digits, '.', '_' and '-'" "bad version message"
set +e
"$bin" --store "$store" --release 1 --presign 1h plain.jar 2>err.txt; code=$?
set -e
expect_eq "$code" "2" "exit code for --presign on a file store"
expect_eq "$(tail -n1 err.txt)" "error: $store: --presign needs an s3:// store" "presign message"
set +e
"$bin" --store "ftp://host/x" --release 1 plain.jar 2>err.txt; code=$?
set -e
expect_eq "$code" "2" "exit code for an unknown store"
expect_eq "$(tail -n1 err.txt)" "error: ftp://host/x (--store): unknown store; use file:///dir or s3://bucket/prefix" "unknown store message"

# switchyard.yml names the store and the app; a flag still wins.
cat >switchyard.yml <<YAML
app: greeter
artifact:
  store: file://$work/configured
YAML
out=$("$bin" --config switchyard.yml --release 5.0 --json plain.jar 2>/dev/null)
expect_eq "$(json "['artifact_uri']" <<<"$out")" "file://$work/configured/greeter/5.0/plain.jar" "store and app from switchyard.yml"
out=$("$bin" --config switchyard.yml --store "$store" --app other --release 5.0 --json plain.jar 2>/dev/null)
expect_eq "$(json "['artifact_uri']" <<<"$out")" "$store/other/5.0/plain.jar" "flags over switchyard.yml"
rm switchyard.yml

# --dry-run changes nothing and still reports the sha256.
out=$("$bin" --store "$store" --release 7.0 --dry-run --json plain.jar 2>/dev/null)
expect_eq "$(json "['sha256']" <<<"$out")" "$(sha256sum plain.jar | cut -d' ' -f1)" "dry-run sha256"
[[ ! -e store/plain/7.0 ]] || fail "--dry-run wrote to the store"

# The release label is --release: an empty one, a bare one, or the old
# --version LABEL exit 2 and store nothing.
listing() { find "$work/store" | sort; }
before=$(listing)
set +e
"$bin" --store "$store" --release "" plain.jar 2>err.txt; code=$?
set -e
expect_eq "$code" "2" "exit code for an empty --release"
expect_eq "$(tail -n1 err.txt)" "error: switchyard-push-artifact: --release: empty value; give it a value or leave the flag out" "empty --release message"
set +e
"$bin" --store "$store" plain.jar --release 2>err.txt; code=$?
set -e
expect_eq "$code" "2" "exit code for a bare --release"
grep -q -- "--release" err.txt || fail "a bare --release: the message does not name the flag: $(cat err.txt)"
set +e
"$bin" --store "$store" --version 8.0 plain.jar 2>err.txt; code=$?
set -e
expect_eq "$code" "2" "exit code for the old --version LABEL"
expect_eq "$(tail -n1 err.txt)" "error: switchyard-push-artifact: --version prints the program's version and takes no other argument; the release label is now --release LABEL (build-jar: --release-template T), see CHANGELOG.md" "old --version LABEL message"
set +e
"$bin" --store= --release 8.0 plain.jar 2>err.txt; code=$?
set -e
expect_eq "$code" "2" "exit code for an empty --store="
expect_eq "$(tail -n1 err.txt)" "error: switchyard-push-artifact: --store: empty value; give it a value or leave the flag out" "empty --store= message"
expect_eq "$(listing)" "$before" "the store after refused command lines"
echo "ok"
