#!/usr/bin/env sh
# Peak memory (max RSS, from /usr/bin/time -v) and wall time of the batch-file cases of
# docs/security.md ("Batch files"), each run by the real binary against the simulator on
# loopback. The numbers in docs/performance.md ("Batch files: memory") come from this script.
#
#   bench/batch_memory.sh [BINARY]     (default: $CARGO_TARGET_DIR or target, /debug/seedance-tui)
#   BATCH_MEMORY_CASES=big bench/batch_memory.sh [BINARY]     (only the 20 MB prompt's rows)
#
# Cases: a 20 MB one-line prompt queued and sent; `ls`, `ls --json` and `get` on the store that
# holds it; 200,000 lines with --detach; a 64 MiB file (745,000 lines) with --detach; 5.1
# million invalid lines; `ls` over the 745,000 rows, and `ls | head -1`.
set -eu
bin="${1:-${CARGO_TARGET_DIR:-target}/debug/seedance-tui}"
[ -x "$bin" ] || { echo "no binary at $bin (cargo build first)"; exit 2; }
work="$(mktemp -d)"
trap 'kill "$sim_pid" 2>/dev/null; rm -rf "$work"' EXIT
model=doubao-seedance-2-0-fast-260128
export XDG_CONFIG_HOME="$work/xdg" XDG_DATA_HOME="$work/xdg" SEEDANCE_API_KEY=sk-bench
printf '[poll]\ninterval_secs = 1\n[download]\nauto = false\n' > "$work/config.toml"

"$bin" sim --addr 127.0.0.1:0 --speed 400 --fail-rate 0 > "$work/sim.out" 2>/dev/null &
sim_pid=$!
base=""
for _ in $(seq 1 100); do
  base="$(sed -n 's/.*official base URL: *//p' "$work/sim.out" | head -1)"
  [ -n "$base" ] && break
  sleep 0.1
done
[ -n "$base" ] || { echo "the simulator did not start"; exit 1; }

# `measure NAME STORE ARGS...`: one row of the table.
measure() {
  name="$1"; store="$2"; shift 2
  /usr/bin/time -v "$bin" --store "$store" --config "$work/config.toml" --base-url "$base" "$@" \
    > "$work/out" 2> "$work/err" || true
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/err")
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/err")
  code=$(sed -n 's/.*Exit status: //p' "$work/err")
  printf '| %s | %s MB | %s | %s |\n' "$name" "$((rss / 1024))" "$wall" "$code"
}

line() { printf '{"model":"%s","content":[{"type":"text","text":"%s"}],"duration":5}\n' "$model" "$1"; }

# A 20 MB prompt on one line.
{ printf '{"model":"%s","content":[{"type":"text","text":"' "$model"
  head -c 20000000 /dev/zero | tr '\0' 'a'
  printf ' [[sim:succeed]]"}],"duration":5}\n'; } > "$work/big.jsonl"
cases="${BATCH_MEMORY_CASES:-all}"
# 200,000 and 745,000 short lines (the second about 64 MiB), and 5.1 million invalid ones.
[ "$cases" = big ] || awk -v m="$model" 'BEGIN { for (i = 1; i <= 200000; i++) printf "{\"model\":\"%s\",\"content\":[{\"type\":\"text\",\"text\":\"shot %d: a lighthouse at dusk\"}],\"duration\":5}\n", m, i }' > "$work/200k.jsonl"
[ "$cases" = big ] || awk -v m="$model" 'BEGIN { for (i = 1; i <= 745000; i++) printf "{\"model\":\"%s\",\"content\":[{\"type\":\"text\",\"text\":\"shot %d: a lighthouse at dusk, slow\"}],\"duration\":5}\n", m, i }' > "$work/745k.jsonl"
[ "$cases" = big ] || awk 'BEGIN { for (i = 1; i <= 5100000; i++) print "x" }' > "$work/invalid.jsonl"

echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| case | max RSS | wall | exit |"
echo "| --- | --- | --- | --- |"
measure "20 MB one-line prompt: queued and sent" "$work/big.sqlite3" submit --batch "$work/big.jsonl"
id=$("$bin" --store "$work/big.sqlite3" ls --jsonl | sed -n 's/.*"local_id":"\([^"]*\)".*/\1/p' | head -1)
measure "ls on the store holding it" "$work/big.sqlite3" ls
measure "ls --json on it" "$work/big.sqlite3" ls --json
measure "get it" "$work/big.sqlite3" get "$id"
echo "load average after these: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$cases" = big ] && exit 0
measure "200,000 lines --detach ($(du -m "$work/200k.jsonl" | cut -f1) MB)" "$work/200k.sqlite3" submit --batch "$work/200k.jsonl" --detach
measure "745,000 lines --detach ($(du -m "$work/745k.jsonl" | cut -f1) MB)" "$work/745k.sqlite3" submit --batch "$work/745k.jsonl" --detach
measure "5,100,000 invalid lines" "$work/inv.sqlite3" submit --batch "$work/invalid.jsonl" --detach
measure "ls over 745,000 rows" "$work/745k.sqlite3" ls
start=$(date +%s.%N)
"$bin" --store "$work/745k.sqlite3" ls | head -1 > /dev/null
end=$(date +%s.%N)
printf '| ls over 745,000 rows piped to head -1 | - | %s s | - |\n' "$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }')"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
