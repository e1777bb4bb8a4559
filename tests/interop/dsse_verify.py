"""Verifies a DSSE envelope with securesystemslib and a PEM public key (ecdsa-sha2-nistp256).
Usage: dsse_verify.py ENVELOPE_JSON PUBKEY_PEM. Exit 0 when a signature verifies."""
import json
import sys

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey

env = Envelope.from_dict(json.load(open(sys.argv[1])))
pem = open(sys.argv[2], "rb").read()
key = SSlibKey.from_crypto(load_pem_public_key(pem), scheme="ecdsa-sha2-nistp256")
# provost writes the key id as the SHA-256 of the DER SPKI; securesystemslib matches signatures
# to keys by key id, so look the key up under the id the envelope names.
key = SSlibKey(env.signatures[next(iter(env.signatures))].keyid, key.keytype, key.scheme, key.keyval)
try:
    env.verify([key], 1)
except Exception as e:  # VerificationError
    print(f"verification failed: {e}", file=sys.stderr)
    sys.exit(1)
print("verified")
