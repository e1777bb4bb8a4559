#!/usr/bin/env bash
# `provost audit verify` over a chain of N (default 1,000) extra records on a loopback registry,
# cold and warm, and the registry requests records add to a cold `gate` (a digest with two
# approvals against one with none). Target: warm verify under 0.2 s (the chain is read from
# the ledger, its cached records confirmed by the live tag list); no more than one request
# per digest for approvals.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
. bench/lib.sh
bench_setup
start_registry data
echo "seeding the demo landscape and $N approval records…"
s=$(date +%s.%N); target/release/examples/bench_seed "$host" records "$N"; echo "seeded in $(echo "$(date +%s.%N) - $s" | bc) s"
target/release/examples/bench_seed --print-demo-pub > "$work/bench.pub"
export HOME=$work/home; mkdir -p "$HOME"
"$bin" policy explain prod >/dev/null 2>&1 || true
sed -n '/^\[\[rule\]\]/,$p' src/policy/demo.toml > "$work/policy.toml"
printf 'demo = false\npolicy = "%s/policy.toml"\n[[registry]]\nname = "r"\nhost = "%s"\ninsecure = true\n' "$work" "$host" > "$work/provost.toml"
for e in dev:warn staging:conditional prod:required; do
  printf '[[environment]]\nname = "%s"\ntier = "%s"\nsource = "r"\ntag = "%s"\n' "${e%%:*}" "${e##*:}" "${e%%:*}" >> "$work/provost.toml"
done
printf '[[trust.key]]\nname = "alice"\npath = "%s/bench.pub"\n' "$work" >> "$work/provost.toml"
export PROVOST_CACHE_DIR=$work/cache
verify() { # $1: label
  local s; s=$(date +%s.%N)
  PROVOST_COUNT_REQUESTS=1 "$bin" --config "$work/provost.toml" audit verify prod > "$work/verify-$1.out" 2> "$work/verify-$1.err" || true
  echo "audit verify ($1): $(echo "$(date +%s.%N) - $s" | bc) s, $(grep -o "[0-9]* registry requests" "$work/verify-$1.err" || echo "? requests"); $(head -c 160 "$work/verify-$1.out")"
}
verify cold
verify warm
s=$(date +%s.%N); skopeo list-tags --tls-verify=false "docker://$host/provost-audit" >/dev/null; echo "peer: skopeo list-tags of the audit repository: $(echo "$(date +%s.%N) - $s" | bc) s"
count() { # $1: tag
  rm -rf "$work/cache"
  PROVOST_COUNT_REQUESTS=1 "$bin" --config "$work/provost.toml" gate "r/acme/api:$1" --env prod >/dev/null 2> "$work/gate-$1.err" || true
  grep -o "[0-9]* registry requests" "$work/gate-$1.err" | grep -o "^[0-9]*"
}
with=$(count 1.4.1); without=$(count 1.4.0)
echo "cold gate: acme/api:1.4.1 (two approvals) $with requests; acme/api:1.4.0 (no record) $without requests; records add $((with - without)) (target <= 1)"
