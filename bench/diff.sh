#!/usr/bin/env bash
# `provost diff A B --json` (metadata: both sides read, verified and judged) against one
# `provost inspect --json` of each, on the demo store, same run (hyperfine).
# Target: within 2x of the two inspects.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "missing hyperfine"; exit 2; }
cargo build --release --quiet --bin provost
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export HOME=$work/home; mkdir -p "$HOME"
bin=$PWD/target/release/provost
"$bin" demo >/dev/null
hyperfine --warmup 3 --runs 30 --export-json "$work/h.json" \
  -n diff "$bin diff acme/billing:3.1.0 acme/billing:3.2.0 --json" \
  -n inspect-both "$bin inspect acme/billing:3.1.0 --json && $bin inspect acme/billing:3.2.0 --json" >/dev/null
python3 - "$work/h.json" <<'P'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
print(f"diff {r['diff']*1000:.1f} ms, two inspects {r['inspect-both']*1000:.1f} ms: {r['diff']/r['inspect-both']:.2f}x (target <= 2)")
P
