#!/usr/bin/python3
"""Signs S3 requests with botocore, the reference switchyard's signer is
compared against (tests/integration/test_sigv4_botocore.cpp).

Reads one JSON case per line on stdin and writes one JSON result per line on
stdout. The requests are built by a real botocore S3 client (so the object key
is encoded the way botocore encodes it) and caught just before they would be
sent; nothing leaves the machine. The signing time is fixed by replacing the
clock botocore.auth reads.

Case fields: op ("PutObject", "GetObject", "ListObjectsV2", "UploadPart",
"CreateMultipartUpload", "presign-GetObject"), bucket, key, body, params (extra
API parameters), region, endpoint (null for AWS's own), addressing ("path" or
"virtual"), access_key, secret_key, token, timestamp (YYYYmmddTHHMMSSZ),
expires (presign), unsigned_payload (bool), signer ("python", the default:
botocore.auth.S3SigV4Auth / S3SigV4QueryAuth; or "crt": botocore's awscrt
signers, when awscrt is installed).

Result: method, url, headers ([name, value] pairs, as botocore would send
them), body (as sent), canonical_request and string_to_sign (what botocore's
S3SigV4Auth computed), or for presign just url.
"""

import datetime
import json
import sys
import types

import botocore.auth
import botocore.config
import botocore.session

if botocore.auth.HAS_CRT:
    import botocore.crt.auth as crt_auth
else:
    crt_auth = None


class Captured(Exception):
    """Raised from before-send so that the request never goes out."""

    def __init__(self, request):
        super().__init__("captured")
        self.request = request


def fix_clock(timestamp):
    fixed = datetime.datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ")

    class FixedDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed

    clock = types.SimpleNamespace(
        datetime=FixedDatetime, timedelta=datetime.timedelta, timezone=datetime.timezone
    )
    botocore.auth.datetime = clock
    if crt_auth is not None:
        crt_auth.datetime = clock


# With awscrt installed botocore signs through the CRT (aws-c-auth). The pure
# Python signers are the reference here; "crt" picks the CRT ones instead.
PYTHON_SIGNERS = {
    "v4": botocore.auth.SigV4Auth,
    "v4-query": botocore.auth.SigV4QueryAuth,
    "s3v4": botocore.auth.S3SigV4Auth,
    "s3v4-query": botocore.auth.S3SigV4QueryAuth,
}


def choose_signers(signer):
    if signer == "crt":
        if crt_auth is None:
            raise RuntimeError("the CRT signers need awscrt, which is not installed")
        botocore.auth.AUTH_TYPE_MAPS.update(crt_auth.CRT_AUTH_TYPE_MAPS)
    else:
        botocore.auth.AUTH_TYPE_MAPS.update(PYTHON_SIGNERS)


recorded = {}


def record_intermediates():
    canonical_request = botocore.auth.SigV4Auth.canonical_request
    string_to_sign = botocore.auth.SigV4Auth.string_to_sign

    def recording_canonical_request(self, request):
        recorded["canonical_request"] = canonical_request(self, request)
        return recorded["canonical_request"]

    def recording_string_to_sign(self, request, canonical):
        recorded["string_to_sign"] = string_to_sign(self, request, canonical)
        return recorded["string_to_sign"]

    botocore.auth.SigV4Auth.canonical_request = recording_canonical_request
    botocore.auth.SigV4Auth.string_to_sign = recording_string_to_sign


# Loading the S3 model is what takes time: one session, one client per setup.
session = botocore.session.Session()
clients = {}


def make_client(case):
    setup = (
        case["region"],
        case.get("endpoint"),
        case.get("addressing", "path"),
        bool(case.get("unsigned_payload")),
        case["access_key"],
        case["secret_key"],
        case.get("token"),
    )
    if setup in clients:
        return clients[setup]
    s3_config = {"addressing_style": case.get("addressing", "path")}
    if case.get("unsigned_payload"):
        s3_config["payload_signing_enabled"] = False
    config = botocore.config.Config(
        signature_version="s3v4",
        retries={"total_max_attempts": 1},
        s3=s3_config,
    )
    client = session.create_client(
        "s3",
        region_name=case["region"],
        endpoint_url=case.get("endpoint"),
        config=config,
        aws_access_key_id=case["access_key"],
        aws_secret_access_key=case["secret_key"],
        aws_session_token=case.get("token"),
    )

    def capture(request, **kwargs):
        raise Captured(request)

    client.meta.events.register("before-send.s3", capture)
    clients[setup] = client
    return client


def api_params(case):
    params = {"Bucket": case["bucket"]}
    if case["op"] not in ("ListObjectsV2",):
        params["Key"] = case["key"]
    if case["op"] in ("PutObject", "UploadPart"):
        params["Body"] = case.get("body", "").encode("utf-8")
    params.update(case.get("params", {}))
    return params


def sign(case):
    fix_clock(case["timestamp"])
    choose_signers(case.get("signer", "python"))
    recorded.clear()
    client = make_client(case)
    op = case["op"]
    if op.startswith("presign-"):
        method = {"GetObject": "get_object", "PutObject": "put_object"}[op[len("presign-"):]]
        url = client.generate_presigned_url(
            method, Params=api_params(case), ExpiresIn=case["expires"]
        )
        return {"url": url}

    method = client.meta.method_to_api_mapping
    python_name = {v: k for k, v in method.items()}[op]
    try:
        getattr(client, python_name)(**api_params(case))
    except Captured as captured:
        request = captured.request
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        return {
            "method": request.method,
            "url": request.url,
            "headers": [
                [k, v.decode("utf-8") if isinstance(v, bytes) else v]
                for k, v in request.headers.items()
            ],
            "body": body or "",
            "canonical_request": recorded.get("canonical_request", ""),
            "string_to_sign": recorded.get("string_to_sign", ""),
        }
    raise RuntimeError(f"{op}: the request was not captured")


def main():
    record_intermediates()
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        try:
            result = sign(case)
        except Exception as error:  # reported to the test, which fails with it
            result = {"error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
