#!/usr/bin/env python3
"""A Docker Engine API endpoint that never stops answering: every GET gets 200 with a chunked
body of '[' followed by an endless stream of spaces (provost must stop at its cap).

usage: endless_docker.py PORT LOG
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, LOG = int(sys.argv[1]), sys.argv[2]


class Endless(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        with open(LOG, "a") as f:
            f.write(json.dumps({"method": "GET", "path": self.path}) + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"[" + b" " * (1 << 20)
        try:
            while True:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                chunk = b" " * (1 << 20)
        except OSError:
            return


server = ThreadingHTTPServer(("127.0.0.1", PORT), Endless)
server.daemon_threads = True
server.serve_forever()
