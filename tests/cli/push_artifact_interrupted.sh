#!/usr/bin/env bash
# Ctrl-C during a multipart push to s3:// stops it, aborts the multipart
# upload (AbortMultipartUpload, answered by the proxy since s3rver lacks it),
# never completes it, and exits 130 with one line saying so.
set -euo pipefail
# Plain output whatever CI runs this: the messages are compared exactly.
unset GITHUB_ACTIONS JENKINS_URL
bin="${SWITCHYARD_BIN_DIR:?}/switchyard-push-artifact"
source "${SWITCHYARD_SOURCE_DIR:?}/tests/support/s3rver.sh"
s3rver_test_start /tmp/switchyard-push-int-XXXXXX

head -c $((12 * 1024 * 1024)) /dev/urandom >big.jar
# Slow every part down so the push is still running when it is interrupted.
s3_proxy_fault '{"method":"PUT","query_contains":"partNumber=","delay_ms":300,"times":-1}'

SWITCHYARD_S3_PART_SIZE=1048576 SWITCHYARD_S3_PARTS_IN_FLIGHT=2 \
  "$bin" --store s3://artifacts/team --endpoint "$S3_PROXY_ENDPOINT" --release 1.0 big.jar 2>err.txt &
pid=$!
for _ in $(seq 1 400); do
  grep -q 'partNumber=' "$S3_PROXY_LOG" 2>/dev/null && break
  sleep 0.025
done
grep -q 'partNumber=' "$S3_PROXY_LOG" || fail "no part was sent"
kill -INT "$pid"
set +e
wait "$pid"
code=$?
set -e
[[ "$code" == 130 ]] || fail "exit code $code, expected 130: $(cat err.txt)"
[[ "$(tail -n1 err.txt)" == "error: s3://artifacts/team/big/1.0/big.jar: interrupted (the multipart upload was aborted)" ]] ||
  fail "message: $(tail -n1 err.txt)"
/usr/bin/python3 - "$S3_PROXY_LOG" <<'PY' || fail "requests after the interrupt"
import json, sys
requests = [json.loads(line) for line in open(sys.argv[1])]
parts = [r for r in requests if "partNumber=" in r["query"]]
aborts = [r for r in requests if r["method"] == "DELETE" and "uploadId=" in r["query"]]
completes = [r for r in requests if r["method"] == "POST" and r["query"].startswith("uploadId=")]
assert 0 < len(parts) < 12, f"{len(parts)} parts sent"
assert len(aborts) == 1, f"{len(aborts)} aborts"
assert not completes, "the upload was completed"
PY
[[ ! -e "$S3RVER_DIR/data/artifacts/team/big/1.0/big.jar._S3rver_object" ]] || fail "an object was stored"
echo "ok"
