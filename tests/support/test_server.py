#!/usr/bin/python3
"""A loopback HTTP(S) server for switchyard's HTTP and health tests.

It serves what the sample service does not: a Spring-style composite health
body with DOWN components, answers slower than a request timeout, TLS with a
certificate the test generated, scripted sequences of statuses, echoes of the
request, and a dropped connection. It binds 127.0.0.1 on a free port (or a
unix socket) and prints "PORT <n>" as its first line on stdout.

Routes (query parameters in brackets):
  /health                     {"status":"UP"}
  /health/composite-down      503, Spring composite body, db and diskSpace DOWN
  /health/composite-nested    503, db DOWN through its child db.primary
  /health/composite-up        200, Spring composite body, all UP
  /versioned [v, where]       UP with version v in a "version" field (where=body)
                              or an X-App-Version header (where=header, default)
  /slow [ms]                  sleeps ms (default 5000), then UP
  /status/<code>              answers <code> with {"status":"UP"} (2xx),
                              {"status":"DOWN"} (503) or {"error":...}
  /sequence [key, statuses]   the n-th request for key gets the n-th status of the
                              comma list (the last one repeats)
  /ready-at [ms]              503 DOWN until ms after the server started, then UP
  /flaky [key, fail, code]    the first `fail` requests for key answer `code` (503)
  /retry-after [key]          the first request answers 503 with Retry-After: 1
  /count [key]                how many requests /sequence, /flaky... saw for key
  /echo                       any method: method, path, headers, body length,
                              sha256 and (when short) the body itself
  /bytes [n]                  n bytes of a repeating pattern
  /drop                       closes the connection without answering
  /not-json                   200 with a text body
"""

import argparse
import hashlib
import http.server
import json
import os
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

STARTED = time.monotonic()
COUNTS = {}
COUNTS_LOCK = threading.Lock()


def bump(key):
    with COUNTS_LOCK:
        COUNTS[key] = COUNTS.get(key, 0) + 1
        return COUNTS[key]


def seen(key):
    with COUNTS_LOCK:
        return COUNTS.get(key, 0)


COMPOSITE_DOWN = {
    "status": "DOWN",
    "components": {
        "db": {"status": "DOWN", "details": {"error": "java.net.ConnectException: Connection refused"}},
        "diskSpace": {"status": "DOWN", "details": {"total": 100, "free": 1, "threshold": 10}},
        "ping": {"status": "UP"},
    },
}

COMPOSITE_NESTED = {
    "status": "DOWN",
    "components": {
        "db": {
            "status": "DOWN",
            "components": {"primary": {"status": "DOWN"}, "replica": {"status": "UP"}},
        },
        "ping": {"status": "UP"},
    },
}

COMPOSITE_UP = {
    "status": "UP",
    "components": {
        "db": {"status": "UP", "details": {"database": "PostgreSQL"}},
        "diskSpace": {"status": "UP"},
        "ping": {"status": "UP"},
    },
}


def body_for(code):
    """What a health endpoint says with `code`: UP, DOWN for 503, else an error."""
    if 200 <= code < 300:
        return {"status": "UP"}
    if code == 503:
        return {"status": "DOWN"}
    return {"error": "status %d" % code}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "switchyard-test-server"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def address_string(self):
        # A unix socket has no client address.
        return "local"

    def send(self, code, body, content_type="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def route(self):
        url = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        path = url.path
        key = query.get("key", path)

        if path == "/echo":
            body = self.read_body()
            return self.send(200, {
                "method": self.command,
                "path": self.path,
                "headers": {k: v for k, v in self.headers.items()},
                "body_length": len(body),
                "body_sha256": hashlib.sha256(body).hexdigest(),
                "body": body.decode("utf-8", "replace") if len(body) <= 4096 else "",
            })
        self.read_body()
        if path == "/health":
            return self.send(200, {"status": "UP"})
        if path == "/health/composite-down":
            return self.send(503, COMPOSITE_DOWN)
        if path == "/health/composite-nested":
            return self.send(503, COMPOSITE_NESTED)
        if path == "/health/composite-up":
            return self.send(200, COMPOSITE_UP)
        if path == "/versioned":
            version = query.get("v", "1.0.0")
            if query.get("where") == "body":
                return self.send(200, {"status": "UP", "version": version})
            return self.send(200, {"status": "UP"}, headers={"X-App-Version": version})
        if path == "/slow":
            time.sleep(int(query.get("ms", "5000")) / 1000)
            return self.send(200, {"status": "UP"})
        if path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            return self.send(code, body_for(code))
        if path == "/sequence":
            statuses = [int(s) for s in query.get("statuses", "200").split(",")]
            n = bump(key)
            code = statuses[min(n, len(statuses)) - 1]
            return self.send(code, dict(body_for(code), n=n))
        if path == "/ready-at":
            if (time.monotonic() - STARTED) * 1000 < int(query.get("ms", "1000")):
                return self.send(503, {"status": "DOWN"})
            return self.send(200, {"status": "UP"})
        if path == "/flaky":
            n = bump(key)
            if n <= int(query.get("fail", "1")):
                return self.send(int(query.get("code", "503")), {"status": "DOWN", "n": n})
            return self.send(200, {"status": "UP", "n": n})
        if path == "/retry-after":
            if bump(key) == 1:
                return self.send(503, {"status": "DOWN"}, headers={"Retry-After": "1"})
            return self.send(200, {"status": "UP"})
        if path == "/count":
            return self.send(200, {"count": seen(query.get("key", ""))})
        if path == "/bytes":
            n = int(query.get("n", "1024"))
            pattern = bytes(range(256))
            data = (pattern * (n // 256 + 1))[:n]
            return self.send(200, data, content_type="application/octet-stream")
        if path == "/drop":
            self.close_connection = True
            return None
        if path == "/not-json":
            return self.send(200, "all good, honest", content_type="text/plain")
        return self.send(404, {"status": "DOWN", "error": "no route " + path})

    do_GET = route
    do_POST = route
    do_PUT = route
    do_DELETE = route
    do_HEAD = route
    do_PATCH = route


class TcpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--unix", help="serve on this unix socket instead of TCP")
    args = parser.parse_args()

    if args.unix:
        if os.path.exists(args.unix):
            os.unlink(args.unix)
        server = UnixServer(args.unix, Handler)
        print("PORT 0", flush=True)
    else:
        server = TcpServer(("127.0.0.1", 0), Handler)
        if args.tls_cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(args.tls_cert, args.tls_key)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
