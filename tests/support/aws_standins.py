#!/usr/bin/python3
"""Loopback stand-ins for AWS STS and the EC2 instance metadata service
(IMDSv2), for the credential chain's tests (tests/integration/
test_aws_credentials.cpp). They follow AWS's published request and response
shapes:

- STS query API: a form POST with Action=AssumeRoleWithWebIdentity (unsigned)
  or Action=AssumeRole (must carry a SigV4 Authorization header), answered with
  <AssumeRole[WithWebIdentity]Response> XML holding Credentials (AccessKeyId,
  SecretAccessKey, SessionToken, Expiration), or <ErrorResponse>.
- IMDSv2: PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds
  returns a session token; GET /latest/meta-data/iam/security-credentials/ (the
  role name) and .../<role> (JSON: Code, AccessKeyId, SecretAccessKey, Token,
  Expiration) answer 401 unless X-aws-ec2-metadata-token carries that token.
- IAM Identity Center's portal: GET /federation/credentials?account_id=A&role_name=R
  answers {"roleCredentials": {accessKeyId, secretAccessKey, sessionToken,
  expiration (epoch milliseconds)}} when x-amz-sso_bearer_token carries
  --sso-token, 401 otherwise (GetRoleCredentials, as the SSO API documents it).
- Container credentials (the ECS / EKS Pod Identity agent): GET
  /container/credentials answers the same JSON when Authorization carries
  --container-token, 401 otherwise.

Listens on 127.0.0.1 on a free port, prints the port on the first line of
stdout, appends every request it receives to --log as one JSON object per line
(method, path, headers with lower-case names, body), and exits when its stdin
closes, so it cannot outlive the test that started it.
"""

import argparse
import datetime
import json
import threading
import urllib.parse

from standin_server import QuietHandler, serve

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.counter = 0
        self.imds_tokens = set()

    def next(self):
        with self.lock:
            self.counter += 1
            return self.counter


def expiration(seconds):
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class Handler(QuietHandler):
    def record(self, body):
        self.append_to_log(
            {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body,
            }
        )

    def answer(self, status, body, content_type="text/plain"):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    # --- STS -----------------------------------------------------------------

    def sts_error(self, status, code, message):
        self.answer(
            status,
            f'<ErrorResponse xmlns="{STS_NS}"><Error><Type>Sender</Type><Code>{code}</Code>'
            f"<Message>{message}</Message></Error><RequestId>c6104cbe-af31-11e0-8154-"
            f"cbc7ccf896c7</RequestId></ErrorResponse>",
            "text/xml",
        )

    def sts(self, body):
        form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        action = form.get("Action", "")
        if form.get("Version") != "2011-06-15":
            return self.sts_error(400, "InvalidParameterValue", "Version must be 2011-06-15")
        if action not in ("AssumeRoleWithWebIdentity", "AssumeRole"):
            return self.sts_error(400, "InvalidAction", f"Could not find operation {action}")
        if self.state.args.sts_error:
            status = 403 if self.state.args.sts_error == "AccessDenied" else 400
            return self.sts_error(
                status,
                self.state.args.sts_error,
                "Not authorized to perform sts:AssumeRoleWithWebIdentity &amp; more",
            )
        if action == "AssumeRoleWithWebIdentity":
            if not form.get("WebIdentityToken") or not form.get("RoleArn"):
                return self.sts_error(400, "MissingParameter", "WebIdentityToken and RoleArn")
            if "authorization" in {k.lower() for k in self.headers.keys()}:
                return self.sts_error(400, "InvalidRequest", "this call is not signed")
        else:
            authorization = self.headers.get("Authorization", "")
            if not authorization.startswith("AWS4-HMAC-SHA256 Credential="):
                return self.sts_error(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
        n = self.state.next()
        result = action + "Result"
        self.answer(
            200,
            f'<{action}Response xmlns="{STS_NS}"><{result}>'
            f"<SubjectFromWebIdentityToken>repo:org/app:ref:refs/heads/main</SubjectFromWebIdentityToken>"
            f"<AssumedRoleUser><Arn>{form.get('RoleArn')}/{form.get('RoleSessionName')}</Arn>"
            f"<AssumedRoleId>AROA{n}:{form.get('RoleSessionName')}</AssumedRoleId></AssumedRoleUser>"
            f"<Credentials><SessionToken>sts-session-token-{n}</SessionToken>"
            f"<SecretAccessKey>sts-secret-{n}</SecretAccessKey>"
            f"<Expiration>{expiration(self.state.args.expires_in)}</Expiration>"
            f"<AccessKeyId>{self.state.args.sts_access_key_id or f'ASIASTS{n}'}</AccessKeyId></Credentials>"
            f"<Audience>sts.amazonaws.com</Audience></{result}>"
            f"<ResponseMetadata><RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>"
            f"</ResponseMetadata></{action}Response>",
            "text/xml",
        )

    # --- IMDSv2 --------------------------------------------------------------

    def imds_token(self):
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        if ttl is None or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.answer(400, "Bad Request")
        token = f"imds-session-{self.state.next()}-AQAEAEXAMPLE"
        with self.state.lock:
            self.state.imds_tokens.add(token)
        self.answer(200, token)

    def imds_get(self):
        token = self.headers.get("X-aws-ec2-metadata-token")
        with self.state.lock:
            valid = token in self.state.imds_tokens
        if not valid:
            return self.answer(401, "Unauthorized")
        prefix = "/latest/meta-data/iam/security-credentials/"
        role = self.state.args.imds_role
        if self.path == prefix:
            if not role:
                return self.answer(404, "Not Found")
            return self.answer(200, role)
        if self.path == prefix + urllib.parse.quote(role or ""):
            n = self.state.next()
            return self.answer(
                200,
                json.dumps(
                    {
                        "Code": "Success",
                        "LastUpdated": expiration(0),
                        "Type": "AWS-HMAC",
                        "AccessKeyId": f"ASIAIMDS{n}",
                        "SecretAccessKey": f"imds-secret-{n}",
                        "Token": f"imds-session-token-{n}",
                        "Expiration": expiration(self.state.args.expires_in),
                    }
                ),
                "application/json",
            )
        self.answer(404, "Not Found")

    # --- container credentials (ECS / EKS Pod Identity agent) ----------------

    def container(self):
        if self.headers.get("Authorization") != self.state.args.container_token:
            return self.answer(401, "Unauthorized")
        n = self.state.next()
        self.answer(
            200,
            json.dumps(
                {
                    "RoleArn": "arn:aws:iam::123456789012:role/task",
                    "AccessKeyId": f"ASIACONT{n}",
                    "SecretAccessKey": f"container-secret-{n}",
                    "Token": f"container-session-token-{n}",
                    "Expiration": expiration(self.state.args.expires_in),
                }
            ),
            "application/json",
        )

    # --- IAM Identity Center portal (GetRoleCredentials) ----------------------

    def sso(self):
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        if self.headers.get("x-amz-sso_bearer_token") != self.state.args.sso_token:
            return self.answer(401, json.dumps({"message": "Session token not found or invalid"}),
                               "application/json")
        if not query.get("account_id") or not query.get("role_name"):
            return self.answer(400, json.dumps({"message": "account_id and role_name are required"}),
                               "application/json")
        n = self.state.next()
        when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
            seconds=self.state.args.expires_in)
        self.answer(
            200,
            json.dumps(
                {
                    "roleCredentials": {
                        "accessKeyId": f"ASIASSO{n}",
                        "secretAccessKey": f"sso-secret-{n}",
                        "sessionToken": f"sso-session-token-{n}",
                        "expiration": int(when.timestamp() * 1000),
                    }
                }
            ),
            "application/json",
        )

    # --- dispatch ------------------------------------------------------------

    def do_POST(self):
        body = self.read_body().decode("utf-8")
        self.record(body)
        self.sts(body)

    def do_PUT(self):
        body = self.read_body().decode("utf-8")
        self.record(body)
        if self.path == "/latest/api/token":
            return self.imds_token()
        self.answer(404, "Not Found")

    def do_GET(self):
        self.record("")
        if self.path.startswith("/latest/meta-data/"):
            return self.imds_get()
        if self.path == "/container/credentials":
            return self.container()
        if self.path.startswith("/federation/credentials?"):
            return self.sso()
        self.answer(404, "Not Found")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--expires-in", type=int, default=3600)
    parser.add_argument("--sts-error", default="")
    # The AccessKeyId STS answers (default ASIASTS<n>): S3RVER where a test
    # uses the credentials against s3rver, which knows no other key.
    parser.add_argument("--sts-access-key-id", default="")
    parser.add_argument("--imds-role", default="switchyard-host")
    parser.add_argument("--sso-token", default="sso-access-token-0001")
    parser.add_argument("--container-token", default="container-auth-token-0001")
    args = parser.parse_args()

    serve(Handler, State(args))


if __name__ == "__main__":
    main()
