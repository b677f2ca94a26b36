#!/usr/bin/env sh
# Run every benchmark (release build) one after another and keep their output in
# bench/results-<date>.txt; the numbers in docs/performance.md come from such a run.
# Each takes well under two minutes on two cores. Knobs (see each bench's doc comment):
#   BENCH_SPEED=10 BENCH_WARM=40 BENCH_TASKS=40   polling side by side
#   BENCH_SIZES=10000,100000                        store open/load and RSS
#   BENCH_MB=512                                    download vs curl
set -eu
cd "$(dirname "$0")/.."
out="bench/results-$(date +%Y%m%d-%H%M%S).txt"
for b in frame idle store polling latency download batch; do
  echo "== cargo bench --bench $b" | tee -a "$out"
  cargo bench --bench "$b" 2>/dev/null | tee -a "$out"
done
echo "results in $out"
