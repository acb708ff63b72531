#!/usr/bin/python3
"""The service request-deploy's fleet tests deploy: fleet_service.py PORT VERSION [ARGS...]

A stand-in for the sample jar that boots in milliseconds (three "hosts" on
two shared cores cannot each boot a JVM per case). It binds 127.0.0.1:PORT
and answers every path with 200 {"status":"UP","version":VERSION} and
X-App-Version: VERSION (/secret-digest: the sha256 of $DB_PASSWORD), except that /actuator/health answers 503 DOWN while
the file /var/lib/switchyard/unhealthy exists (a test makes one host's
release unhealthy that way). Extra ARGS are ignored: tests pass hostile
start-command arguments through it. On SIGTERM it finishes what it serves.
"""

import hashlib
import http.server
import json
import os
import signal
import socketserver
import sys
import threading

PORT = int(sys.argv[1])
VERSION = sys.argv[2]
UNHEALTHY = "/var/lib/switchyard/unhealthy"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        status = 200
        body = {"status": "UP", "version": VERSION}
        if self.path == "/secret-digest":
            # Proves target.environment reached the service without echoing it.
            secret = os.environ.get("DB_PASSWORD", "").encode()
            body = {"sha256": hashlib.sha256(secret).hexdigest()}
        if self.path.startswith("/actuator/health") and os.path.exists(UNHEALTHY):
            status, body = 503, {"status": "DOWN"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-App-Version", VERSION)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


server = Server(("127.0.0.1", PORT), Handler)
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
server.serve_forever()
