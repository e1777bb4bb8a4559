#!/usr/bin/env bash
# End-to-end benchmark: provost against skopeo on the same loopback registry, in the same run.
#   provost ls REGISTRY/REPO --json    vs  skopeo list-tags
#   provost inspect REF --json         vs  skopeo inspect
#   provost ls REGISTRY --all --json   over 1,000 repositories x 10 tags (target < 3 s)
# Needs docker-registry, skopeo and hyperfine (apt). Prints medians and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
for t in docker-registry skopeo hyperfine; do
  command -v "$t" >/dev/null || { echo "missing $t (apt-get install docker-registry skopeo hyperfine)"; exit 2; }
done
cargo build --release --quiet --bin provost --example bench_seed
export BENCH_KEY="${BENCH_KEY:-$(mktemp -u /tmp/provost-bench-key.XXXXXX)}"
bin=target/release/provost
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
host=127.0.0.1:$port
cat > "$work/reg.yml" <<Y
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/data}}
http: {addr: $host}
Y
docker-registry serve "$work/reg.yml" >/dev/null 2>&1 &
reg=$!
trap 'kill $reg 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -sf "http://$host/v2/" >/dev/null && break; sleep 0.1; done

export HOME=$work/home
# The demo landscape with its evidence (provenance and two SBOMs per digest, both ways).
target/release/examples/bench_seed "$host" demo
echo "seeding 1,000 repositories x 10 tags…"
start=$(date +%s.%N)
target/release/examples/bench_seed "$host" 1000 10
echo "seeded in $(echo "$(date +%s.%N) - $start" | bc) s"

P="$bin --insecure-registry $host"
hyperfine -N -w 3 -r 30 --export-json "$work/tags.json" \
  "$P ls $host/acme/api --json" \
  "skopeo list-tags --tls-verify=false docker://$host/acme/api" >/dev/null
hyperfine -N -w 3 -r 30 --export-json "$work/inspect.json" \
  "$P inspect $host/acme/api:prod --json" \
  "skopeo inspect --tls-verify=false docker://$host/acme/api:prod" \
  "$P inspect $host/acme/api:prod --json --no-cache" >/dev/null
hyperfine -N -w 1 -r 5 --export-json "$work/all.json" \
  "$P ls $host --all --json" >/dev/null
reqs=$(PROVOST_COUNT_REQUESTS=1 $P inspect "$host/acme/api:prod" --json --no-cache 2>&1 >/dev/null | grep -o '[0-9]* registry requests')
warm=$(PROVOST_COUNT_REQUESTS=1 $P inspect "$host/acme/api:prod" --json 2>&1 >/dev/null | grep -o '[0-9]* registry requests')
items=$($P inspect "$host/acme/api:prod" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["evidence"]), "evidence items,", len(d["provenance"]), "provenance,", len(d["sbom"]), "SBOM summaries")')
echo "inspect with evidence: $reqs cold (--no-cache), $warm warm; $items"
count=$($P ls "$host" --all --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d), sum(len(r["tags"]) for r in d))')

python3 - "$work" "$count" <<'PY'
import json, sys, statistics
w, count = sys.argv[1], sys.argv[2]
def med(f):
    return [statistics.median(r["times"]) * 1000 for r in json.load(open(f"{w}/{f}"))["results"]]
t = med("tags.json"); i = med("inspect.json"); a = med("all.json")
print(f"ls REPO --json        provost {t[0]:7.1f} ms   skopeo list-tags {t[1]:7.1f} ms   ratio {t[0]/t[1]:.2f}")
print(f"inspect REF --json     (artifact + evidence discovery and decoding)")
print(f"  warm (default cache) provost {i[0]:7.1f} ms   skopeo inspect   {i[1]:7.1f} ms   ratio {i[0]/i[1]:.2f}")
print(f"  cold (--no-cache)    provost {i[2]:7.1f} ms   skopeo inspect   {i[1]:7.1f} ms   ratio {i[2]/i[1]:.2f}")
print(f"ls REGISTRY --all     provost {a[0]:7.1f} ms   (repositories, tags listed: {count})")
PY
