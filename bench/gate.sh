#!/usr/bin/env bash
# provost gate --all over a registry holding N signed images with provenance and SBOMs, against
# a shell loop of `skopeo inspect` over the same digests, in the same run. Default N = 1000.
# BASELINE_BIN=path/to/an/older/provost also times that binary's cold run, alternating with
# this one (two runs each, fresh caches), and prints the ratio: what a change costs, same run.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
. bench/lib.sh
bench_setup
start_registry data
echo "seeding $N signed images with provenance and SBOMs…"
s=$(date +%s.%N); target/release/examples/bench_seed "$host" signed "$N"; echo "seeded in $(echo "$(date +%s.%N) - $s" | bc) s"
export HOME=$work/home; mkdir -p "$HOME"
"$bin" demo --store "$work/demo" >/dev/null
python3 -c 'import sys; sys.path' >/dev/null
cat > "$work/policy.toml" <<'P'
[[rule]]
name = "release-workflow"
kind = "workflow"
allow = [".github/workflows/release.yml"]
[[rule]]
name = "sbom"
kind = "sbom"
P
target/release/examples/bench_seed --print-demo-pub > "$work/demo.pub" 2>/dev/null || true
printf 'demo = false\n[[registry]]\nname = "r"\nhost = "%s"\ninsecure = true\n[[environment]]\nname = "prod"\ntier = "required"\nsource = "r"\n[[trust.key]]\nname = "demo"\npath = "%s/demo.pub"\n' "$host" "$work" > "$work/provost.toml"
digests=$("$bin" --config "$work/provost.toml" ls "$host/bench/app" --json | python3 -c 'import json,sys; print("\n".join(t["digest"] for t in json.load(sys.stdin)))')
export PROVOST_CACHE_DIR=$work/cache
run_gate() { # $1: label; times one gate --all run, keeps its JSON verdicts
  local s; s=$(date +%s.%N)
  PROVOST_COUNT_REQUESTS=1 "$bin" --config "$work/provost.toml" gate "$host/bench/app" --all --env prod --policy "$work/policy.toml" --json > "$work/gate-$1.json" 2> "$work/gate-$1.err" || true
  echo "$(date +%s.%N) - $s" | bc > "$work/gate-$1.time"
  echo "$1: $(grep -o "[0-9]* registry requests" "$work/gate-$1.err" || echo "? requests")"
}
run_gate cold
run_gate warm
if [ -n "${BASELINE_BIN:-}" ]; then
  cold_once() { # $1: binary; prints the seconds of one cold run
    rm -rf "$work/cache-cmp"; local s; s=$(date +%s.%N)
    PROVOST_CACHE_DIR=$work/cache-cmp "$1" --config "$work/provost.toml" gate "$host/bench/app" --all --env prod --policy "$work/policy.toml" --json > /dev/null 2>&1 || true
    echo "$(date +%s.%N) - $s" | bc
  }
  n1=$(cold_once "$bin"); b1=$(cold_once "$BASELINE_BIN"); n2=$(cold_once "$bin"); b2=$(cold_once "$BASELINE_BIN")
  python3 -c "import sys; n=min(float(sys.argv[1]),float(sys.argv[2])); b=min(float(sys.argv[3]),float(sys.argv[4])); print(f'cold gate --all, this build {n:.2f} s vs baseline {b:.2f} s (best of 2 each): {n/b:.3f}x (target <= 1.1x)')" "$n1" "$n2" "$b1" "$b2"
fi
s=$(date +%s.%N)
for d in $digests; do skopeo inspect --tls-verify=false "docker://$host/bench/app@$d" >/dev/null; done
loop=$(echo "$(date +%s.%N) - $s" | bc)
python3 - "$work" "$loop" <<'PY'
import json, sys
work, loop = sys.argv[1], float(sys.argv[2])
res = {}
for label in ("cold", "warm"):
    v = json.load(open(f"{work}/gate-{label}.json"))["verdicts"]
    t = float(open(f"{work}/gate-{label}.time").read())
    counts = {}
    for x in v:
        counts[x["decision"]] = counts.get(x["decision"], 0) + 1
    res[label] = (v, t, counts)
cold, warm = res["cold"], res["warm"]
same = [(x["digest"], x["decision"]) for x in cold[0]] == [(x["digest"], x["decision"]) for x in warm[0]]
print(f"gate --all cold: {len(cold[0])} digests in {cold[1]:.2f} s ({cold[2]}); skopeo inspect loop {loop:.2f} s; "
      f"cold is {loop/cold[1]:.1f}x faster (target >= 5x)")
print(f"gate --all warm: {warm[1]:.2f} s (target < 0.5 s); same verdicts as cold: {same}")
if not same:
    sys.exit(1)
PY
