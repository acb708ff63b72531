#!/usr/bin/python3
"""A recording, fault-injecting HTTP proxy that the S3 tests put in front of s3rver.

s3rver 3.7.1 implements neither AbortMultipartUpload nor the x-amz-checksum-*
headers, and never fails on purpose. This proxy fills those gaps:

- every request is recorded as one JSON line in --log: method, path, query,
  headers, body size, the SHA-256 of the body (base64, as x-amz-checksum-sha256
  carries it), whether the checksum header matched, and the status returned;
- a request with an x-amz-checksum-sha256 header whose body hashes differently
  is refused with 400 BadDigest, as S3 does;
- AbortMultipartUpload (DELETE ...?uploadId=) is answered here with 204;
- faults are queued with POST /__proxy/fault (a JSON object, see Fault) and
  injected into the next matching requests: an S3 error status with a code, or
  a dropped connection.

The proxy forwards every other request unchanged (the Host header included, so
SigV4 signatures still verify upstream) and writes its port to --port-file once
it listens. Usage:

  s3_fault_proxy.py --upstream http://127.0.0.1:P --log requests.jsonl --port-file port
"""

import argparse
import base64
import hashlib
import http.client
import http.server
import json
import os
import socket
import threading
import time
import urllib.parse

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-connection"}


class Fault:
    """One queued fault: which requests it matches and what they get.

    method: "PUT", "POST", ... (any when absent)
    query_contains: a substring of the raw query ("partNumber=2", "uploads")
    path_contains: a substring of the path
    status: the HTTP status to answer (default 500)
    code: the S3 error code in the XML body (default InternalError)
    drop: true to close the connection without answering (a network error)
    delay_ms: wait this long, then forward the request normally (no error)
    times: how many matching requests get it (default 1; -1 for all)
    """

    def __init__(self, spec):
        self.method = spec.get("method")
        self.query_contains = spec.get("query_contains")
        self.path_contains = spec.get("path_contains")
        self.status = int(spec.get("status", 500))
        self.code = spec.get("code", "InternalError")
        self.message = spec.get("message", "injected by s3_fault_proxy")
        self.drop = bool(spec.get("drop", False))
        self.delay_ms = int(spec.get("delay_ms", 0))
        self.times = int(spec.get("times", 1))

    def matches(self, method, path, query):
        if self.times == 0:
            return False
        if self.method and self.method != method:
            return False
        if self.query_contains and self.query_contains not in query:
            return False
        if self.path_contains and self.path_contains not in path:
            return False
        return True


class State:
    def __init__(self, upstream, log_path):
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream_host = parsed.hostname
        self.upstream_port = parsed.port or 80
        self.log_path = log_path
        self.lock = threading.Lock()
        self.faults = []

    def take_fault(self, method, path, query):
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path, query):
                    if fault.times > 0:
                        fault.times -= 1
                    return fault
        return None

    def record(self, entry):
        line = json.dumps(entry, sort_keys=True)
        with self.lock:
            with open(self.log_path, "a", encoding="utf-8") as log:
                log.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None  # set by main()

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length", "0") or "0")
        return self.rfile.read(length) if length else b""

    def answer(self, status, body=b"", headers=None, length=None):
        self.send_response(status)
        for name, value in (headers or []):
            self.send_header(name, value)
        # A HEAD answer carries the length of the body a GET would get.
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def s3_error(self, status, code, message):
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
                "<Message>%s</Message></Error>" % (code, message)).encode()
        self.answer(status, body, [("Content-Type", "application/xml")])

    def handle_any(self):
        split = urllib.parse.urlsplit(self.path)
        path, query = split.path, split.query
        body = self.read_body()

        if path == "/__proxy/fault" and self.command == "POST":
            with self.state.lock:
                self.state.faults.append(Fault(json.loads(body or b"{}")))
            self.answer(204)
            return
        if path == "/__proxy/reset" and self.command == "POST":
            with self.state.lock:
                self.state.faults = []
            self.answer(204)
            return

        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        claimed = self.headers.get("x-amz-checksum-sha256")
        entry = {
            "method": self.command,
            "path": path,
            "query": query,
            "headers": {name.lower(): value for name, value in self.headers.items()},
            "body_size": len(body),
            "body_sha256_base64": digest,
            "checksum_ok": None if claimed is None else claimed == digest,
        }

        fault = self.state.take_fault(self.command, path, query)
        if fault is not None and fault.delay_ms:
            entry["delayed_ms"] = fault.delay_ms
            time.sleep(fault.delay_ms / 1000.0)
            fault = None
        if fault is not None:
            entry["fault"] = "drop" if fault.drop else fault.status
            entry["status"] = None if fault.drop else fault.status
            self.state.record(entry)
            if fault.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.s3_error(fault.status, fault.code, fault.message)
            return

        if claimed is not None and claimed != digest:
            entry["status"] = 400
            self.state.record(entry)
            self.s3_error(400, "BadDigest",
                          "The SHA256 you specified did not match the calculated checksum.")
            return

        if self.command == "DELETE" and "uploadId=" in query:
            # s3rver lacks AbortMultipartUpload: answer as S3 does.
            entry["status"] = 204
            entry["answered_by_proxy"] = True
            self.state.record(entry)
            self.answer(204)
            return

        status, headers, response_body, length = self.forward(body)
        entry["status"] = status
        self.state.record(entry)
        self.answer(status, response_body, headers,
                    length if self.command == "HEAD" else None)

    def forward(self, body):
        connection = http.client.HTTPConnection(self.state.upstream_host,
                                                self.state.upstream_port, timeout=120)
        headers = {name: value for name, value in self.headers.items()
                   if name.lower() not in HOP_BY_HOP and name.lower() != "expect"}
        headers["Content-Length"] = str(len(body))
        connection.putrequest(self.command, self.path, skip_host=True,
                              skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body if body else None)
        response = connection.getresponse()
        response_body = response.read()
        length = response.getheader("Content-Length")
        out_headers = [(name, value) for name, value in response.getheaders()
                       if name.lower() not in HOP_BY_HOP and name.lower() != "content-length"]
        connection.close()
        return response.status, out_headers, response_body, length

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="s3rver's URL")
    parser.add_argument("--log", required=True, help="where every request is recorded (JSON lines)")
    parser.add_argument("--port-file", required=True, help="written with the port once listening")
    parser.add_argument("--port", type=int, default=0)
    arguments = parser.parse_args()

    Handler.state = State(arguments.upstream, arguments.log)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", arguments.port), Handler)
    server.daemon_threads = True
    with open(arguments.port_file + ".tmp", "w", encoding="utf-8") as out:
        out.write(str(server.server_address[1]))
    os.rename(arguments.port_file + ".tmp", arguments.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
