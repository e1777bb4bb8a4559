// Verifies a key-signed Sigstore bundle offline with @sigstore/verify (an independent
// verifier), requiring one trusted timestamp. Usage: node verify-key.js BUNDLE PUBLIC_KEY_PEM
// ARTIFACT TRUSTED_ROOT. Exits 0 when it verifies; prints the reason otherwise.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

const [bundlePath, keyPath, artifactPath, rootPath] = process.argv.slice(2);
try {
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath)));
  const key = crypto.createPublicKey(fs.readFileSync(keyPath));
  const material = toTrustMaterial(
    TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(rootPath))),
    () => ({ publicKey: key, validFor: () => true }),
  );
  const verifier = new Verifier(material, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 1 });
  verifier.verify(toSignedEntity(bundle, fs.readFileSync(artifactPath)));
  process.stdout.write('verified\n');
} catch (e) {
  process.stdout.write(`not verified: ${e && e.message}\n`);
  process.exit(1);
}
