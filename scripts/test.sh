#!/usr/bin/env bash
# Runs provost's whole test suite on a fresh Debian machine: installs the real components the
# tests talk to (the CNCF distribution registry, skopeo, htpasswd, tmux, zstd, podman, node) when missing,
# then securesystemslib and sigstore (PyPI), the node Sigstore packages for the interop tests and
# ferro-oci-server (a referrers-API registry, with cargo install),
# then checks formatting and lints and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v zstd >/dev/null 2>&1 || need+=(zstd)
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# pip into the python3 on PATH; a Debian system Python (PEP 668) gets a user install.
pip_install() {
  python3 -m pip install --quiet --disable-pip-version-check "$@" 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check --user --break-system-packages "$@"
}

# An independent DSSE implementation for the interop tests.
if ! python3 -c 'import securesystemslib, cryptography' >/dev/null 2>&1; then
  echo "installing: securesystemslib (PyPI)"
  pip_install 'securesystemslib[crypto]'
fi

# Independent Sigstore implementations for the interop tests: sigstore-python (signs against the
# loopback instance) and, under node, @sigstore/mock (Fulcio, Rekor, TSA) and @sigstore/verify.
if ! python3 -c 'import sigstore, jwt' >/dev/null 2>&1; then
  echo "installing: sigstore (PyPI)"
  pip_install 'sigstore>=4,<5'
fi
(cd tests/interop/sigstore && npm ci --silent --no-audit --no-fund >/dev/null)

# A registry that serves the OCI 1.1 referrers API (Debian's docker-registry 2.8 does not), for
# tests/registry_referrers.rs: ferro-oci-server, built from the crate registry.
if ! command -v ferro-oci-server >/dev/null 2>&1; then
  echo "installing: ferro-oci-server (crate registry; about a minute and a half)"
  cargo install ferro-oci-server --version 1.0.0 --locked --quiet
fi

cargo fmt --check
cargo clippy --all-targets -- -D warnings
# Two cores: two test threads per binary keeps the registries and the builds from starving.
cargo test --all-targets -- --test-threads=2
