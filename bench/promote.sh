#!/usr/bin/env bash
# `provost promote` of one image (10 layers, 50 MiB in all, 6 referrers) between two loopback
# registries against `skopeo copy` of the image alone, in the same run; a same-registry
# promotion (blobs mounted); peak memory while promoting a 1 GiB layer.
# Targets: within 1.5x of skopeo; mount under 0.3 s; under 100 MB resident.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
. bench/lib.sh
bench_setup
cargo build --release --quiet --example bench_big
start_registry src; src=$host
big=target/release/examples/bench_big
echo "seeding bench/app:1 (10 layers, 50 MiB, 6 referrers) and big/app:1 (one 1 GiB layer)…"
$big "$src" bench/app:1 10 50 6 >/dev/null
$big "$src" big/app:1 1 1024 0 >/dev/null
target/release/examples/bench_seed --print-demo-pub > "$work/bench.pub"
export HOME=$work/home; mkdir -p "$HOME"
cat > "$work/policy.toml" <<'P'
[[group]]
name = "rm"
[[group.member]]
key = "bench"
[[access]]
environment = "prod"
promote = "rm"
[[access]]
environment = "qa"
promote = "rm"
P
config() { # config RUN: prod in dst and qa in src, each run in fresh repositories
  cat > "$work/provost.toml" <<C
demo = false
policy = "$work/policy.toml"
[[registry]]
name = "src"
host = "$src"
insecure = true
[[registry]]
name = "dst"
host = "$dst"
insecure = true
[[environment]]
name = "staging"
tier = "warn"
source = "src"
tag = "staging"
[[environment]]
name = "prod"
tier = "warn"
source = "dst"
repository = "p$1/{name}"
tag = "prod"
promotes_from = "staging"
[[environment]]
name = "qa"
tier = "warn"
source = "src"
repository = "q$1/{name}"
tag = "qa"
promotes_from = "staging"
[[trust.key]]
name = "bench"
path = "$work/bench.pub"
C
}
secs() { local s; s=$(date +%s.%N); "$@" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }; echo "$(date +%s.%N) - $s" | bc; }
best() { sort -n | head -1; }
p=(); k=(); m=()
for i in $(seq "$RUNS"); do
  # Fresh destinations each run, for both tools: nothing to skip or mount from there.
  start_registry "dst$i"; dst=$host
  config "$i"
  p+=("$(secs "$bin" --config "$work/provost.toml" promote src/bench/app:1 --to prod --key "$BENCH_KEY" --yes)")
  start_registry "sk$i"
  k+=("$(secs skopeo copy --quiet --src-tls-verify=false --dest-tls-verify=false "docker://$src/bench/app:1" "docker://$host/bench/app:1")")
  m+=("$(secs "$bin" --config "$work/provost.toml" promote src/bench/app:1 --to qa --key "$BENCH_KEY" --yes)")
done
pb=$(printf '%s\n' "${p[@]}" | best); kb=$(printf '%s\n' "${k[@]}" | best); mb=$(printf '%s\n' "${m[@]}" | best)
echo "cross-registry promote (image + 6 referrers, record, tag): best of $RUNS ${pb} s"
echo "peer: skopeo copy of the image alone: best of $RUNS ${kb} s"
echo "ratio: $(echo "scale=2; $pb / $kb" | bc)x (target <= 1.5)"
echo "same-registry promote (mounted): best of $RUNS ${mb} s (target < 0.3)"
config big
/usr/bin/time -v "$bin" --config "$work/provost.toml" promote src/big/app:1 --to prod --key "$BENCH_KEY" --yes >/dev/null 2>"$work/time"
rss=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$work/time")
echo "1 GiB layer promoted: peak resident $((rss / 1024)) MB (target < 100)"
