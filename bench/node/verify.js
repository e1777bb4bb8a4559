// Verifies a Sigstore bundle offline with @sigstore/verify, given a trusted root.
// Usage: node verify.js BUNDLE ARTIFACT TRUSTED_ROOT IDENTITY ISSUER
const fs = require('fs');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');
const [bundlePath, artifactPath, rootPath, identity, issuer] = process.argv.slice(2);
const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath)));
const material = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(rootPath))));
const verifier = new Verifier(material);
verifier.verify(toSignedEntity(bundle, fs.readFileSync(artifactPath)), {
  subjectAlternativeName: identity,
  extensions: { issuer },
});
