#!/usr/bin/env sh
# Run every benchmark (release build) one after another and keep their output in
# bench/results-<date>.txt; the numbers in docs/performance.md come from such a run.
# Each takes a few minutes at most on two cores (polling the longest: ~5). Knobs (see each bench's doc comment):
#   BENCH_SPEED=2 BENCH_INTERVAL=15 BENCH_TASKS=100 BENCH_WARM=40   polling side by side
#   BENCH_SWEEP=1000,5000 BENCH_SWEEP_SECS=10                     polling: the full sweep
#   BENCH_SIZES=10000,100000                        store open/load and RSS
#   BENCH_LS_TASKS=100000 BENCH_LS_STORE=PATH       ls --json stages (PATH kept for perf)
#   BENCH_MB=512                                    download vs curl (and bucket)
#   SEEDANCE_TEST_POSTGRES=postgres://…             team: the PostgreSQL half
#                                                   (tests/support/pg_cluster.sh starts one)
set -eu
cd "$(dirname "$0")/.."
out="bench/results-$(date +%Y%m%d-%H%M%S).txt"
benches="frame idle store ls_json polling latency download batch"
# The benches that need a server or a tool run when it is there, and say so when not.
if command -v moto_server >/dev/null 2>&1; then benches="$benches bucket"
else echo "== bucket skipped: needs moto_server (pip install \"moto[server]\")" | tee -a "$out"; fi
if command -v ffmpeg >/dev/null 2>&1; then benches="$benches sheet"
else echo "== sheet skipped: needs ffmpeg" | tee -a "$out"; fi
# team: SQLite always; its PostgreSQL half needs SEEDANCE_TEST_POSTGRES (the bench says so).
benches="$benches team"
for b in $benches; do
  echo "== cargo bench --bench $b" | tee -a "$out"
  cargo bench --bench "$b" 2>/dev/null | tee -a "$out"
done
echo "results in $out"
