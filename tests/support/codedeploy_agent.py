#!/usr/bin/python3
"""Runs a CodeDeploy revision bundle on this machine the way the CodeDeploy
agent (aws/aws-codedeploy-agent) runs it on an instance, for
tests/integration/test_codedeploy_bundle.cpp:

1. DownloadBundle: the zip is unpacked into
   <deployment-root>/<deployment-id>/deployment-archive, with each entry's
   Unix mode from its external attributes;
2. appspec.yml is parsed and validated against the AppSpec reference for
   EC2/on-premises (version 0.0 as YAML loads it, os linux, files with source
   and destination, hooks whose scripts have a location and only the keys
   location, timeout, runas; timeouts at most 3600 s; known lifecycle events);
3. the lifecycle events run in the agent's order: ApplicationStop,
   BeforeInstall, Install (the `files:` copies, overwriting), AfterInstall,
   ApplicationStart, ValidateService. Each hook script runs from the archive
   as its own process group, with the agent's environment variables
   LIFECYCLE_EVENT, DEPLOYMENT_ID, APPLICATION_NAME, DEPLOYMENT_GROUP_NAME
   added to ours, stdin closed, output logged with [stdout]/[stderr]
   prefixes, and killed (SIGTERM to the group) when its timeout passes. A
   script that is not executable is made executable, as the agent does.

The agent runs `sudo su <runas> -c <script>` when runas is set; here runas
must name the user running this emulator, and the script runs directly.

Prints one JSON line per event to stdout ({"event", "status", "script",
"error_code", "message", "log_tail"}), the log tail holding the last 2048
characters as the agent keeps them; exits 0 when every event succeeded, 1 at
the first failed one (later events are skipped, as the agent skips them).
"""

import argparse
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import threading
import zipfile

import yaml

EVENTS = ["ApplicationStop", "BeforeInstall", "Install", "AfterInstall", "ApplicationStart", "ValidateService"]
HOOK_EVENTS = {"ApplicationStop", "BeforeInstall", "AfterInstall", "ApplicationStart", "ValidateService",
               "BeforeBlockTraffic", "AfterBlockTraffic", "BeforeAllowTraffic", "AfterAllowTraffic"}
SCRIPT_KEYS = {"location", "timeout", "runas"}
TOP_KEYS = {"version", "os", "files", "permissions", "hooks", "file_exists_behavior"}
DEFAULT_TIMEOUT = 3600
LOG_LIMIT = 2048


class AppSpecError(Exception):
    pass


def validate_appspec(spec, archive):
    if not isinstance(spec, dict):
        raise AppSpecError("appspec.yml is not a mapping")
    unknown = set(spec) - TOP_KEYS
    if unknown:
        raise AppSpecError(f"appspec.yml: unknown keys {sorted(unknown)}")
    # Ruby's YAML, like PyYAML, loads an unquoted 0.0 as a float; the agent
    # accepts only that.
    if not isinstance(spec.get("version"), float) or spec["version"] != 0.0:
        raise AppSpecError(f"invalid version value ({spec.get('version')!r}); it must be 0.0")
    if spec.get("os") != "linux":
        raise AppSpecError(f"unsupported os {spec.get('os')!r}")
    for mapping in spec.get("files") or []:
        if not isinstance(mapping, dict) or "source" not in mapping or "destination" not in mapping:
            raise AppSpecError(f"files: {mapping!r} needs source and destination")
        if not os.path.exists(os.path.join(archive, mapping["source"])):
            raise AppSpecError(f"files: source {mapping['source']} is not in the revision")
        if not os.path.isabs(mapping["destination"]):
            raise AppSpecError(f"files: destination {mapping['destination']} is not absolute")
    for event, scripts in (spec.get("hooks") or {}).items():
        if event not in HOOK_EVENTS:
            raise AppSpecError(f"hooks: {event} is not a lifecycle event")
        for script in scripts:
            if not script.get("location"):
                raise AppSpecError(f"hooks: {event}: a script has no location")
            if set(script) - SCRIPT_KEYS:
                raise AppSpecError(f"hooks: {event}: unknown keys {sorted(set(script) - SCRIPT_KEYS)}")
            timeout = script.get("timeout", DEFAULT_TIMEOUT)
            if not isinstance(timeout, int) or not 1 <= timeout <= 3600:
                raise AppSpecError(f"hooks: {event}: timeout {timeout!r} is not 1..3600 seconds")


def unpack(bundle, archive):
    shutil.rmtree(archive, ignore_errors=True)
    os.makedirs(archive)
    with zipfile.ZipFile(bundle) as zf:
        for info in zf.infolist():
            path = zf.extract(info, archive)
            mode = (info.external_attr >> 16) & 0o7777
            if mode:
                os.chmod(path, mode)


def install(spec, archive):
    for mapping in spec.get("files") or []:
        source = os.path.join(archive, mapping["source"])
        destination = mapping["destination"]
        if os.path.isdir(source):
            shutil.copytree(source, destination, dirs_exist_ok=True)
        else:
            os.makedirs(destination, exist_ok=True)
            shutil.copy2(source, destination)


class ScriptLog:
    """The agent's ScriptLog: keeps the last 2048 characters of output."""

    def __init__(self):
        self.entries = []
        self.lock = threading.Lock()

    def append(self, entry):
        with self.lock:
            self.entries.append(entry)
            while sum(len(e) for e in self.entries) > LOG_LIMIT and len(self.entries) > 1:
                self.entries.pop(0)

    def text(self):
        return "".join(self.entries)


def run_script(script, archive, env, log):
    location = script["location"]
    path = os.path.join(archive, location)
    if not os.path.exists(path):
        return "ScriptMissing", f"Script does not exist at specified location: {location}"
    if not os.access(path, os.X_OK):
        os.chmod(path, os.stat(path).st_mode | 0o111)
    runas = script.get("runas")
    if runas is not None and runas != pwd.getpwuid(os.getuid()).pw_name:
        return "UnknownError", f"the emulator runs scripts only as {pwd.getpwuid(os.getuid()).pw_name}, not {runas}"
    log.append(f"Script - {location}\n")
    process = subprocess.Popen([path], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True, text=True)

    def pump(stream, prefix):
        for line in stream:
            log.append(prefix + line)
            sys.stderr.write(prefix + line)

    threads = [threading.Thread(target=pump, args=(process.stdout, "[stdout]")),
               threading.Thread(target=pump, args=(process.stderr, "[stderr]"))]
    for thread in threads:
        thread.start()
    timeout = script.get("timeout", DEFAULT_TIMEOUT)
    try:
        status = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()
        for thread in threads:
            thread.join()
        return "ScriptTimedOut", f"Script at specified location: {location} failed to complete in {timeout} seconds"
    for thread in threads:
        thread.join()
    if status != 0:
        who = f" run as user {runas}" if runas is not None else ""
        return "ScriptFailed", f"Script at specified location: {location}{who} failed with exit code {status}"
    return None, ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--deployment-root", required=True)
    parser.add_argument("--deployment-id", default="d-LOCAL00001")
    parser.add_argument("--application", default="hello")
    parser.add_argument("--deployment-group", default="hello-prod")
    args = parser.parse_args()

    archive = os.path.join(args.deployment_root, args.deployment_id, "deployment-archive")
    unpack(args.bundle, archive)
    print(json.dumps({"event": "DownloadBundle", "status": "Succeeded"}), flush=True)
    with open(os.path.join(archive, "appspec.yml"), encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)
    try:
        validate_appspec(spec, archive)
    except AppSpecError as error:
        print(json.dumps({"event": "ApplicationStop", "status": "Failed", "error_code": "UnknownError",
                          "message": str(error)}), flush=True)
        return 1

    env = dict(os.environ)
    for event in EVENTS:
        env.update({"LIFECYCLE_EVENT": event, "DEPLOYMENT_ID": args.deployment_id,
                    "APPLICATION_NAME": args.application, "DEPLOYMENT_GROUP_NAME": args.deployment_group})
        if event == "Install":
            install(spec, archive)
            print(json.dumps({"event": event, "status": "Succeeded"}), flush=True)
            continue
        log = ScriptLog()
        log.append(f"LifecycleEvent - {event}\n")
        for script in (spec.get("hooks") or {}).get(event, []):
            error_code, message = run_script(script, archive, env, log)
            if error_code:
                print(json.dumps({"event": event, "status": "Failed", "script": script["location"],
                                  "error_code": error_code, "message": message,
                                  "log_tail": log.text()}), flush=True)
                return 1
        print(json.dumps({"event": event, "status": "Succeeded", "log_tail": log.text()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
