#!/usr/bin/env bash
# push-artifact to s3:// against s3rver (behind the recording proxy): a
# multipart push with every part checksummed, the outputs, a presigned URL
# that fetches the same bytes, the no-op re-push, and the exit codes and
# messages of the errors a user hits (no credentials, missing bucket,
# unreachable endpoint).
set -euo pipefail
# Plain output whatever CI runs this: the messages are compared exactly.
unset GITHUB_ACTIONS JENKINS_URL
bin="${SWITCHYARD_BIN_DIR:?}/switchyard-push-artifact"
source "${SWITCHYARD_SOURCE_DIR:?}/tests/support/s3rver.sh"
s3rver_test_start /tmp/switchyard-push-s3-XXXXXX
expect_eq() { [[ "$1" == "$2" ]] || fail "$3: expected [$2], got [$1]"; }
json() { /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

head -c 3000000 /dev/urandom >hello.jar
sha=$(sha256sum hello.jar | cut -d' ' -f1)

# Multipart with 1 MiB parts (the default part size is 8 MiB).
out=$(SWITCHYARD_S3_PART_SIZE=1048576 "$bin" --store s3://artifacts/team --endpoint "$S3_PROXY_ENDPOINT" \
  --release 1.0.0 --presign 15m --json hello.jar 2>err.txt)
expect_eq "$(json "['artifact_uri']" <<<"$out")" "s3://artifacts/team/hello/1.0.0/hello.jar" "artifact_uri"
expect_eq "$(json "['manifest_uri']" <<<"$out")" "s3://artifacts/team/hello/1.0.0/hello.jar.manifest.json" "manifest_uri"
expect_eq "$(json "['sha256']" <<<"$out")" "$sha" "sha256"
expect_eq "$(json "['size']" <<<"$out")" "3000000" "size"
grep -q "s3://artifacts/team/hello/1.0.0/hello.jar: stored 3000000 bytes in .* MiB/s)" err.txt || fail "no summary: $(cat err.txt)"

# Every part carried a checksum the proxy verified against the body.
/usr/bin/python3 - "$S3_PROXY_LOG" <<'PY' || fail "part checksums"
import json, sys
parts = [json.loads(l) for l in open(sys.argv[1]) if "partNumber=" in json.loads(l)["query"]]
assert len(parts) == 3, f"expected 3 parts, saw {len(parts)}"
for p in parts:
    assert p["headers"].get("x-amz-checksum-sha256"), p["query"]
    assert p["checksum_ok"] is True, p["query"]
PY

# A presigned URL valid 15 minutes. (That it fetches the bytes without
# credentials is tested in tests/integration/test_s3_store.cpp: s3rver's only
# secret key equals its key ID, S3RVER, so the masked output shows the key ID
# as *** here, which real keys never do.)
url=$(json "['presigned_url']" <<<"$out")
[[ "$url" == "$S3_PROXY_ENDPOINT/artifacts/team/hello/1.0.0/hello.jar?X-Amz-Algorithm=AWS4-HMAC-SHA256&"*"&X-Amz-Expires=900&X-Amz-Signature="* ]] ||
  fail "presigned URL: $url"

# Again: nothing to do.
out=$("$bin" --store s3://artifacts/team --endpoint "$S3_PROXY_ENDPOINT" --release 1.0.0 --json hello.jar 2>/dev/null)
expect_eq "$(json "['already_present']" <<<"$out")" "True" "re-push"

# No credentials anywhere: exit 3, the credential chain's own message.
set +e
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY HOME="$work" \
  "$bin" --store s3://artifacts/team --endpoint "$S3_PROXY_ENDPOINT" --release 1.0.1 hello.jar 2>err.txt
code=$?
set -e
expect_eq "$code" "3" "exit code without credentials"
[[ "$(tail -n1 err.txt)" == "error: AWS credentials: "* ]] || fail "no-credentials message: $(tail -n1 err.txt)"

# A bucket that does not exist: exit 2.
set +e
"$bin" --store s3://no-such-bucket/team --endpoint "$S3_PROXY_ENDPOINT" --release 1.0.1 hello.jar 2>err.txt
code=$?
set -e
expect_eq "$code" "2" "exit code for a missing bucket"
expect_eq "$(tail -n1 err.txt)" "error: s3://no-such-bucket: no such bucket (HTTP 404 NoSuchBucket); check the bucket in --store / artifact.store, or create it" "missing bucket message"

# Nothing listening at the endpoint: exit 3.
port=$(s3rver_free_port)
set +e
"$bin" --store s3://artifacts/team --endpoint "http://127.0.0.1:$port" --release 1.0.1 hello.jar 2>err.txt
code=$?
set -e
expect_eq "$code" "3" "exit code for an unreachable endpoint"
[[ "$(tail -n1 err.txt)" == "error: http://127.0.0.1:$port: connection refused"*"; check --endpoint / artifact.endpoint and that the store is reachable" ]] ||
  fail "unreachable message: $(tail -n1 err.txt)"

# No secret in anything printed.
! grep -r "S3RVER" err.txt || fail "a secret was printed"
echo "ok"
