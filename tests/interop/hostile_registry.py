#!/usr/bin/env python3
"""A hostile registry on 127.0.0.1 for the boundary tests (a mock only for faults a real
registry cannot be made to produce). Every request it receives is logged, with its headers, as
one JSON line, so a test can prove what reached it.

usage: hostile_registry.py PORT LOG MODE OTHER_PORT LIFETIME_SECONDS

modes:
  link-elsewhere  the catalog answers one page whose Link points at OTHER_PORT
  redirect-blob   blobs ask for Basic auth, then redirect to OTHER_PORT
  other           an "other origin": asks every request for credentials (Bearer realm on
                  itself) and logs what it gets
  error-body      every manifest and tag request fails with terminal escape sequences in the
                  body
  drip            manifests answer 200 and then one byte per second
The server exits by itself after LIFETIME_SECONDS.
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, LOG, MODE, OTHER, LIFETIME = (
    int(sys.argv[1]),
    sys.argv[2],
    sys.argv[3],
    int(sys.argv[4]),
    float(sys.argv[5]),
)
HOSTILE = "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x1b[31mred\u202eevil\r\nnext line\x07"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self):
        with open(LOG, "a") as f:
            f.write(
                json.dumps(
                    {"method": self.command, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}
                )
                + "\n"
            )

    def send(self, code, body=b"", headers=None, content_type="application/json"):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.record()
        p = self.path
        if MODE == "other":
            if p.startswith("/token"):
                return self.send(200, b'{"token":"stolen"}')
            return self.send(
                401,
                b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                {"WWW-Authenticate": f'Bearer realm="http://127.0.0.1:{PORT}/token",service="x"'},
            )
        if p == "/v2/" or p == "/v2":
            return self.send(200, b"{}")
        if MODE == "link-elsewhere" and p.startswith("/v2/_catalog"):
            return self.send(
                200,
                b'{"repositories":["a"]}',
                {"Link": f'<http://127.0.0.1:{OTHER}/v2/_catalog?last=a&n=1>; rel="next"'},
            )
        if MODE == "redirect-blob" and "/blobs/" in p:
            if "Authorization" not in self.headers:
                return self.send(
                    401, b"{}", {"WWW-Authenticate": 'Basic realm="hostile"'}
                )
            return self.send(307, b"", {"Location": f"http://127.0.0.1:{OTHER}/storage{p}"})
        if MODE == "error-body":
            return self.send(500, HOSTILE.encode(), content_type="text/plain")
        if MODE == "drip" and "/manifests/" in p:
            body = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for b in body:
                    self.wfile.write(bytes([b]))
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                pass
            return
        return self.send(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
server.daemon_threads = True
threading.Timer(LIFETIME, server.shutdown).start()
server.serve_forever()
