#!/usr/bin/env bash
# Fuzzes every parser of outside data (fuzz/fuzz_targets, entry points in src/fuzzing.rs) with
# cargo-fuzz on the nightly toolchain. Each target runs until 10 million executions or SECONDS
# seconds (default 600), whichever comes first, starting from fuzz/seeds/<target>.b64 (the
# committed, minimized corpus: one base64 input per line; scripts/fuzz-seeds.sh writes it), the
# third-party fixtures and what earlier runs left in fuzz/corpus/<target>. A crash is saved in
# fuzz/artifacts/<target>/: copy it to fuzz/regressions/<target>/ (replayed by
# tests/fuzz_replay.rs) and fix it. Prints executions and crashes per target.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
shift || true
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v provost-fuzz)
fi
(cd fuzz && cargo +nightly fuzz build -O)
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  if [ -f "fuzz/seeds/$t.b64" ]; then
    n=0
    while IFS= read -r line; do
      n=$((n + 1))
      [ -e "fuzz/corpus/$t/seed-$n" ] || printf '%s' "$line" | base64 -d > "fuzz/corpus/$t/seed-$n"
    done < "fuzz/seeds/$t.b64"
  fi
  find tests/fixtures -type f -size -256k -exec cp -n {} "fuzz/corpus/$t/" \; 2>/dev/null || true
  log=$(mktemp)
  (cd fuzz && cargo +nightly fuzz run -O "$t" "corpus/$t" -- \
      -runs=10000000 -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="artifacts/$t/" >"$log" 2>&1) || true
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  [ -z "$execs" ] && execs=$(grep -o '#[0-9]*' "$log" | tail -1 | tr -d '#' || true)
  crashes=$(find "fuzz/artifacts/$t" -type f | wc -l)
  printf '%-18s executions %12s   crashes %s\n' "$t" "${execs:-?}" "$crashes"
  rm -f "$log"
done
