#!/usr/bin/env bash
# After a fuzzing run (scripts/fuzz.sh): minimizes each target's corpus (cargo fuzz cmin) and
# packs the inputs of at most 1 KiB into fuzz/seeds/<target>.b64, one base64 input per line, so the
# corpus is committed as one small file per target. tests/fuzz_replay.rs replays every line in
# CI; scripts/fuzz.sh unpacks them into fuzz/corpus/<target>/ before fuzzing.
#   scripts/fuzz-seeds.sh [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v provost-fuzz)
fi
mkdir -p fuzz/seeds
for t in "${targets[@]}"; do
  [ -d "fuzz/corpus/$t" ] || { echo "$t: no corpus (run scripts/fuzz.sh first)"; continue; }
  (cd fuzz && cargo +nightly fuzz cmin -O "$t" "corpus/$t" >/dev/null 2>&1)
  find "fuzz/corpus/$t" -type f -size -1025c -print0 | sort -z |
    xargs -0 -r -n 200 sh -c 'for f; do base64 -w0 "$f"; echo; done' sh > "fuzz/seeds/$t.b64"
  printf '%-18s %5s inputs  %8s bytes packed\n' "$t" "$(wc -l < "fuzz/seeds/$t.b64")" "$(wc -c < "fuzz/seeds/$t.b64")"
done
