"""What the loopback stand-ins (aws_standins.py, codedeploy_standin.py) share:
a request handler that stays quiet and appends one JSON object per request to
--log, and the serving loop: 127.0.0.1 on a free port, the port on the first
line of stdout (and in --port-file when given), until the test that started
the stand-in closes its stdin, so the stand-in cannot outlive it.
"""

import http.server
import json
import os
import sys
import threading


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """Keep-alive, no access log on stderr; `state` (set by `serve`) holds
    the parsed arguments as `state.args` and a `state.lock`."""

    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, format, *args):
        pass

    def read_body(self):
        length = int(self.headers.get("Content-Length", "0") or "0")
        return self.rfile.read(length) if length else b""

    def append_to_log(self, entry):
        with self.state.lock:
            with open(self.state.args.log, "a", encoding="utf-8") as log:
                log.write(json.dumps(entry) + "\n")


def serve(handler, state, port_file=""):
    """Serves `handler` with `state` until stdin closes, then exits."""
    handler.state = state
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    if port_file:
        with open(port_file + ".tmp", "w", encoding="utf-8") as out:
            out.write(f"{port}\n")
        os.rename(port_file + ".tmp", port_file)
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    while sys.stdin.buffer.read(1):
        pass
    os._exit(0)
