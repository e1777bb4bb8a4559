#!/usr/bin/env python3
"""A fault-injection proxy in front of the real registry, for faults the registry cannot be
made to produce. Requests whose path contains MATCH get the fault (the first COUNT of them, or
all when COUNT is 0); every other request is passed through unchanged. Each request is logged
as a JSON line (method, path, fault) so a test can count retries.

usage: fault_proxy.py PORT UPSTREAM_HOST:PORT LOG MODE MATCH COUNT LIFETIME_SECONDS

modes:
  503       answer 503 Service Unavailable
  429       answer 429 Too Many Requests with Retry-After: 1
  put500    pass a PUT to the registry, then answer 500 (stored, but said to fail)
  upstream-host  pass the request on with the registry's own Host (Locations name it)
  reset     send the headers and half the body, then close the connection
  truncate  send a body shorter than its Content-Length, then close
  stall     accept the request and never answer
  drip      send the body one byte per second
  slow      wait one second, then answer as the registry does (each request within its
            deadline; a command of many requests takes long)
The proxy exits by itself after LIFETIME_SECONDS.
"""

import http.client
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, UPSTREAM, LOG, MODE, MATCH, COUNT, LIFETIME = (
    int(sys.argv[1]),
    sys.argv[2],
    sys.argv[3],
    sys.argv[4],
    sys.argv[5],
    int(sys.argv[6]),
    float(sys.argv[7]),
)
lock = threading.Lock()
faults = {"n": 0}


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def fault_now(self):
        if MATCH not in self.path:
            return False
        # put500: the write reaches the registry, then the answer is a 500 (a registry that
        # stored the tag and failed to say so).
        if MODE == "put500" and self.command != "PUT":
            return False
        with lock:
            if COUNT and faults["n"] >= COUNT:
                return False
            faults["n"] += 1
            return True

    def record(self, fault):
        with lock, open(LOG, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "fault": fault}) + "\n")

    def upstream(self, host=None):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        conn = http.client.HTTPConnection(UPSTREAM, timeout=30)
        # The client's Host goes on, so the registry's Location headers name the proxy;
        # upstream-host sends the registry's own (its upload Locations then name another origin).
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        headers["Host"] = host or self.headers.get("Host") or UPSTREAM
        conn.request(self.command, self.path, body=body, headers=headers)
        res = conn.getresponse()
        data = res.read()
        return res.status, res.getheaders(), data

    def relay(self, status, headers, data, limit=None, drip=False):
        self.send_response(status)
        for k, v in headers:
            if k.lower() in ("content-length", "transfer-encoding", "connection"):
                continue
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command == "HEAD":
            return
        out = data if limit is None else data[:limit]
        if drip:
            for b in out:
                self.wfile.write(bytes([b]))
                self.wfile.flush()
                time.sleep(1)
        else:
            self.wfile.write(out)
            self.wfile.flush()

    def handle_any(self):
        fault = self.fault_now()
        self.record(MODE if fault else None)
        if fault and MODE == "503":
            body = b'{"errors":[{"code":"UNAVAILABLE"}]}'
            return self.relay(503, [("Content-Type", "application/json")], body)
        if fault and MODE == "429":
            body = b'{"errors":[{"code":"TOOMANYREQUESTS"}]}'
            return self.relay(429, [("Retry-After", "1"), ("Content-Type", "application/json")], body)
        if fault and MODE == "stall":
            time.sleep(LIFETIME)
            return
        if fault and MODE == "slow":
            time.sleep(1)
        status, headers, data = self.upstream(UPSTREAM if fault and MODE == "upstream-host" else None)
        if fault and MODE == "put500":
            body = b'{"errors":[{"code":"UNKNOWN","message":"internal error"}]}'
            return self.relay(500, [("Content-Type", "application/json")], body)
        if fault and MODE in ("reset", "truncate"):
            self.relay(status, headers, data, limit=max(1, len(data) // 2))
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        if fault and MODE == "drip":
            try:
                return self.relay(status, headers, data, drip=True)
            except OSError:
                return
        return self.relay(status, headers, data)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any


server = ThreadingHTTPServer(("127.0.0.1", PORT), Proxy)
server.daemon_threads = True
threading.Timer(LIFETIME, server.shutdown).start()
server.serve_forever()
