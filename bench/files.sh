#!/usr/bin/env bash
# `provost diff A B --files --json` over two 5-layer images with about 100 MiB of files each
# (every timestamp differs, one file's content too), on a loopback docker-registry, against
# `skopeo copy` of both images to directories (the same bytes read, nothing compared), same
# run. Targets: under 2 s, peak memory under 100 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "missing hyperfine"; exit 2; }
. bench/lib.sh
bench_setup
cargo build --release --quiet --example bench_files
export HOME=$work/home; mkdir -p "$HOME"
start_registry files
for v in a b; do ./target/release/examples/bench_files "$host" "bench/files:$v" "$v" >/dev/null; done
diff_cmd="$bin --insecure-registry $host diff $host/bench/files:a $host/bench/files:b --files --json"
$diff_cmd > "$work/diff.json"
python3 - "$work/diff.json" <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
f = next(s for s in d["sections"] if s["name"] == "files")
changed = [r for r in f["rows"] if r["a"].split(" mtime")[0] != r["b"].split(" mtime")[0]]
print(f"files section: {len(f['rows'])} rows, {len(changed)} with other content: {[r['key'] for r in changed]}")
assert len(changed) == 1, changed
P
rss=$( { /usr/bin/time -f '%M' $diff_cmd >/dev/null; } 2>&1 | tail -1 )
echo "peak RSS of the file diff: $((rss / 1024)) MB (target < 100)"
hyperfine --warmup 1 --runs 5 --export-json "$work/h.json" \
  -n diff-files "$diff_cmd" \
  -n skopeo-both "rm -rf $work/sa $work/sb; skopeo copy -q --src-tls-verify=false docker://$host/bench/files:a dir:$work/sa && skopeo copy -q --src-tls-verify=false docker://$host/bench/files:b dir:$work/sb" >/dev/null
python3 - "$work/h.json" <<'P'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
print(f"file diff {r['diff-files']:.2f} s (target < 2), skopeo copy of both {r['skopeo-both']:.2f} s: {r['diff-files']/r['skopeo-both']:.2f}x")
P
