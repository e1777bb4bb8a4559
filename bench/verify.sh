#!/usr/bin/env bash
# Offline bundle verification: provost verify-bundle against sigstore-python
# (`sigstore verify identity --offline`) and a node @sigstore/verify script, on the same
# happy-path conformance bundle and production trusted root, in the same run; plus
# provost's in-process rate. Needs hyperfine (apt), sigstore (PyPI) and node/npm.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "missing hyperfine (apt-get install hyperfine)"; exit 2; }
python3 -c 'import sigstore' 2>/dev/null || python3 -m pip install --quiet sigstore
(cd bench/node && [ -d node_modules ] || npm install --silent --no-audit --no-fund)
cargo build --release --quiet --bin provost --example verify_rate
F=tests/fixtures/sigstore-bundles/conformance
B=$F/happy-path-v0.3/bundle.sigstore.json
A=$F/a.txt
ROOT=tests/fixtures/trusted-roots/sigstore-production.trusted_root.json
ID=https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main
ISS=https://token.actions.githubusercontent.com
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# sigstore-python looks for the bundle beside the artifact.
cp "$A" "$work/a.txt"; cp "$B" "$work/a.txt.sigstore.json"
hyperfine -N -w 3 -r 20 --export-json "$work/v.json" \
  "target/release/provost verify-bundle --bundle $B --certificate-identity $ID --certificate-oidc-issuer $ISS $A" \
  "sigstore verify identity --offline --bundle $work/a.txt.sigstore.json --cert-identity $ID --cert-oidc-issuer $ISS $work/a.txt" \
  "node bench/node/verify.js $B $A $ROOT $ID $ISS" >/dev/null
python3 - "$work" <<'PY'
import json, statistics, sys
r = json.load(open(f"{sys.argv[1]}/v.json"))["results"]
m = [statistics.median(x["times"]) * 1000 for x in r]
print(f"provost verify-bundle        {m[0]:7.1f} ms")
print(f"sigstore-python --offline    {m[1]:7.1f} ms   ratio {m[1]/m[0]:.1f}x slower than provost")
print(f"node @sigstore/verify        {m[2]:7.1f} ms   ratio {m[2]/m[0]:.1f}x slower than provost")
print(f"fastest peer / provost       {min(m[1], m[2])/m[0]:.1f}x (target >= 5x)")
PY
target/release/examples/verify_rate "$B" "$A" "$ID" "$ISS" 2000
