#!/usr/bin/env bash
# provost index, cold and warm, over a registry holding N signed images with provenance and
# SBOMs, against a cold `provost gate --all` over the same images in the same run (each cold
# run with its own empty cache and data directory), then a query over the filled index.
# Targets: cold index no slower than cold gate --all; warm index under 1 s. Default N = 1000.
# The query target (under 100 ms over 10,000 digests) is measured by
# `cargo run --release --example bench_index`.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
. bench/lib.sh
bench_setup
start_registry data
echo "seeding $N signed images with provenance and SBOMs…"
target/release/examples/bench_seed "$host" signed "$N"
target/release/examples/bench_seed --print-demo-pub > "$work/demo.pub" 2>/dev/null || true
printf 'demo = false\n[[registry]]\nname = "r"\nhost = "%s"\ninsecure = true\n[[environment]]\nname = "prod"\ntier = "required"\nsource = "r"\nrepository = "bench/app"\n[[trust.key]]\nname = "demo"\npath = "%s/demo.pub"\n' "$host" "$work" > "$work/provost.toml"
timed() { # $1: label, rest: the command (run with its own HOME and cache)
  local label=$1 s; shift
  mkdir -p "$work/$label"
  s=$(date +%s.%N)
  env PROVOST_COUNT_REQUESTS=1 HOME="$work/$label-home" PROVOST_CACHE_DIR="$work/$label-cache" "$@" > "$work/$label.out" 2> "$work/$label.err" || true
  echo "$(date +%s.%N) - $s" | bc > "$work/$label.time"
}
timed gate "$bin" --config "$work/provost.toml" gate "$host/bench/app" --all --env prod --json
timed index "$bin" --config "$work/provost.toml" index r --json
# Warm: the same HOME and cache as the cold index run.
s=$(date +%s.%N)
env PROVOST_COUNT_REQUESTS=1 HOME="$work/index-home" PROVOST_CACHE_DIR="$work/index-cache" "$bin" --config "$work/provost.toml" index r --json > "$work/warm.out" 2> "$work/warm.err"
echo "$(date +%s.%N) - $s" | bc > "$work/warm.time"
s=$(date +%s.%N)
env PROVOST_COUNT_REQUESTS=1 HOME="$work/index-home" PROVOST_CACHE_DIR="$work/index-cache" "$bin" --config "$work/provost.toml" find --builder '*' --no-refresh --json > "$work/find.out" 2> "$work/find.err"
echo "$(date +%s.%N) - $s" | bc > "$work/find.time"
for f in gate index warm find; do [ -s "$work/$f.out" ] || { echo "$f printed nothing:"; cat "$work/$f.err"; exit 1; }; done
python3 - "$work" "$N" <<'PY'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
t = {k: float(open(f"{work}/{k}.time").read()) for k in ("gate", "index", "warm", "find")}
gate = json.load(open(f"{work}/gate.out"))["verdicts"]
cold = json.load(open(f"{work}/index.out"))
warm = json.load(open(f"{work}/warm.out"))
hits = json.load(open(f"{work}/find.out"))["hits"]
import re
req = {k: (re.findall(r"(\d+) registry requests", open(f"{work}/{k}.err").read()) or ["?"])[0] for k in ("gate", "index", "warm", "find")}
print(f"cold gate --all: {len(gate)} digests in {t['gate']:.2f} s ({req['gate']} requests)")
print(f"cold index: {cold['indexed']} in {t['index']:.2f} s ({req['index']} requests) — {t['gate']/t['index']:.2f}x the speed of cold gate --all (target >= 1x)")
print(f"warm index: {warm['indexed']} in {t['warm']:.2f} s ({req['warm']} requests: the tag list and each tag, to see moved tags) (target < 1 s)")
print(f"find --builder '*' (whole command, {len(hits)} hits judged today): {t['find']:.2f} s ({req['find']} requests)")
ok = cold["indexed"]["indexed"] == len(gate) == n and warm["indexed"]["indexed"] == 0 and len(hits) == n
sys.exit(0 if ok else 1)
PY
