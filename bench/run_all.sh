#!/usr/bin/env sh
# Run every benchmark (release build) one after another and keep their output in
# bench/results-<date>.txt; the numbers in docs/performance.md come from such a run.
# Each takes a few minutes at most on two cores (polling the longest: ~5). Knobs (see each bench's doc comment):
#   BENCH_SPEED=2 BENCH_INTERVAL=15 BENCH_TASKS=100 BENCH_WARM=40   polling side by side
#   BENCH_SWEEP=1000,5000 BENCH_SWEEP_SECS=10                     polling: the full sweep
#   BENCH_SIZES=10000,100000                        store open/load and RSS
#   BENCH_LS_TASKS=100000 BENCH_LS_STORE=PATH       ls --json stages (PATH kept for perf)
#   BENCH_MB=512                                    download vs curl
set -eu
cd "$(dirname "$0")/.."
out="bench/results-$(date +%Y%m%d-%H%M%S).txt"
for b in frame idle store ls_json polling latency download batch; do
  echo "== cargo bench --bench $b" | tee -a "$out"
  cargo bench --bench "$b" 2>/dev/null | tee -a "$out"
done
echo "results in $out"
