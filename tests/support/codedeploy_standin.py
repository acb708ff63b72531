#!/usr/bin/python3
"""A loopback stand-in for the AWS CodeDeploy API (JSON 1.1), for
tests/integration/test_codedeploy.cpp and bench/codedeploy.sh. AWS CodeDeploy
cannot run here, so this server checks every request the way AWS would and
answers from botocore's own model of the service
(botocore/data/codedeploy/2014-10-06/service-2.json):

- X-Amz-Target must be CodeDeploy_20141006.<Operation> of a known operation,
  Content-Type application/x-amz-json-1.1;
- the SigV4 signature is recomputed with botocore.auth.SigV4Auth (service
  codedeploy, the region in the credential scope) from the received method,
  path, signed headers and body, and must match; host, x-amz-date and
  x-amz-target must be signed; a request more than 15 minutes off answers
  InvalidSignatureException "Signature expired";
- the body is validated with botocore's ParamValidator against the
  operation's input shape, so a wrong member name or type fails
  (ValidationException, and the log says so);
- every answer is checked against the operation's output shape before it is
  sent (a stand-in bug fails loudly instead of passing a test).

It plays one scripted scenario (--scenario):
  success        Created -> InProgress -> Succeeded
  failure        Created -> InProgress -> Failed; of --targets instances the
                 last --failed failed in ApplicationStart with diagnostics and
                 a log tail, the others were skipped
  rollback       like failure, and rollbackInfo names the rollback deployment
  limit          CreateDeployment: DeploymentLimitExceededException; the group's
                 lastAttemptedDeployment is d-RUNNING0001 (InProgress)
  access-denied  CreateDeployment: AccessDeniedException
  throttle       the first --throttle-count calls of GetDeployment answer
                 ThrottlingException, then success
  slow           stays InProgress until StopDeployment
  blue-green     the group is BLUE_GREEN
  no-app         CreateDeployment and GetDeploymentGroup: ApplicationDoesNotExistException

Listens on 127.0.0.1 on a free port, prints the port on stdout, appends one
JSON line per request to --log (operation, body, signature_ok,
validation_errors, status, error), and exits when its stdin closes.
"""

import argparse
import datetime
import json
import threading

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.session
import botocore.validate
from standin_server import QuietHandler, serve

TARGET_PREFIX = "CodeDeploy_20141006."
MODEL = botocore.session.get_session().get_service_model("codedeploy")
VALIDATOR = botocore.validate.ParamValidator()
RUNNING_ID = "d-RUNNING0001"
ROLLBACK_ID = "d-ROLLBACK001"


class ApiError(Exception):
    def __init__(self, status, type_name, message):
        super().__init__(message)
        self.status = status
        self.type_name = type_name
        self.message = message


def check_output(shape, value, path="output"):
    """Raises AssertionError when `value` does not fit `shape` (member names,
    types and enums), as a client generated from the model would read it."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), f"{path}: not an object"
        for name, item in value.items():
            assert name in shape.members, f"{path}.{name}: not a member of {shape.name}"
            check_output(shape.members[name], item, f"{path}.{name}")
    elif kind == "list":
        assert isinstance(value, list), f"{path}: not a list"
        for i, item in enumerate(value):
            check_output(shape.member, item, f"{path}[{i}]")
    elif kind == "map":
        assert isinstance(value, dict), f"{path}: not a map"
        for key, item in value.items():
            check_output(shape.key, key, f"{path} key")
            check_output(shape.value, item, f"{path}.{key}")
    elif kind == "string":
        assert isinstance(value, str), f"{path}: not a string"
        if shape.enum:
            assert value in shape.enum, f"{path}: {value} not in {shape.enum}"
    elif kind in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), f"{path}: not an integer"
    elif kind == "boolean":
        assert isinstance(value, bool), f"{path}: not a boolean"
    elif kind == "timestamp":
        assert isinstance(value, (int, float)), f"{path}: not epoch seconds"
    elif kind == "blob":
        assert isinstance(value, str), f"{path}: not base64"


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.deployments = {}  # id -> {"polls": n, "stopped": bool}
        self.counter = 0
        self.throttled = 0


def overview(pending=0, in_progress=0, succeeded=0, failed=0, skipped=0):
    return {
        "Pending": pending,
        "InProgress": in_progress,
        "Succeeded": succeeded,
        "Failed": failed,
        "Skipped": skipped,
        "Ready": 0,
    }


def now():
    return datetime.datetime.now(datetime.timezone.utc).timestamp()


def instance_ids(count):
    return [f"i-{n:017x}" for n in range(1, count + 1)]


class Handler(QuietHandler):
    # --- the checks AWS makes ------------------------------------------------

    def check_signature(self, body):
        args = self.state.args
        authorization = self.headers.get("Authorization", "")
        prefix = "AWS4-HMAC-SHA256 "
        if not authorization.startswith(prefix):
            raise ApiError(400, "MissingAuthenticationTokenException", "Missing Authentication Token")
        fields = dict(
            part.strip().split("=", 1) for part in authorization[len(prefix):].split(",")
        )
        access_key, date, region, service, terminator = fields["Credential"].split("/")
        if access_key != args.access_key:
            raise ApiError(400, "UnrecognizedClientException", "The security token included in the request is invalid.")
        amz_date = self.headers.get("X-Amz-Date", "")
        if service != "codedeploy" or terminator != "aws4_request" or not amz_date.startswith(date):
            raise ApiError(400, "InvalidSignatureException", "Credential should be scoped to a valid service and date")
        signed = fields["SignedHeaders"].split(";")
        for required in ("host", "x-amz-date", "x-amz-target"):
            if required not in signed:
                raise ApiError(400, "InvalidSignatureException", f"{required} must be signed")
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        if abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) > 15 * 60:
            raise ApiError(400, "InvalidSignatureException", f"Signature expired: {amz_date} is now earlier than the allowed window")
        headers = {name: self.headers.get(name) for name in signed}
        request = botocore.awsrequest.AWSRequest(
            method=self.command, url=f"http://{self.headers.get('Host')}{self.path}", headers=headers, data=body
        )
        request.context["timestamp"] = amz_date
        token = self.headers.get("X-Amz-Security-Token")
        auth = botocore.auth.SigV4Auth(
            botocore.credentials.Credentials(access_key, args.secret_key, token), "codedeploy", region
        )
        canonical = auth.canonical_request(request)
        expected = auth.signature(auth.string_to_sign(request, canonical), request)
        if expected != fields["Signature"]:
            raise ApiError(
                400,
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided.",
            )
        return region

    def operation(self):
        target = self.headers.get("X-Amz-Target", "")
        if not target.startswith(TARGET_PREFIX):
            raise ApiError(400, "UnknownOperationException", f"bad X-Amz-Target {target}")
        name = target[len(TARGET_PREFIX):]
        if name not in MODEL.operation_names:
            raise ApiError(400, "UnknownOperationException", f"no operation {name}")
        if self.headers.get("Content-Type") != "application/x-amz-json-1.1":
            raise ApiError(400, "SerializationException", "Content-Type must be application/x-amz-json-1.1")
        return MODEL.operation_model(name)

    # --- the scenario --------------------------------------------------------

    def play(self, op, params):
        args = self.state.args
        scenario = args.scenario
        name = op.name
        if name == "GetDeploymentGroup":
            if scenario == "no-app":
                raise ApiError(400, "ApplicationDoesNotExistException", f"No application found for name: {params['applicationName']}")
            info = {
                "applicationName": params["applicationName"],
                "deploymentGroupName": params["deploymentGroupName"],
                "deploymentGroupId": "7a4e1b2c-0000-4000-8000-000000000001",
                "computePlatform": "Server",
                "deploymentStyle": {
                    "deploymentType": "BLUE_GREEN" if scenario == "blue-green" else "IN_PLACE",
                    "deploymentOption": "WITH_TRAFFIC_CONTROL",
                },
            }
            if scenario == "limit":
                info["lastAttemptedDeployment"] = {
                    "deploymentId": RUNNING_ID,
                    "status": "InProgress",
                    "createTime": now(),
                }
            return {"deploymentGroupInfo": info}
        if name == "CreateDeployment":
            if scenario == "limit":
                raise ApiError(400, "DeploymentLimitExceededException", "The deployment group already has an active deployment.")
            if scenario == "access-denied":
                raise ApiError(
                    400,
                    "AccessDeniedException",
                    "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: codedeploy:CreateDeployment",
                )
            if scenario == "no-app":
                raise ApiError(400, "ApplicationDoesNotExistException", "No application found")
            with self.state.lock:
                self.state.counter += 1
                deployment_id = f"d-STANDIN{self.state.counter:04d}"
                self.state.deployments[deployment_id] = {"polls": 0, "stopped": False, "params": params}
            return {"deploymentId": deployment_id}
        if name == "ListDeployments":
            statuses = params.get("includeOnlyStatuses", [])
            running = scenario == "limit" and (not statuses or "InProgress" in statuses)
            return {"deployments": [RUNNING_ID] if running else []}
        deployment = self.state.deployments.get(params.get("deploymentId"))
        if deployment is None:
            raise ApiError(400, "DeploymentDoesNotExistException", f"no deployment {params.get('deploymentId')}")
        if name == "GetDeployment":
            if scenario == "throttle":
                with self.state.lock:
                    if self.state.throttled < args.throttle_count:
                        self.state.throttled += 1
                        raise ApiError(400, "ThrottlingException", "Rate exceeded")
            with self.state.lock:
                deployment["polls"] += 1
                polls = deployment["polls"]
            return {"deploymentInfo": self.deployment_info(params["deploymentId"], deployment, polls)}
        if name == "ListDeploymentTargets":
            ids = instance_ids(args.targets)
            wanted = params.get("targetFilters", {}).get("TargetStatus")
            if wanted:
                ids = [i for i in ids if self.target_status(i) in wanted]
            # Pages of 10, so paging is exercised.
            start = int(params.get("nextToken", "0"))
            answer = {"targetIds": ids[start:start + 10]}
            if start + 10 < len(ids):
                answer["nextToken"] = str(start + 10)
            return answer
        if name == "BatchGetDeploymentTargets":
            if len(params["targetIds"]) > 25:
                raise ApiError(400, "DeploymentTargetListSizeExceededException", "at most 25 targets")
            return {"deploymentTargets": [self.target(params["deploymentId"], i) for i in params["targetIds"]]}
        if name == "StopDeployment":
            with self.state.lock:
                deployment["stopped"] = True
            return {"status": "Pending", "statusMessage": "Stopping the deployment; rolling back"}
        raise ApiError(400, "UnknownOperationException", f"the stand-in does not play {name}")

    def failed_scenario(self):
        return self.state.args.scenario in ("failure", "rollback")

    def target_status(self, target_id):
        failed = instance_ids(self.state.args.targets)[-self.state.args.failed:]
        if self.failed_scenario() and target_id in failed:
            return "Failed"
        if self.failed_scenario():
            return "Skipped"
        return "Succeeded"

    def target(self, deployment_id, target_id):
        status = self.target_status(target_id)
        events = []
        for event in ("ApplicationStop", "DownloadBundle", "BeforeInstall", "Install", "AfterInstall", "ApplicationStart", "ValidateService"):
            item = {"lifecycleEventName": event, "status": "Succeeded"}
            if status == "Failed" and event == "ApplicationStart":
                item["status"] = "Failed"
                item["diagnostics"] = {
                    "errorCode": "ScriptFailed",
                    "scriptName": "hooks/application-start.sh",
                    "message": "Script at specified location: hooks/application-start.sh run as user root failed with exit code 1",
                    "logTail": "[stderr]switch-traffic: http://127.0.0.1:8082/actuator/health: status DOWN after 60s; the old version keeps serving\n[stderr]exit 1",
                }
            elif status == "Failed" and event == "ValidateService":
                item["status"] = "Skipped"
            elif status == "Skipped":
                item["status"] = "Skipped"
            events.append(item)
        return {
            "deploymentTargetType": "InstanceTarget",
            "instanceTarget": {
                "deploymentId": deployment_id,
                "targetId": target_id,
                "targetArn": f"arn:aws:ec2:eu-west-2:123456789012:instance/{target_id}",
                "status": status,
                "lastUpdatedAt": now(),
                "lifecycleEvents": events,
            },
        }

    def deployment_info(self, deployment_id, deployment, polls):
        args = self.state.args
        count = args.targets
        params = deployment["params"]
        info = {
            "applicationName": params["applicationName"],
            "deploymentGroupName": params["deploymentGroupName"],
            "deploymentId": deployment_id,
            "revision": params["revision"],
            "createTime": now(),
            "creator": "user",
            "deploymentOverview": overview(pending=count),
        }
        scenario = args.scenario
        if deployment["stopped"]:
            info["status"] = "Stopped"
            info["errorInformation"] = {"code": "MANUAL_STOP", "message": "The deployment was stopped by the user."}
            info["deploymentOverview"] = overview(skipped=count)
            return info
        if polls <= 1:
            info["status"] = "Created"
        elif polls == 2 or scenario == "slow":
            info["status"] = "InProgress"
            info["deploymentOverview"] = overview(pending=count - 1, in_progress=1)
        elif self.failed_scenario():
            info["status"] = "Failed"
            info["completeTime"] = now()
            info["errorInformation"] = {
                "code": "HEALTH_CONSTRAINTS",
                "message": "The overall deployment failed because too many individual instances failed deployment",
            }
            failed = args.failed
            info["deploymentOverview"] = overview(failed=failed, skipped=count - failed)
            if scenario == "rollback":
                info["rollbackInfo"] = {
                    "rollbackDeploymentId": ROLLBACK_ID,
                    "rollbackMessage": f"Deployment {deployment_id} failed; automatic rollback started as {ROLLBACK_ID}",
                }
        else:
            info["status"] = "Succeeded"
            info["completeTime"] = now()
            info["deploymentOverview"] = overview(succeeded=count)
        return info

    # --- the wire ------------------------------------------------------------

    def do_POST(self):
        body = self.read_body()
        entry = {"operation": None, "signature_ok": False, "validation_errors": None}
        try:
            op = self.operation()
            entry["operation"] = op.name
            entry["region"] = self.check_signature(body)
            entry["signature_ok"] = True
            try:
                params = json.loads(body or b"{}")
            except ValueError:
                raise ApiError(400, "SerializationException", "body is not JSON")
            entry["body"] = params
            report = VALIDATOR.validate(params, op.input_shape)
            if report.has_errors():
                entry["validation_errors"] = report.generate_report()
                raise ApiError(400, "ValidationException", report.generate_report())
            answer = self.play(op, params)
            check_output(op.output_shape, answer)
            self.send_json(200, answer, entry)
        except ApiError as error:
            entry["error"] = error.type_name
            self.send_json(
                error.status,
                {"__type": f"com.amazonaws.codedeploy#{error.type_name}", "message": error.message},
                entry,
            )

    def send_json(self, status, document, entry):
        entry["status"] = status
        self.append_to_log(entry)
        data = json.dumps(document).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", "0d4a9f36-0000-4000-8000-000000000000")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--scenario", default="success")
    parser.add_argument("--targets", type=int, default=2)
    parser.add_argument("--failed", type=int, default=1)
    parser.add_argument("--throttle-count", type=int, default=3)
    parser.add_argument("--access-key", default="AKIDSTANDIN")
    parser.add_argument("--secret-key", default="standin-secret-key")
    parser.add_argument("--port-file", default="")
    args = parser.parse_args()

    serve(Handler, State(args), args.port_file)


if __name__ == "__main__":
    main()
