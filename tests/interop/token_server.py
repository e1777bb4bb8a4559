"""A Docker registry token server for provost's bearer-auth tests (the distribution token
protocol: the registry answers 401 with a Bearer challenge, the client fetches a JWT here with
Basic credentials, the registry checks the JWT against the certificate in its rootcertbundle).

Usage: python3 token_server.py CERT_OUT USER PASSWORD
Writes the signing certificate to CERT_OUT, prints "READY <port>", serves GET /token on
127.0.0.1. Good credentials get the scopes they ask for; anything else gets 401. Each request is
appended to CERT_OUT + ".log" (scope and user) so a test can see what was asked for.
"""
import base64
import datetime
import http.server
import json
import secrets
import sys
import time
import urllib.parse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

cert_out, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "provost-test-token-issuer")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (
    x509.CertificateBuilder()
    .subject_name(name)
    .issuer_name(name)
    .public_key(key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(now - datetime.timedelta(minutes=5))
    .not_valid_after(now + datetime.timedelta(days=1))
    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    .sign(key, hashes.SHA256())
)
with open(cert_out, "wb") as f:
    f.write(cert.public_bytes(serialization.Encoding.PEM))
x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        auth = self.headers.get("Authorization", "")
        with open(cert_out + ".log", "a") as log:
            log.write(json.dumps({"scope": q.get("scope", []), "authorized": auth == expected}) + "\n")
        if url.path != "/token" or auth != expected:
            self.send_response(401)
            self.end_headers()
            return
        access = []
        for scope in q.get("scope", []):
            parts = scope.split(":")
            if len(parts) >= 3:
                access.append({"type": parts[0], "name": ":".join(parts[1:-1]), "actions": parts[-1].split(",")})
        t = int(time.time())
        claims = {
            "iss": "provost-test-issuer",
            "sub": user,
            "aud": q.get("service", [""])[0],
            "exp": t + 300,
            "nbf": t - 10,
            "iat": t,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        token = jwt.encode(claims, key, algorithm="ES256", headers={"x5c": x5c})
        body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"READY {server.server_address[1]}", flush=True)
server.serve_forever()
