#!/usr/bin/env bash
# A batch through the real binary with default settings: `submit --prompts FILE
# --max-in-flight 8 --wait` of LINES (default 1000) lines against `seedance-tui sim` whose tasks
# take ~0.3 s (speed 600: queue and run of 65-290 simulated seconds, 8 may run at once), then the
# simulator's request counts. The goal (issue 25): within 1.5x of LINES/8 x (task time + one
# list tick).
#   bench/batch_refill.sh [LINES]   (SEEDANCE_BIN=PATH to use a binary already built)
set -euo pipefail
cd "$(dirname "$0")/.."
LINES="${1:-1000}"
# SEEDANCE_BIN: a release binary already built (skips the build).
if [ -z "${SEEDANCE_BIN:-}" ]; then cargo build --release --bin seedance-tui >/dev/null; fi
BIN="${SEEDANCE_BIN:-${CARGO_TARGET_DIR:-target}/release/seedance-tui}"
DIR="$(mktemp -d)"
trap 'kill "$SIM" 2>/dev/null || true; rm -rf "$DIR"' EXIT
PORT=$((20000 + RANDOM % 20000))
"$BIN" sim --addr "127.0.0.1:$PORT" --speed 600 --fail-rate 0 --max-running 8 >"$DIR/sim.log" 2>&1 &
SIM=$!
for _ in $(seq 100); do curl -s "http://127.0.0.1:$PORT/_sim/stats" >/dev/null && break; sleep 0.1; done
for i in $(seq "$LINES"); do echo "batch line $i [[sim:succeed]]"; done >"$DIR/prompts.txt"
: >"$DIR/config.toml"
START=$(date +%s.%N)
SEEDANCE_API_KEY=sk-bench-batch "$BIN" --config "$DIR/config.toml" --store "$DIR/store.sqlite3" \
  --base-url "http://127.0.0.1:$PORT/api/v3" submit --prompts "$DIR/prompts.txt" \
  --max-in-flight 8 --wait --out "$DIR/out" >"$DIR/out.txt" 2>"$DIR/err.txt"
END=$(date +%s.%N)
echo "lines: $LINES, wall: $(echo "$END - $START" | bc) s, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "simulator: $(curl -s "http://127.0.0.1:$PORT/_sim/stats")"
