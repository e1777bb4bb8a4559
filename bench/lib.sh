# Shared by the bench scripts (sourced): a release build, a work directory removed on exit, and
# loopback registries (Debian's docker-registry) stopped on exit.
bench_setup() {
  for t in docker-registry skopeo; do command -v "$t" >/dev/null || { echo "missing $t"; exit 2; }; done
  # PROVOST_BIN=path: time that binary (the seeding example must be built already).
  if [ -n "${PROVOST_BIN:-}" ]; then
    bin=$PROVOST_BIN
  else
    cargo build --release --quiet --bin provost --example bench_seed
    bin=$PWD/target/release/provost
  fi
  export BENCH_KEY="${BENCH_KEY:-$(mktemp -u /tmp/provost-bench-key.XXXXXX)}"
  work=$(mktemp -d)
  registries=()
  trap 'kill "${registries[@]}" 2>/dev/null; rm -rf "$work"' EXIT
}

# start_registry NAME: a registry storing under $work/NAME; sets $host to its host:port.
start_registry() {
  local name=$1 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  host=127.0.0.1:$port
  printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s/%s}}\nhttp: {addr: %s}\n' "$work" "$name" "$host" > "$work/$name.yml"
  docker-registry serve "$work/$name.yml" >/dev/null 2>&1 &
  registries+=($!)
  for _ in $(seq 50); do curl -sf "http://$host/v2/" >/dev/null && break; sleep 0.1; done
}
