#!/usr/bin/env bash
# Regenerates screenshots/*.png from real runs of the TUI: tmux runs provost on a fresh demo
# store, capture-pane -e keeps the colours, aha turns them into HTML, headless chromium takes
# the picture. Needs tmux, aha and chromium (apt).
set -euo pipefail
cd "$(dirname "$0")/.."
for t in tmux aha chromium; do command -v "$t" >/dev/null || { echo "missing $t (apt-get install tmux aha chromium)"; exit 2; }; done
cargo build --release --quiet --bin provost
work=$(mktemp -d)
trap 'tmux -L shots kill-server 2>/dev/null; rm -rf "$work"' EXIT
export HOME=$work/home
mkdir -p "$HOME"
tmux -L shots new-session -d -s shots -x 110 -y 32 "env HOME=$HOME TERM=xterm-256color $PWD/target/release/provost"
sleep 1.5

shot() {
  local name=$1
  sleep 0.8
  tmux -L shots capture-pane -e -p -t shots > "$work/$name.ansi"
  aha --black --no-header < "$work/$name.ansi" > "$work/$name.body"
  {
    echo '<html><head><meta charset="utf-8"><style>'
    echo 'body{background:#000;margin:0;padding:8px} pre{font-family:"DejaVu Sans Mono",monospace;font-size:14px;line-height:1.2;color:#ddd;margin:0}'
    echo '</style></head><body><pre>'
    cat "$work/$name.body"
    echo '</pre></body></html>'
  } > "$work/$name.html"
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/chrome" --hide-scrollbars --window-size=940,560 \
    --screenshot="$PWD/screenshots/$name.png" "file://$work/$name.html" >/dev/null 2>&1
  echo "screenshots/$name.png"
}
keys() { for k in "$@"; do tmux -L shots send-keys -t shots "$k"; sleep 0.15; done; }

shot repositories
keys Enter
sleep 1.5
shot tags
keys j j j Enter
shot detail
keys 2
shot evidence
keys 3
shot provenance
keys 4
shot sbom
keys 5
shot verdicts
keys 1 Escape Escape j j j Enter
keys j j j j j Enter 3
shot provenance-misbound
keys 1 Escape Escape k Enter
keys j j Enter
shot index
keys Escape m
sleep 1.5
shot matrix
keys m
keys '?'
shot help
keys Escape q
# acme/billing 3.2.0: its records, the approve dialog's confirmation, prod's audit trail.
tmux -L shots kill-server 2>/dev/null || true
tmux -L shots new-session -d -s shots -x 110 -y 32 "env HOME=$HOME TERM=xterm-256color $PWD/target/release/provost"
sleep 1.5
keys j Enter
sleep 1.5
keys j Enter
sleep 1
keys 6
sleep 1
shot history
keys A
sleep 0.5
keys BTab
tmux -L shots send-keys -t shots -l 'shipping the hotfix'
keys Enter
sleep 1.5
shot confirm
keys Escape a
sleep 2
shot audit
keys a q
# dev's acme/api promoted to staging: the plan in the confirmation.
tmux -L shots kill-server 2>/dev/null || true
tmux -L shots new-session -d -s shots -x 110 -y 32 "env HOME=$HOME TERM=xterm-256color $PWD/target/release/provost"
sleep 1.5
keys BTab j Enter
sleep 1
keys Enter
sleep 1
keys Enter
sleep 1.5
keys P
sleep 0.5
tmux -L shots send-keys -t shots -l 'rc for staging'
keys Enter
sleep 2
shot promote
keys Escape q
# acme/billing 3.1.0 marked, compared with 3.2.0.
tmux -L shots kill-server 2>/dev/null || true
tmux -L shots new-session -d -s shots -x 110 -y 32 "env HOME=$HOME TERM=xterm-256color $PWD/target/release/provost"
sleep 1.5
keys j Enter
sleep 1
keys Enter
sleep 1.5
tmux -L shots send-keys -t shots -l '*'
sleep 0.3
keys Escape j j j Enter
sleep 1.5
keys d
sleep 2.5
shot compare
keys d q
# acme/api 1.4.2 (in staging) against what prod holds, the next environment on its path.
tmux -L shots kill-server 2>/dev/null || true
tmux -L shots new-session -d -s shots -x 110 -y 32 "env HOME=$HOME TERM=xterm-256color $PWD/target/release/provost"
sleep 1.5
keys Enter
sleep 1
keys j j j j Enter
sleep 1.5
keys D
sleep 2.5
shot compare-env
keys q
# Triage: every digest carrying golang.org/x/crypto below 0.31.0, where it is, today's verdicts.
tmux -L shots kill-server 2>/dev/null || true
tmux -L shots new-session -d -s shots -x 110 -y 32 "env HOME=$HOME TERM=xterm-256color $PWD/target/release/provost"
sleep 1.5
keys ':'
tmux -L shots send-keys -t shots -l 'find package=golang.org/x/crypto@<0.31.0'
keys Enter
sleep 4
keys j '*' j j '*'
shot find
keys Escape q
