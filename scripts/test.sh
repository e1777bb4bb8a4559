#!/usr/bin/env bash
# Runs provost's whole test suite on a fresh Debian machine: installs the real components the
# tests talk to (the CNCF distribution registry, skopeo, htpasswd, tmux) when missing, then
# installs securesystemslib (PyPI) for the DSSE interop test, then checks formatting and lints
# and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# An independent DSSE implementation for the interop tests.
if ! python3 -c 'import securesystemslib, cryptography' >/dev/null 2>&1; then
  echo "installing: securesystemslib (PyPI)"
  python3 -m pip install --quiet --disable-pip-version-check 'securesystemslib[crypto]'
fi

cargo fmt --check
cargo clippy --all-targets -- -D warnings
# Two cores: two test threads per binary keeps the registries and the builds from starving.
cargo test --all-targets -- --test-threads=2
