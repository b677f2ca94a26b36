#!/usr/bin/env sh
# Soak: SIGKILL `submit --wait` at random points for many rounds (default 200), then check that
# nothing was lost or sent twice and that cut downloads resume. Each run uses a new seed unless
# SEEDANCE_KILL_SEED is set; a failure prints the seed to reproduce it.
#   bench/soak_kill.sh [ROUNDS]
set -eu
cd "$(dirname "$0")/.."
ROUNDS="${1:-200}"
SEED="${SEEDANCE_KILL_SEED:-$(date +%s)}"
echo "soak: $ROUNDS rounds, seed $SEED"
SEEDANCE_KILL_ROUNDS="$ROUNDS" SEEDANCE_KILL_SEED="$SEED" \
  cargo test --release --test e2e sigkill:: -- --nocapture
