"""A loopback health endpoint that records what it was sent, for the CI
wrapper tests: /health answers UP, any other path DOWN with 503, and every
request's path and headers are appended to LOG as one JSON line. It binds
127.0.0.1 on a free port and writes the port to PORT_FILE (atomically, so
a reader never sees half a number).

    python3 recording_health_server.py LOG PORT_FILE
"""
import http.server
import json
import os
import sys

log_path, port_path = sys.argv[1], sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log_path, "a") as log:
            log.write(json.dumps({"path": self.path, "headers": dict(self.headers)}) + "\n")
        status, body = (200, b'{"status":"UP"}') if self.path == "/health" else (503, b'{"status":"DOWN"}')
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_path + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_path + ".tmp", port_path)
server.serve_forever()
