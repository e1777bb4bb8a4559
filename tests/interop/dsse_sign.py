"""Signs an in-toto Statement v1 (SLSA v1 provenance) as a DSSE envelope with securesystemslib,
an implementation independent of provost. Usage: dsse_sign.py SUBJECT_DIGEST OUT_ENVELOPE OUT_PUBKEY_PEM"""
import base64
import json
import sys

from cryptography.hazmat.primitives import serialization
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner

digest, out_env, out_pub = sys.argv[1], sys.argv[2], sys.argv[3]
statement = {
    "_type": "https://in-toto.io/Statement/v1",
    "subject": [{"name": "image", "digest": {"sha256": digest.removeprefix("sha256:")}}],
    "predicateType": "https://slsa.dev/provenance/v1",
    "predicate": {
        "buildDefinition": {
            "buildType": "https://actions.github.io/buildtypes/workflow/v1",
            "externalParameters": {"workflow": {"ref": "refs/tags/v9", "repository": "https://github.com/interop/sslib", "path": ".github/workflows/release.yml"}},
        },
        "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}},
    },
}
signer = CryptoSigner.generate_ecdsa()
env = Envelope(payload=json.dumps(statement).encode(), payload_type="application/vnd.in-toto+json", signatures={})
env.sign(signer)
with open(out_env, "w") as f:
    json.dump(env.to_dict(), f)
pem = signer.public_key.keyval["public"]
with open(out_pub, "w") as f:
    f.write(pem)
