#!/usr/bin/python3
"""A real keep-alive client beside wrk: Python's http.client on one connection.

  keepalive_python.py URL RATE OUT

Alternates GET / and POST /echo, RATE requests a second, on one
HTTPConnection, as an application using the standard library would. It
resends nothing: when the connection fails, the request counts as failed and
the next request opens a new connection. Appends one line per request to OUT
(flushed): method,epoch_ms,status,version,error. Runs until SIGTERM.
"""
import http.client
import signal
import sys
import time
from urllib.parse import urlsplit

url, rate, out_path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
parts = urlsplit(url)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
body = b'{"greeting":"hello","n":12345}'
with open(out_path, "a", buffering=1) as out:
    start = time.time()
    for i in range(10**9):
        due = start + i / rate
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        method = "GET" if i % 2 == 0 else "POST"
        status, version, error = 0, "", ""
        try:
            if method == "GET":
                conn.request("GET", "/")
            else:
                conn.request("POST", "/echo", body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            status, version = response.status, response.getheader("X-App-Version", "")
        except (OSError, http.client.HTTPException) as e:
            error = type(e).__name__
            conn.close()
        out.write(f"{method},{time.time() * 1000:.0f},{status},{version},{error}\n")
